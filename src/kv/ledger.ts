import type { FlushReport } from "../schemas/ops";
import type { KvBudget } from "./budget";
import { fnv64 } from "./keys";

/** KV allows one write a second per key; the outbox keeps every key under that. */
export const SAME_KEY_INTERVAL_MS = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_written (key TEXT PRIMARY KEY, hash TEXT NOT NULL, at INTEGER NOT NULL, size INTEGER NOT NULL DEFAULT 0);
`;

export interface LastWrite {
  hash: string;
  at: number;
  size: number;
}

/**
 * What was last written to each KV key an object owns, and when that write finished: a value
 * KV already holds is not written again, and the next write to a key is spaced from this one.
 */
export class WriteLedger {
  /** Same-key writes under a second, since the object started (instrumentation; stays 0). */
  tooSoonTotal = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly kv: KVNamespace,
  ) {
    sql.exec(SCHEMA);
  }

  last(key: string): LastWrite | null {
    return (
      this.sql
        .exec<{ hash: string; at: number; size: number }>(
          "SELECT hash, at, size FROM outbox_written WHERE key = ?",
          key,
        )
        .toArray()[0] ?? null
    );
  }

  /** Puts `value` unless KV already holds it; `size` (entries, for a manifest) paces the next. */
  async put(
    key: string,
    value: string,
    clock: () => number,
    budget: KvBudget,
    report: FlushReport,
    opts: { expirationTtl?: number; size?: number } = {},
  ): Promise<void> {
    const hash = fnv64(value);
    const last = this.last(key);
    if (last?.hash === hash) return;
    budget.take();
    const sentAt = clock();
    await this.kv.put(key, value, opts.expirationTtl ? { expirationTtl: opts.expirationTtl } : undefined);
    this.record(key, last, hash, sentAt, clock(), report, opts.size);
    report.written += 1;
  }

  async delete(key: string, clock: () => number, budget: KvBudget, report: FlushReport): Promise<void> {
    const last = this.last(key);
    if (last?.hash === "") return;
    budget.take();
    const sentAt = clock();
    await this.kv.delete(key);
    this.record(key, last, "", sentAt, clock(), report);
    report.deleted += 1;
  }

  /** Records a call made for `key` (no KV write): the next is spaced from it as a write would be. */
  ran(key: string, at: number) {
    this.sql.exec(
      `INSERT INTO outbox_written (key, hash, at) VALUES (?, '', ?) ON CONFLICT (key) DO UPDATE SET at = excluded.at`,
      key,
      at,
    );
  }

  /**
   * Records a write that was sent at `sentAt` and finished at `doneAt` (on the flush's clock), after
   * `last` (read before it was sent: one flush writes a key once, so nothing wrote it meanwhile).
   * The next write to the key is spaced from when this one finished; the instrumentation counts
   * a write sent less than a second after the previous one to its key finished.
   */
  private record(
    key: string,
    last: LastWrite | null,
    hash: string,
    sentAt: number,
    doneAt: number,
    report: FlushReport,
    size = 0,
  ) {
    if (last && sentAt - last.at < SAME_KEY_INTERVAL_MS) {
      report.tooSoon += 1;
      this.tooSoonTotal += 1;
    }
    this.sql.exec(
      `INSERT INTO outbox_written (key, hash, at, size) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET hash = excluded.hash, at = excluded.at, size = excluded.size`,
      key,
      hash,
      doneAt,
      size,
    );
  }
}
