import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { RefusalReason } from "../schemas/keys";

/**
 * Counts of refused requests, kept per isolate and added to the keys object's totals by one
 * call at a time: a flood of bad keys costs that object one call per isolate in flight, never
 * one per request. Counts an isolate has not handed over yet are lost if it is evicted.
 */
let pending: Partial<Record<RefusalReason, number>> = {};
let sending = false;

export function countRefusal(c: Context<AppEnv>, reason: RefusalReason) {
  pending[reason] = (pending[reason] ?? 0) + 1;
  if (sending) return;
  sending = true;
  const keys = c.env.KEYS.getByName("keys");
  const flush = async () => {
    try {
      while (Object.keys(pending).length) {
        const counts = pending;
        pending = {};
        await keys.countRefusals(counts).catch(() => {
          for (const [r, n] of Object.entries(counts)) {
            const k = r as RefusalReason;
            pending[k] = (pending[k] ?? 0) + n;
          }
          throw new Error("refusal counts not handed over");
        });
      }
    } catch {
      // Kept in `pending` for the next refusal to hand over.
    } finally {
      sending = false;
    }
  };
  const done = flush();
  try {
    c.executionCtx.waitUntil(done);
  } catch {
    // No execution context (app.request in tests): the flush runs unawaited.
  }
}
