/**
 * Runs the deployable bundle (built by `wrangler deploy --dry-run`) straight on workerd through
 * Miniflare, listening on localhost, with the bindings wrangler.toml declares and in-memory
 * storage. Node-side tests and the benchmark drive it over real HTTP.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { WebhookEvent } from "./events";
import { WEBHOOK_SECRET } from "./settings";
import { signatureHeader } from "./sign";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Builds the worker exactly as `wrangler deploy` would bundle it; returns the script path. */
export function buildWorker(): string {
  const outdir = mkdtempSync(join(tmpdir(), "dsync-cache-build-"));
  execFileSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return join(outdir, "index.js");
}

export interface RunningWorker {
  url: URL;
  mf: Miniflare;
  dispose(): Promise<void>;
}

export async function startWorker(vars: Record<string, string>, scriptPath = buildWorker()): Promise<RunningWorker> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  const mf = new Miniflare({
    ...(workerOptions as object),
    modules: true,
    modulesRoot: dirname(scriptPath),
    scriptPath,
    bindings: { ...(workerOptions.bindings ?? {}), ...vars },
    host: "127.0.0.1",
    port: 0,
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = await mf.ready;
  return { url, mf, dispose: () => mf.dispose() };
}

/** POSTs an event to a running worker's webhook route, signed as WorkOS signs it. */
export async function postWebhook(worker: RunningWorker, e: WebhookEvent): Promise<Response> {
  const body = JSON.stringify(e);
  return fetch(new URL("/webhooks/workos", worker.url), {
    method: "POST",
    headers: { "Content-Type": "application/json", "WorkOS-Signature": await signatureHeader(body, WEBHOOK_SECRET) },
    body,
  });
}
