/** `npm run dev`: its defaults yield to the caller's flags, and the cache really starts. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_PORT, wranglerDevArgs } from "../../scripts/dev-args.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

let dev: ChildProcess | undefined;
afterAll(() => {
  // The whole process group: npm, the script, wrangler and workerd.
  if (dev?.pid) process.kill(-dev.pid, "SIGTERM");
});

describe("npm run dev -- --port <port>", () => {
  it("serves the cache on the caller's port with the committed dev settings", async () => {
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), "dsync-dev-state-"));
    let output = "";
    dev = spawn("npm", ["run", "dev", "--", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BROWSER: "none", CI: "1" },
    });
    dev.stdout?.on("data", (d) => {
      output += String(d);
    });
    dev.stderr?.on("data", (d) => {
      output += String(d);
    });
    const exited = new Promise<never>((_, reject) =>
      dev?.on("exit", (code) => reject(new Error(`npm run dev exited (${code}):\n${output}`))),
    );
    const up = (async () => {
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
        if (res?.ok) return res.json();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    expect(await Promise.race([up, exited])).toEqual({ status: "ok" });
    const list = await fetch(`http://127.0.0.1:${port}/directories`, {
      headers: { Authorization: "Bearer sk_dev_cache_reader" },
    });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { object: string }).object).toBe("list");
  });
});
