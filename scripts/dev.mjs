#!/usr/bin/env node
// Starts the cache locally: `wrangler dev` on port 8787 with embedded storage (.wrangler/state).
// Settings come from .dev.vars, or from the committed .dev.vars.example when there is none.
// Extra arguments go to wrangler and override these defaults, e.g. `npm run dev -- --port 8790`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { wranglerDevArgs } from "./dev-args.mjs";

const envFile = existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example";
console.log(`[dev] settings from ${envFile}`);
const child = spawn("wrangler", wranglerDevArgs(process.argv.slice(2), envFile), {
  stdio: "inherit",
  // No telemetry, and no fetch of the Request.cf placeholder (the cache does not use it).
  env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
  shell: process.platform === "win32",
});
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
