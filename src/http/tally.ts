import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { Env } from "../env";

/**
 * Counts kept per isolate and handed to a Durable Object by one call at a time: a flood of
 * counted requests costs that object one call per isolate in flight, never one per request.
 * Counts an isolate has not handed over yet are lost if it is evicted.
 */
export class Tally<K extends string> {
  private pending: Partial<Record<K, number>> = {};
  private sending = false;

  constructor(private readonly send: (env: Env, counts: Partial<Record<K, number>>) => Promise<void>) {}

  count(c: Context<AppEnv>, key: K) {
    this.pending[key] = (this.pending[key] ?? 0) + 1;
    if (this.sending) return;
    this.sending = true;
    const done = this.flush(c.env);
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // No execution context (app.request in tests): the flush runs unawaited.
    }
  }

  private async flush(env: Env) {
    try {
      while (Object.keys(this.pending).length) {
        const counts = this.pending;
        this.pending = {};
        await this.send(env, counts).catch(() => {
          for (const [k, n] of Object.entries(counts) as [K, number][]) this.pending[k] = (this.pending[k] ?? 0) + n;
          throw new Error("counts not handed over");
        });
      }
    } catch {
      // Kept in `pending` for the next count to hand over.
    } finally {
      this.sending = false;
    }
  }
}
