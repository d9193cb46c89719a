/** `npm run dev`: its defaults yield to the caller's flags, and the cache really starts. */
import { afterAll, describe, expect, it } from "vitest";
import { DEV_PORT, wranglerDevArgs } from "../../scripts/dev-args.mjs";
import { type DevServer, startDev } from "../support/dev-server";

const count = (args: string[], flag: string) => args.filter((a) => a === flag || a.startsWith(`${flag}=`)).length;

describe("the dev script's wrangler arguments", () => {
  it("passes its defaults when the caller gives none", () => {
    expect(wranglerDevArgs([], ".dev.vars.example")).toEqual([
      "dev",
      "--port",
      DEV_PORT,
      "--env-file",
      ".dev.vars.example",
    ]);
  });

  it("lets every caller flag replace its default, in either spelling", () => {
    for (const caller of [["--port", "8790"], ["--port=8790"]]) {
      const args = wranglerDevArgs(caller, ".dev.vars.example");
      expect(count(args, "--port"), caller.join(" ")).toBe(1);
      expect(args.join(" ")).toContain(caller.join(" "));
    }
    const args = wranglerDevArgs(["--env-file", "other.vars", "--var", "LOG_LEVEL:debug"], ".dev.vars");
    expect(count(args, "--env-file")).toBe(1);
    expect(args).toContain("other.vars");
    expect(args).toContain(DEV_PORT);
  });
});

let dev: DevServer | undefined;
afterAll(() => dev?.stop());

describe("npm run dev -- --port <port>", () => {
  it("serves the cache on the caller's port with the committed dev settings", async () => {
    dev = await startDev();
    expect(await (await fetch(`${dev.url}/health`)).json()).toEqual({ status: "ok" });
    const list = await fetch(`${dev.url}/directories`, {
      headers: { Authorization: "Bearer sk_dev_cache_reader" },
    });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { object: string }).object).toBe("list");
  });
});
