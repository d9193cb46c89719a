import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/** WorkOS allows 6,000 requests a minute per API key: one slot every 10 ms, account-wide. */
export const ACCOUNT_INTERVAL_MS = 10;

/**
 * The account-wide pace of upstream calls, shared by every isolate and directory writer:
 * each caller reserves the next free slot and waits until it comes.
 */
export class UpstreamGate extends DurableObject<Env> {
  private nextFree = 0;

  /** Milliseconds the caller must wait before sending its request. */
  async reserve(): Promise<number> {
    const now = Date.now();
    const at = Math.max(now, this.nextFree);
    this.nextFree = at + ACCOUNT_INTERVAL_MS;
    return at - now;
  }
}

/** A `pace` function for WorkOSClient that waits for the gate's slot. */
export function accountPace(env: Env): () => Promise<void> {
  return async () => {
    const wait = await env.UPSTREAM_GATE.getByName("account").reserve();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
}
