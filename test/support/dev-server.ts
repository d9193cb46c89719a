/**
 * `npm run dev` as a developer runs it, on a free port with its own embedded storage, for the
 * Node-side tests that need the worker under `wrangler dev` (the dev script's test, the
 * console's browser test).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./server";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface DevServer {
  url: string;
  /** Everything npm, wrangler and workerd printed so far. */
  output(): string;
  /** Stops the whole process group: npm, the script, wrangler and workerd. */
  stop(): void;
}

/** Starts `npm run dev -- <args>` on a free port and waits until /health answers 200. */
export async function startDev(args: string[] = []): Promise<DevServer> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "dsync-dev-state-"));
  let output = "";
  const dev: ChildProcess = spawn(
    "npm",
    ["run", "dev", "--", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, ...args],
    { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BROWSER: "none", CI: "1" } },
  );
  dev.stdout?.on("data", (d) => {
    output += String(d);
  });
  dev.stderr?.on("data", (d) => {
    output += String(d);
  });
  const url = `http://127.0.0.1:${port}`;
  const server: DevServer = {
    url,
    output: () => output,
    stop: () => {
      if (dev.pid && dev.exitCode === null) process.kill(-dev.pid, "SIGTERM");
    },
  };
  const exited = new Promise<never>((_, reject) =>
    dev.on("exit", (code) => reject(new Error(`npm run dev exited (${code}):\n${output}`))),
  );
  const up = (async () => {
    for (;;) {
      const res = await fetch(`${url}/health`).catch(() => null);
      if (res?.ok) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    await Promise.race([up, exited]);
  } catch (err) {
    server.stop();
    throw err;
  }
  return server;
}
