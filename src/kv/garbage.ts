import { log } from "../log";
import { type KvBudget, KvBudgetSpent } from "./budget";

/** A delete that failed is tried again this much later: collecting is never urgent. */
const RETRY_MS = 15 * 60 * 1000;

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

  /** Deletes what is due, within the budget; answers how many and when the next is due. */
  async collect(now: number, budget: KvBudget): Promise<{ deleted: number; next: number | null }> {
    const due = this.sql
      .exec<{ key: string }>("SELECT key FROM outbox_garbage WHERE at <= ? LIMIT ?", now, Math.max(0, budget.left))
      .toArray();
    let deleted = 0;
    for (const { key } of due) {
      try {
        budget.take();
        await this.kv.delete(key);
        this.keep(key);
        deleted += 1;
      } catch (err) {
        if (err instanceof KvBudgetSpent) break;
        // Try this one again later, with the rest going on.
        this.sql.exec("UPDATE outbox_garbage SET at = ? WHERE key = ?", now + RETRY_MS, key);
        log.warn("kv garbage delete failed", { error: String(err).slice(0, 300) });
      }
    }
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM outbox_garbage").one().at;
    return { deleted, next: next === null ? null : Number(next) };
  }
}
