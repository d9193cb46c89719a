import { log } from "../log";
import type { OutboxFailures } from "../schemas/ops";
import { fnv64 } from "./keys";

/** A failed write is retried after this, doubling with each attempt. */
export const FIRST_RETRY_MS = 5000;
/**
 * After PARK_AFTER_ATTEMPTS a write is parked: reported in the writer's status and retried only
 * every PARKED_RETRY_MS (or at once when its record changes again), so a write that can never
 * succeed costs almost nothing, and none is ever dropped.
 */
const PARK_AFTER_ATTEMPTS = 6;
const PARKED_RETRY_MS = 15 * 60 * 1000;
/** How many failing writes a status lists (the count covers them all). */
const FAILURES_LISTED = 10;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_failed (mark TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, since INTEGER NOT NULL, error TEXT NOT NULL);
`;

/** The outbox's failed writes: each one's attempts, backoff and error, for retries and status. */
export class WriteFailures {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /**
   * Records a failed write of the mark as of `seq` and answers when to try it next. A write
   * failing again after its record changed starts its count afresh.
   */
  record(mark: string, seq: number, err: unknown, now: number): number {
    const prev = this.sql
      .exec<{ attempts: number; since: number; seq: number }>(
        "SELECT attempts, since, seq FROM outbox_failed WHERE mark = ?",
        mark,
      )
      .toArray()[0];
    const again = prev !== undefined && Number(prev.seq) === seq;
    const attempts = again ? Number(prev.attempts) + 1 : 1;
    const parked = attempts >= PARK_AFTER_ATTEMPTS;
    const next = now + (parked ? PARKED_RETRY_MS : FIRST_RETRY_MS * 2 ** (attempts - 1));
    // The error as KV worded it, bounded; it names no value, only the operation and status.
    const error = String(err instanceof Error ? err.message : err).slice(0, 300);
    this.sql.exec(
      `INSERT INTO outbox_failed (mark, seq, attempts, next_at, since, error) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (mark) DO UPDATE SET seq = excluded.seq, attempts = excluded.attempts,
         next_at = excluded.next_at, error = excluded.error`,
      mark,
      seq,
      attempts,
      next,
      again ? Number(prev.since) : now,
      error,
    );
    const fields = { write: describeMark(mark), attempts: String(attempts), error };
    if (attempts === PARK_AFTER_ATTEMPTS) log.error("kv write parked", fields);
    else if (!parked) log.warn("kv write failed", fields);
    return next;
  }

  /** The mark was written. */
  clear(mark: string) {
    this.sql.exec("DELETE FROM outbox_failed WHERE mark = ?", mark);
  }

  /** Writes that failed and wait to be retried; `parked` ones failed PARK_AFTER_ATTEMPTS times or more. */
  report(): OutboxFailures {
    const counts = this.sql
      .exec<{ retrying: number | null; parked: number | null }>(
        "SELECT SUM(attempts < ?1) AS retrying, SUM(attempts >= ?1) AS parked FROM outbox_failed",
        PARK_AFTER_ATTEMPTS,
      )
      .one();
    const rows = this.sql
      .exec<{ mark: string; attempts: number; next_at: number; since: number; error: string }>(
        "SELECT mark, attempts, next_at, since, error FROM outbox_failed ORDER BY since LIMIT ?",
        FAILURES_LISTED,
      )
      .toArray();
    return {
      retrying: Number(counts.retrying ?? 0),
      parked: Number(counts.parked ?? 0),
      oldest: rows.map((r) => ({
        write: describeMark(r.mark),
        attempts: Number(r.attempts),
        parked: Number(r.attempts) >= PARK_AFTER_ATTEMPTS,
        since: new Date(Number(r.since)).toISOString(),
        nextAttempt: new Date(Number(r.next_at)).toISOString(),
        error: r.error,
      })),
    };
  }
}

/** What a status or a log line may say about a mark: lookup values (emails, IdP ids) are hashed. */
function describeMark(mark: string): string {
  for (const prefix of ["email:", "idp:"]) {
    if (mark.startsWith(prefix)) return `${prefix}#${fnv64(mark.slice(prefix.length))}`;
  }
  return mark.length > 120 ? `${mark.slice(0, 100)}…#${fnv64(mark)}` : mark;
}
