import { log } from "../log";
import type { KvBudget } from "./budget";

/** A delete that failed is tried again this much later: collecting is never urgent. */
const RETRY_MS = 15 * 60 * 1000;
/** Deletes sent together by one collection (a flush's share; the rest wait for the next). */
const MAX_PER_COLLECT = 25;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_garbage (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_garbage_by_at ON outbox_garbage (at);
`;

/** KV keys an object no longer names (superseded index chunks), deleted once their time comes. */
export class GarbageCollector {
  constructor(
    private readonly sql: SqlStorage,
    private readonly kv: KVNamespace,
  ) {
    sql.exec(SCHEMA);
  }

  /** Deletes `key` at `at` (unless it is kept again before then). */
  schedule(key: string, at: number) {
    this.sql.exec("INSERT OR IGNORE INTO outbox_garbage (key, at) VALUES (?, ?)", key, at);
  }

  /** The key is named again: it stays. */
  keep(key: string) {
    this.sql.exec("DELETE FROM outbox_garbage WHERE key = ?", key);
  }

  /**
   * Deletes what is due, within the budget and at most MAX_PER_COLLECT at once, in parallel: a
   * flush collects after its writes, and a backlog of superseded chunks (a big backfill leaves
   * hundreds) deleted one by one held back the next flush for seconds. Answers how many were
   * deleted and when the next is due.
   */
  async collect(now: number, budget: KvBudget): Promise<{ deleted: number; next: number | null }> {
    const due = this.sql
      .exec<{ key: string }>(
        "SELECT key FROM outbox_garbage WHERE at <= ? LIMIT ?",
        now,
        Math.max(0, Math.min(budget.left, MAX_PER_COLLECT)),
      )
      .toArray();
    for (const _ of due) budget.take();
    const results = await Promise.allSettled(due.map(({ key }) => this.kv.delete(key)));
    let deleted = 0;
    results.forEach((result, i) => {
      const key = (due[i] as { key: string }).key;
      if (result.status === "fulfilled") {
        this.keep(key);
        deleted += 1;
        return;
      }
      // Try this one again later, with the rest going on.
      this.sql.exec("UPDATE outbox_garbage SET at = ? WHERE key = ?", now + RETRY_MS, key);
      log.warn("kv garbage delete failed", { error: String(result.reason).slice(0, 300) });
    });
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM outbox_garbage").one().at;
    return { deleted, next: next === null ? null : Number(next) };
  }
}
