import { log } from "../log";
import type { FlushReport, OutboxFailures } from "../schemas/ops";
import { type Manifest, splitIntoChunks } from "./chunks";

export type { FlushReport };

import { fnv64, kvKeys } from "./keys";

/** What a dirty mark turns into when it is flushed. */
export type KvWrite =
  | {
      kind: "put";
      key: string;
      value: string;
      expirationTtl?: number /** entries, for an index manifest */;
      size?: number;
    }
  | { kind: "delete"; key: string }
  | { kind: "index"; key: string; sortKeys: readonly string[] }
  | { kind: "call"; key: string; run: () => Promise<void> };

/** KV allows one write a second per key; the outbox keeps every key under that. */
export const SAME_KEY_INTERVAL_MS = 1000;
/**
 * Rebuilding a list index costs time in proportion to its size, so a big index is rewritten at
 * most once per (size x this): during a flood the rebuild work per second stays constant
 * (a 100k-user directory's list updates every 10 s), while small lists keep the 1 s pace.
 */
export const INDEX_MS_PER_ENTRY = 0.1;
/** Superseded chunks stay readable this long, for readers holding an older manifest. */
export const CHUNK_GRACE_MS = 10 * 60 * 1000;
/** Bounded work per flush: KV allows 1,000 operations per invocation. */
const MAX_MARKS_PER_FLUSH = 200;
const MAX_WRITES_PER_FLUSH = 600;
const PARALLEL_WRITES = 25;
/** After a failed flush, try again this much later (the marks stay until written). */
const FLUSH_RETRY_MS = 5000;
/**
 * A write that fails is retried on its own, with exponential backoff from FLUSH_RETRY_MS, while
 * every other write goes on. After PARK_AFTER_ATTEMPTS it is parked: reported in the writer's
 * status and retried only every PARKED_RETRY_MS (or at once when its record changes again), so
 * a write that can never succeed costs almost nothing, and none is ever dropped.
 */
const PARK_AFTER_ATTEMPTS = 6;
const PARKED_RETRY_MS = 15 * 60 * 1000;
/** How many failing writes a status lists (the count covers them all). */
const FAILURES_LISTED = 10;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_dirty (mark TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_dirty_by_seq ON outbox_dirty (seq);
CREATE TABLE IF NOT EXISTS outbox_written (key TEXT PRIMARY KEY, hash TEXT NOT NULL, at INTEGER NOT NULL, size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox_chunks (index_key TEXT NOT NULL, chunk_key TEXT NOT NULL, PRIMARY KEY (index_key, chunk_key));
CREATE TABLE IF NOT EXISTS outbox_garbage (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_garbage_by_at ON outbox_garbage (at);
CREATE TABLE IF NOT EXISTS outbox_failed (mark TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, since INTEGER NOT NULL, error TEXT NOT NULL);
`;

/**
 * The only path from a Durable Object's state to KV. Marks are recorded in the same
 * transaction as the change that caused them; `flush` turns them into writes later, from a
 * single caller (the object's alarm), so KV never sees concurrent writers for a key.
 */
export class Outbox {
  private seq: number;
  /** Flushes run one after another, never interleaved (a single writer per key, per object). */
  private running: Promise<unknown> = Promise.resolve();
  /** Same-key writes under a second, since the object started (instrumentation; stays 0). */
  tooSoonTotal = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly kv: KVNamespace,
  ) {
    sql.exec(SCHEMA);
    const row = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM outbox_dirty").toArray()[0];
    this.seq = Number(row?.s ?? 0);
  }

  mark(mark: string) {
    this.seq += 1;
    this.sql.exec(
      "INSERT INTO outbox_dirty (mark, seq) VALUES (?, ?) ON CONFLICT (mark) DO UPDATE SET seq = excluded.seq",
      mark,
      this.seq,
    );
  }

  /** Writes that failed and wait to be retried; `parked` ones failed PARK_AFTER_ATTEMPTS times or more. */
  failures(): OutboxFailures {
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

  pending(): number {
    return Number(this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox_dirty").one().n);
  }

  /**
   * Writes what is due. `keyOf` names the KV key a mark rewrites (checked against the
   * once-a-second rule before any work); `materialize` reads the current state for it.
   */
  flush(now: number, keyOf: (mark: string) => string, materialize: (mark: string) => KvWrite): Promise<FlushReport> {
    const run = this.running.then(() => this.flushOnce(now, keyOf, materialize));
    this.running = run.catch(() => undefined);
    return run;
  }

  /**
   * A flush as an object's alarm runs it: writes what is due, then sets the alarm for what is
   * left. A failure is logged and retried later, never thrown: alarm retries are capped, and the
   * marks must outlive them.
   */
  async flushAndSchedule(
    storage: DurableObjectStorage,
    now: number,
    keyOf: (mark: string) => string,
    materialize: (mark: string) => KvWrite,
    context: Record<string, string>,
  ): Promise<FlushReport> {
    try {
      const report = await this.flush(now, keyOf, materialize);
      if (report.next !== null) await scheduleAlarm(storage, report.next);
      return report;
    } catch (err) {
      log.error("kv flush failed", { ...context, error: String(err) });
      await scheduleAlarm(storage, now + FLUSH_RETRY_MS);
      return { written: 0, deleted: 0, next: now + FLUSH_RETRY_MS, tooSoon: 0, pending: this.pending() };
    }
  }

  private async flushOnce(
    now: number,
    keyOf: (mark: string) => string,
    materialize: (mark: string) => KvWrite,
  ): Promise<FlushReport> {
    const report: FlushReport = { written: 0, deleted: 0, next: null, tooSoon: 0, pending: 0 };
    // The flush's clock: `now` as the caller gives it (real, or simulated in tests) plus the real
    // time this flush has taken, so each write is recorded when it was really sent and finished.
    const started = Date.now();
    const clock = () => now + (Date.now() - started);
    const soonest = (t: number) => {
      report.next = report.next === null ? t : Math.min(report.next, t);
    };
    // Marks whose write failed wait out their backoff without taking a place in this flush,
    // unless their record changed since (marked again: a new write, tried at once).
    const marks = this.sql
      .exec<{ mark: string; seq: number; failed: number }>(
        `SELECT d.mark, d.seq, f.mark IS NOT NULL AS failed FROM outbox_dirty d
         LEFT JOIN outbox_failed f ON f.mark = d.mark
         WHERE f.mark IS NULL OR f.next_at <= ? OR d.seq > f.seq ORDER BY d.seq LIMIT ?`,
        now,
        MAX_MARKS_PER_FLUSH,
      )
      .toArray();
    const due: { mark: string; seq: number; failed: number; write: KvWrite }[] = [];
    for (const { mark, seq, failed } of marks) {
      let write: KvWrite;
      try {
        const last = this.lastWrite(keyOf(mark));
        const interval = Math.max(SAME_KEY_INTERVAL_MS, Math.ceil((last?.size ?? 0) * INDEX_MS_PER_ENTRY));
        if (last && now - last.at < interval) {
          soonest(last.at + interval);
          continue;
        }
        write = materialize(mark);
      } catch (err) {
        soonest(this.failed(mark, seq, err, now));
        continue;
      }
      due.push({ mark, seq, failed, write });
    }
    // Entities first, then chunks, then the manifests that point at them: within a location,
    // a reader that sees a new manifest finds its chunks and records already there. Within a
    // rank, writes go out in parallel batches (each key appears once per flush).
    const rank = (w: KvWrite) => (w.kind === "index" ? 1 : w.kind === "call" ? 2 : 0);
    let budget = MAX_WRITES_PER_FLUSH;
    for (const r of [0, 1, 2]) {
      const items = due.filter((d) => rank(d.write) === r);
      for (let i = 0; i < items.length; i += PARALLEL_WRITES) {
        if (budget <= 0) {
          soonest(now);
          break;
        }
        const batch = items.slice(i, i + PARALLEL_WRITES);
        // Each write succeeds or fails on its own: one that KV refuses never holds back the rest.
        const results = await Promise.allSettled(batch.map((item) => this.perform(item.write, clock, report)));
        batch.forEach((item, j) => {
          const result = results[j] as PromiseSettledResult<number>;
          if (result.status === "rejected") {
            budget -= 1;
            soonest(this.failed(item.mark, item.seq, result.reason, now));
            return;
          }
          budget -= result.value;
          this.sql.exec("DELETE FROM outbox_dirty WHERE mark = ? AND seq = ?", item.mark, item.seq);
          if (item.failed) this.sql.exec("DELETE FROM outbox_failed WHERE mark = ?", item.mark);
        });
      }
    }
    if (marks.length === MAX_MARKS_PER_FLUSH) soonest(now);
    // Failed writes waiting out their backoff need a flush when it ends.
    const retry = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(f.next_at) AS at FROM outbox_failed f JOIN outbox_dirty d ON d.mark = f.mark WHERE f.next_at > ?",
        now,
      )
      .one().at;
    if (retry !== null) soonest(Number(retry));
    const collected = await this.collectGarbage(now, Math.max(0, budget));
    report.deleted += collected.deleted;
    if (collected.next !== null) soonest(collected.next);
    report.pending = this.pending();
    return report;
  }

  /**
   * Records a failed write of the mark as of `seq` and when to try it next (returned). A write
   * failing again after its record changed starts its count afresh.
   */
  private failed(mark: string, seq: number, err: unknown, now: number): number {
    const prev = this.sql
      .exec<{ attempts: number; since: number; seq: number }>(
        "SELECT attempts, since, seq FROM outbox_failed WHERE mark = ?",
        mark,
      )
      .toArray()[0];
    const again = prev !== undefined && Number(prev.seq) === seq;
    const attempts = again ? Number(prev.attempts) + 1 : 1;
    const parked = attempts >= PARK_AFTER_ATTEMPTS;
    const next = now + (parked ? PARKED_RETRY_MS : FLUSH_RETRY_MS * 2 ** (attempts - 1));
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

  private lastWrite(key: string): { hash: string; at: number; size: number } | null {
    return (
      this.sql
        .exec<{ hash: string; at: number; size: number }>(
          "SELECT hash, at, size FROM outbox_written WHERE key = ?",
          key,
        )
        .toArray()[0] ?? null
    );
  }

  /**
   * Records a write that was sent at `sentAt` and finished at `doneAt` (on the flush's clock).
   * The next write to the key is spaced from when this one finished; the instrumentation counts
   * a write sent less than a second after the previous one to its key finished.
   */
  private recordWrite(key: string, hash: string, sentAt: number, doneAt: number, report: FlushReport, size = 0) {
    const last = this.lastWrite(key);
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

  /** Performs one write unless KV already holds that value; returns KV operations used. */
  private async perform(w: KvWrite, clock: () => number, report: FlushReport): Promise<number> {
    switch (w.kind) {
      case "call":
        await w.run();
        return 1;
      case "delete": {
        if (this.lastWrite(w.key)?.hash === "") return 0;
        const sentAt = clock();
        await this.kv.delete(w.key);
        this.recordWrite(w.key, "", sentAt, clock(), report);
        report.deleted += 1;
        return 1;
      }
      case "put": {
        const hash = fnv64(w.value);
        if (this.lastWrite(w.key)?.hash === hash) return 0;
        const sentAt = clock();
        await this.kv.put(w.key, w.value, w.expirationTtl ? { expirationTtl: w.expirationTtl } : undefined);
        this.recordWrite(w.key, hash, sentAt, clock(), report, w.size);
        report.written += 1;
        return 1;
      }
      case "index":
        return this.writeIndex(w.key, w.sortKeys, clock, report);
    }
  }

  private async writeIndex(
    key: string,
    sortKeys: readonly string[],
    clock: () => number,
    report: FlushReport,
  ): Promise<number> {
    const manifest: Manifest = { n: sortKeys.length, c: [] };
    const live = new Set<string>();
    let ops = 0;
    for (const chunk of splitIntoChunks(sortKeys)) {
      const body = JSON.stringify(chunk);
      const hash = fnv64(body);
      const chunkKey = kvKeys.chunk(key, hash);
      manifest.c.push([hash, chunk.length, chunk[0] as string]);
      live.add(chunkKey);
      const known =
        this.sql.exec("SELECT 1 FROM outbox_chunks WHERE index_key = ? AND chunk_key = ?", key, chunkKey).toArray()
          .length > 0;
      this.sql.exec("DELETE FROM outbox_garbage WHERE key = ?", chunkKey);
      if (known) continue;
      await this.kv.put(chunkKey, body);
      this.sql.exec("INSERT OR IGNORE INTO outbox_chunks (index_key, chunk_key) VALUES (?, ?)", key, chunkKey);
      report.written += 1;
      ops += 1;
    }
    ops += await this.perform(
      { kind: "put", key, value: JSON.stringify(manifest), size: sortKeys.length },
      clock,
      report,
    );
    this.retire(key, live, clock());
    return ops;
  }

  /** Schedules chunks no longer named by the index's manifest for deletion after the grace period. */
  private retire(indexKey: string, live: Set<string>, now: number) {
    const known = this.sql
      .exec<{ chunk_key: string }>("SELECT chunk_key FROM outbox_chunks WHERE index_key = ?", indexKey)
      .toArray();
    for (const { chunk_key } of known) {
      if (live.has(chunk_key)) continue;
      this.sql.exec("DELETE FROM outbox_chunks WHERE index_key = ? AND chunk_key = ?", indexKey, chunk_key);
      this.sql.exec("INSERT OR IGNORE INTO outbox_garbage (key, at) VALUES (?, ?)", chunk_key, now + CHUNK_GRACE_MS);
    }
  }

  private async collectGarbage(now: number, budget: number): Promise<{ deleted: number; next: number | null }> {
    const due = this.sql
      .exec<{ key: string }>("SELECT key FROM outbox_garbage WHERE at <= ? LIMIT ?", now, budget)
      .toArray();
    let deleted = 0;
    for (const { key } of due) {
      try {
        await this.kv.delete(key);
        this.sql.exec("DELETE FROM outbox_garbage WHERE key = ?", key);
        deleted += 1;
      } catch (err) {
        // Collecting is never urgent: try this one again later, with the rest going on.
        this.sql.exec("UPDATE outbox_garbage SET at = ? WHERE key = ?", now + PARKED_RETRY_MS, key);
        log.warn("kv garbage delete failed", { error: String(err).slice(0, 300) });
      }
    }
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM outbox_garbage").one().at;
    return { deleted, next: next === null ? null : Number(next) };
  }
}

/** What a status or a log line may say about a mark: lookup values (emails, IdP ids) are hashed. */
function describeMark(mark: string): string {
  for (const prefix of ["email:", "idp:"]) {
    if (mark.startsWith(prefix)) return `${prefix}#${fnv64(mark.slice(prefix.length))}`;
  }
  return mark.length > 120 ? `${mark.slice(0, 100)}…#${fnv64(mark)}` : mark;
}

/**
 * Sets the object's alarm for `at` unless one is already due sooner.
 *
 * The time is a whole millisecond after now: an alarm handler that re-set the alarm to the
 * millisecond it was itself scheduled for lost it (the runtime clears that alarm when the
 * handler returns), and a writer stopped flushing for good. The last alarm set is remembered
 * per storage (an object's own memory) so a flood of events does not read storage for it each
 * time, but only while that alarm is still in the future: one that is due or past is checked
 * against storage, so an alarm that did not survive can never silence the object.
 */
const alarms = new WeakMap<DurableObjectStorage, number>();
export async function scheduleAlarm(storage: DurableObjectStorage, at: number, now = Date.now()) {
  const when = Math.max(Math.ceil(at), now + 1);
  const known = alarms.get(storage);
  if (known !== undefined && known > now && known <= when) return;
  const current = await storage.getAlarm();
  if (current === null || current > when) {
    await storage.setAlarm(when);
    alarms.set(storage, when);
  } else alarms.set(storage, current);
}

/** Call at the start of an alarm handler: the alarm that was set has fired. */
export function alarmFired(storage: DurableObjectStorage) {
  alarms.delete(storage);
}
