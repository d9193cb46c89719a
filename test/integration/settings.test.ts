import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { loadConfig } from "../../src/config";
import { READ_KEY } from "../support/settings";

const read = (over: Partial<typeof env>) =>
  app.request("/directories", { headers: { Authorization: `Bearer ${READ_KEY}` } }, { ...env, ...over });

describe("settings", () => {
  it("parses comma-separated keys and secrets, trimming blanks", () => {
    const result = loadConfig({
      ...env,
      API_KEYS: " a , b ",
      WORKOS_WEBHOOK_SECRET: "s1,s2",
      WEBHOOK_TOLERANCE_SECONDS: "300",
    });
    expect(result).toMatchObject({
      ok: true,
      config: { apiKeys: ["a", "b"], webhookSecrets: ["s1", "s2"], webhookToleranceMs: 300_000 },
    });
  });

  it("turns the change feed off with CHANGE_FEED=off: GET /events is a clear 503", async () => {
    const res = await app.request(
      "/events",
      { headers: { Authorization: `Bearer ${READ_KEY}` } },
      { ...env, CHANGE_FEED: "off" },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "feed_disabled" });
    expect(loadConfig({ ...env, CHANGE_FEED: "maybe" })).toMatchObject({ ok: false });
  });

  it("fails closed: without API_KEYS every read is refused with a JSON 503", async () => {
    for (const API_KEYS of [undefined, ""]) {
      const res = await read({ API_KEYS });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ code: "not_configured" });
    }
  });

  it("reports a malformed setting by name and rule, never by value", async () => {
    const cases: [Partial<typeof env>, string][] = [
      [{ API_KEYS: "sk_secret_value,,other" }, "API_KEYS"],
      [{ API_KEYS: "sk_secret_value with space" }, "API_KEYS"],
      [{ WORKOS_WEBHOOK_SECRET: "whsec_secret_value," }, "WORKOS_WEBHOOK_SECRET"],
      [{ WEBHOOK_TOLERANCE_SECONDS: "soon" }, "WEBHOOK_TOLERANCE_SECONDS"],
      [{ WEBHOOK_TOLERANCE_SECONDS: "0" }, "WEBHOOK_TOLERANCE_SECONDS"],
    ];
    for (const [over, name] of cases) {
      const res = await read(over);
      expect(res.status, name).toBe(503);
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_configuration");
      expect(body.message).toContain(name);
      expect(body.message).not.toMatch(/secret_value|soon/);
    }
  });
});
