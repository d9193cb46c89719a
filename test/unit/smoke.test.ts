import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers unknown paths with a JSON 404 and a request id", async () => {
  const res = await exports.default.fetch("http://cache/nope");
  expect(res.status).toBe(404);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  expect(await res.json()).toEqual({ message: "Not Found", code: "not_found" });
});
