import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { UpstreamError } from "./client";

/** WorkOS allows 6,000 requests a minute per API key: one slot every 10 ms, account-wide. */
export const ACCOUNT_INTERVAL_MS = 10;

/** How long an interactive read may wait for a slot, and a crawl (which backs off when refused). */
export const READ_MAX_WAIT_MS = 1_000;
export const CRAWL_MAX_WAIT_MS = 5_000;

/**
 * The account-wide pace of upstream calls, shared by every isolate and directory writer:
 * each caller reserves the next free slot and waits until it comes. The queue is bounded by
 * what callers accept to wait: one whose slot would come later than its `maxWaitMs` is refused
 * (and takes no slot), so a flood of read-through misses cannot stall every crawl and read.
 */
export class UpstreamGate extends DurableObject<Env> {
  private nextFree = 0;

  /** Milliseconds the caller must wait before sending its request, or null if over `maxWaitMs`. */
  async reserve(maxWaitMs = CRAWL_MAX_WAIT_MS): Promise<number | null> {
    const now = Date.now();
    const at = Math.max(now, this.nextFree);
    if (at - now > maxWaitMs) return null;
    this.nextFree = at + ACCOUNT_INTERVAL_MS;
    return at - now;
  }
}

/**
 * A `pace` function for WorkOSClient that waits for the gate's slot; with none within
 * `maxWaitMs` it fails at once, as WorkOS unreachable would (a read answers 503, a crawl backs off).
 */
export function accountPace(env: Env, maxWaitMs: number): () => Promise<void> {
  return async () => {
    const wait = await env.UPSTREAM_GATE.getByName("account").reserve(maxWaitMs);
    if (wait === null) throw new UpstreamError(null, null, `no WorkOS request slot free within ${maxWaitMs} ms`);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
}
