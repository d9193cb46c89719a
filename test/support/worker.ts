/** Helpers for tests running inside workerd (the vitest pool): real KV, real Durable Objects. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { app } from "../../src/app";
import worker from "../../src/index";
import { answerTier, memoryTier } from "../../src/read/memory-tier";
import { decoded, type WebhookEvent } from "./events";
import { READ_KEY, WEBHOOK_SECRET } from "./settings";
import { signatureHeader } from "./sign";

/** A response's JSON body, typed as the test expects it. */
export const json = async <T>(res: Response) => (await res.json()) as T;

/** POSTs a signed webhook to the worker, as WorkOS would. */
export async function deliver(
  body: WebhookEvent | string,
  opts: { secret?: string; t?: number; header?: string } = {},
): Promise<Response> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const header = opts.header ?? (await signatureHeader(raw, opts.secret ?? WEBHOOK_SECRET, opts.t));
  return exports.default.fetch("http://cache/webhooks/workos", {
    method: "POST",
    headers: { "Content-Type": "application/json", "WorkOS-Signature": header },
    body: raw,
  });
}

/**
 * The worker's fetch handler called in this isolate with a fresh execution context, for tests
 * sending thousands of requests: the harness's loopback (`exports.default.fetch`) gets slower
 * with every call it has carried in a test (10 ms each at first, 100 ms after 600).
 */
export async function handle(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Delivers events one after another, failing on any non-2xx. */
export async function deliverAll(events: WebhookEvent[]) {
  for (const e of events) {
    const res = await deliver(e);
    if (!res.ok) throw new Error(`${e.event} ${e.id}: ${res.status} ${await res.text()}`);
  }
}

/** Applies events straight to the directory writer (bulk loading for read tests). */
export async function applyAll(directoryId: string, events: WebhookEvent[]) {
  const stub = env.DIRECTORY.getByName(directoryId);
  for (let i = 0; i < events.length; i += 500) await stub.applyBatch(events.slice(i, i + 500).map(decoded));
}

let clock = Date.now();

/**
 * Flushes the writers' pending KV writes to completion on a simulated clock (each round a
 * little over a second later, as the once-a-second rule needs) instead of waiting in real time.
 */
export async function settle(...directoryIds: string[]) {
  await flushWriters(...directoryIds);
  // What an isolate remembered may now be stale (for up to MAX_AGE_MS): start afresh.
  forgetReads();
}

/** As settle, but keeps what this isolate's memory tier remembers (as a live isolate would). */
export async function flushWriters(...directoryIds: string[]) {
  const stubs = [...directoryIds.map((id) => env.DIRECTORY.getByName(id)), env.REGISTRY.getByName("registry")];
  clock = Math.max(clock, Date.now()) + 1100;
  for (let round = 0; round < 200; round++) {
    const reports = [];
    for (const stub of stubs) reports.push(await stub.flushKv(clock));
    if (reports.every((r) => r.pending === 0)) return;
    clock += 1100;
  }
  throw new Error("writers did not settle");
}

/** A KV binding that counts the operations made through it (a bulk get counts once). */
export function countingKv(kv: KVNamespace) {
  const counter = { ops: 0, calls: [] as string[] };
  const wrapped = new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        counter.ops += 1;
        counter.calls.push(`${String(prop)}(${Array.isArray(args[0]) ? `${args[0].length} keys` : String(args[0])})`);
        return value.apply(target, args);
      };
    },
  });
  return { kv: wrapped, counter };
}

/**
 * A GET against the app with a counting KV binding, on the cold path (empty memory tier);
 * returns the response and the KV operations it made.
 */
export async function metered(path: string, key = READ_KEY) {
  forgetReads();
  const { kv, counter } = countingKv(env.CACHE);
  const res = await app.request(path, { headers: { Authorization: `Bearer ${key}` } }, { ...env, CACHE: kv });
  return { res, ops: counter.ops, calls: counter.calls };
}

/** A GET through the worker's own fetch handler. */
export function get(path: string, key: string | null = READ_KEY, headers: Record<string, string> = {}) {
  return exports.default.fetch(`http://cache${path}`, {
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers },
  });
}

/** Empties the isolate's memory of reads, as if its staleness bound had passed. */
export function forgetReads() {
  memoryTier.clear();
  answerTier.clear();
}
