import { log } from "../log";
import type { FlushReport, OutboxFailures } from "../schemas/ops";
import { addColumn } from "../sql-columns";
import { scheduleAlarm } from "./alarm";
import { KvBudget, KvBudgetSpent } from "./budget";
import { FIRST_RETRY_MS, WriteFailures } from "./failures";
import { GarbageCollector } from "./garbage";
import { type IndexPlan, IndexWriter, type ReadRecords } from "./index-writer";
import { SAME_KEY_INTERVAL_MS, WriteLedger } from "./ledger";
import type { ReadAfter } from "./rechunk";

export type { FlushReport };

/** What a dirty mark turns into when it is flushed. */
export type KvWrite =
  | { kind: "put"; key: string; value: string; expirationTtl?: number }
  | { kind: "delete"; key: string }
  /** A list index: `read` pages through the list's sort keys as they are now; `records` reads their records. */
  | { kind: "index"; key: string; read: ReadAfter; records?: ReadRecords }
  | { kind: "call"; key: string; run: () => Promise<void> };
/** A write as the flush performs it: an index write carries its plan, made when it was read. */
type Planned = Exclude<KvWrite, { kind: "index" }> | { kind: "index"; plan: IndexPlan };

/** Bounded work per flush, so the flushes of one invocation share its KV operations. */
const MAX_MARKS_PER_FLUSH = 200;
const MAX_WRITES_PER_FLUSH = 600;
const PARALLEL_WRITES = 25;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_dirty (mark TEXT PRIMARY KEY, seq INTEGER NOT NULL, since INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_dirty_by_seq ON outbox_dirty (seq);
CREATE TABLE IF NOT EXISTS outbox_touched (id INTEGER PRIMARY KEY AUTOINCREMENT, mark TEXT NOT NULL, sort_key TEXT);
CREATE INDEX IF NOT EXISTS outbox_touched_by_mark ON outbox_touched (mark, id);
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
  private readonly ledger: WriteLedger;
  private readonly failed: WriteFailures;
  private readonly garbage: GarbageCollector;
  private readonly indexes: IndexWriter;

  constructor(
    private readonly sql: SqlStorage,
    kv: KVNamespace,
  ) {
    sql.exec(SCHEMA);
    // Marks pending from before `since` existed keep their place (once).
    if (addColumn(sql, "outbox_dirty", "since", "INTEGER NOT NULL DEFAULT 0"))
      sql.exec("UPDATE outbox_dirty SET since = seq");
    sql.exec("CREATE INDEX IF NOT EXISTS outbox_dirty_by_since ON outbox_dirty (since)");
    // When a mark was first made (real time), for the projection's lag; older marks count from now.
    if (addColumn(sql, "outbox_dirty", "marked_at", "INTEGER NOT NULL DEFAULT 0"))
      sql.exec("UPDATE outbox_dirty SET marked_at = ?", Date.now());
    this.ledger = new WriteLedger(sql, kv);
    this.failed = new WriteFailures(sql);
    this.garbage = new GarbageCollector(sql, kv);
    this.indexes = new IndexWriter(sql, kv, this.ledger, this.garbage);
    const row = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM outbox_dirty").toArray()[0];
    this.seq = Number(row?.s ?? 0);
  }

  /** Same-key writes under a second, since the object started (instrumentation; stays 0). */
  get tooSoonTotal(): number {
    return this.ledger.tooSoonTotal;
  }

  /**
   * Marks a list index for rewriting, naming the entries a change added or removed (null: the
   * whole list may have changed). They are kept until the index is written, so its chunks are
   * re-cut only around them (see rechunk.ts).
   */
  markList(mark: string, touched: readonly string[] | null) {
    this.mark(mark);
    if (touched === null) this.sql.exec("INSERT INTO outbox_touched (mark, sort_key) VALUES (?, NULL)", mark);
    else
      for (const key of new Set(touched))
        this.sql.exec("INSERT INTO outbox_touched (mark, sort_key) VALUES (?, ?)", mark, key);
  }

  /** The entries touched since a list's last write (null: all of it), and the last note taken. */
  private touched(mark: string): { keys: string[] | null; upTo: number } {
    const rows = this.sql
      .exec<{ id: number; sort_key: string | null }>("SELECT id, sort_key FROM outbox_touched WHERE mark = ?", mark)
      .toArray();
    const upTo = rows.reduce((m, r) => Math.max(m, Number(r.id)), 0);
    // No notes at all (marked before they were kept): the whole list.
    if (rows.length === 0 || rows.some((r) => r.sort_key === null)) return { keys: null, upTo };
    return { keys: rows.map((r) => r.sort_key as string), upTo };
  }

  mark(mark: string) {
    this.seq += 1;
    this.sql.exec(
      // `seq` moves with every mark (a write sees whether its mark changed meanwhile); `since`
      // keeps the first, so a key marked again and again keeps its place in line: under a
      // flood of other marks it is not pushed back for ever.
      "INSERT INTO outbox_dirty (mark, seq, since, marked_at) VALUES (?, ?, ?, ?) ON CONFLICT (mark) DO UPDATE SET seq = excluded.seq",
      mark,
      this.seq,
      this.seq,
      Date.now(),
    );
  }

  failures(): OutboxFailures {
    return this.failed.report();
  }

  pending(): number {
    return Number(this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox_dirty").one().n);
  }

  /** When the oldest change not yet in KV was marked (ms epoch), or null when nothing waits. */
  oldestPendingAt(): number | null {
    const at = this.sql.exec<{ at: number | null }>("SELECT MIN(marked_at) AS at FROM outbox_dirty").one().at;
    return at === null ? null : Number(at);
  }

  /**
   * Writes what is due. `keyOf` names the KV key a mark rewrites (checked against the
   * once-a-second rule before any work); `materialize` reads the current state for it.
   * `budget`: the KV operations the calling invocation has left (an alarm shares one across
   * its flushes); what does not fit stays marked, and the report asks for a flush at once.
   */
  flush(
    now: number,
    keyOf: (mark: string) => string,
    materialize: (mark: string) => KvWrite,
    budget = new KvBudget(),
  ): Promise<FlushReport> {
    const run = this.running.then(() => this.flushOnce(now, keyOf, materialize, budget));
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
    budget = new KvBudget(),
  ): Promise<FlushReport> {
    try {
      const report = await this.flush(now, keyOf, materialize, budget);
      if (report.next !== null) await scheduleAlarm(storage, report.next);
      return report;
    } catch (err) {
      log.error("kv flush failed", { ...context, error: String(err) });
      await scheduleAlarm(storage, now + FIRST_RETRY_MS);
      return { written: 0, deleted: 0, next: now + FIRST_RETRY_MS, tooSoon: 0, pending: this.pending(), lagMs: 0 };
    }
  }

  private async flushOnce(
    now: number,
    keyOf: (mark: string) => string,
    materialize: (mark: string) => KvWrite,
    invocation: KvBudget,
  ): Promise<FlushReport> {
    const report: FlushReport = { written: 0, deleted: 0, next: null, tooSoon: 0, pending: 0, lagMs: 0 };
    const budget = invocation.within(MAX_WRITES_PER_FLUSH);
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
      .exec<{ mark: string; seq: number; failed: number; marked_at: number }>(
        `SELECT d.mark, d.seq, f.mark IS NOT NULL AS failed, d.marked_at FROM outbox_dirty d
         LEFT JOIN outbox_failed f ON f.mark = d.mark
         WHERE f.mark IS NULL OR f.next_at <= ? OR d.seq > f.seq ORDER BY d.since LIMIT ?`,
        now,
        MAX_MARKS_PER_FLUSH,
      )
      .toArray();
    const due: { mark: string; seq: number; failed: number; markedAt: number; write: Planned; touchedUpTo: number }[] =
      [];
    for (const { mark, seq, failed, marked_at } of marks) {
      let write: Planned;
      let touchedUpTo = 0;
      try {
        const last = this.ledger.last(keyOf(mark));
        if (last && now - last.at < SAME_KEY_INTERVAL_MS) {
          soonest(last.at + SAME_KEY_INTERVAL_MS);
          continue;
        }
        const w = materialize(mark);
        if (w.kind === "index" || w.kind === "delete") {
          // Planned now, with the state it was read from: the writes below await, and changes
          // applied meanwhile are noted for the next flush.
          const touched = this.touched(mark);
          touchedUpTo = touched.upTo;
          write =
            w.kind === "index" ? { kind: "index", plan: this.indexes.plan(w.key, touched.keys, w.read, w.records) } : w;
        } else write = w;
      } catch (err) {
        soonest(this.failed.record(mark, seq, err, now));
        continue;
      }
      due.push({ mark, seq, failed, markedAt: Number(marked_at), write, touchedUpTo });
    }
    // Entities first, then chunks, then the manifests that point at them: within a location,
    // a reader that sees a new manifest finds its chunks and records already there. Within a
    // rank, writes go out in parallel batches (each key appears once per flush).
    const rank = (w: Planned) => (w.kind === "index" ? 1 : w.kind === "call" ? 2 : 0);
    const batches = [0, 1, 2].flatMap((r) => {
      const items = due.filter((d) => rank(d.write) === r);
      return Array.from({ length: Math.ceil(items.length / PARALLEL_WRITES) }, (_, i) =>
        items.slice(i * PARALLEL_WRITES, (i + 1) * PARALLEL_WRITES),
      );
    });
    for (const batch of batches) {
      if (budget.left <= 0) {
        soonest(now);
        break;
      }
      // Each write succeeds or fails on its own: one that KV refuses never holds back the rest.
      const results = await Promise.allSettled(batch.map((item) => this.perform(item.write, clock, budget, report)));
      batch.forEach((item, j) => {
        const result = results[j] as PromiseSettledResult<void>;
        if (result.status === "fulfilled") {
          this.sql.exec("DELETE FROM outbox_dirty WHERE mark = ? AND seq = ?", item.mark, item.seq);
          if (item.touchedUpTo)
            this.sql.exec("DELETE FROM outbox_touched WHERE mark = ? AND id <= ?", item.mark, item.touchedUpTo);
          if (item.failed) this.failed.clear(item.mark);
          report.lagMs = Math.max(report.lagMs, Date.now() - item.markedAt);
        } else if (result.reason instanceof KvBudgetSpent) {
          // Not a failure: it is written by the next invocation (an index resumes where it stopped).
          soonest(now);
        } else soonest(this.failed.record(item.mark, item.seq, result.reason, now));
      });
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
    const collected = await this.garbage.collect(now, budget);
    report.deleted += collected.deleted;
    if (collected.next !== null) soonest(collected.next);
    report.pending = this.pending();
    return report;
  }

  /** Performs one write, each KV operation taken from `budget`. */
  private async perform(w: Planned, clock: () => number, budget: KvBudget, report: FlushReport): Promise<void> {
    switch (w.kind) {
      case "call":
        // Paced like a write to one key: at most one call a second.
        await w.run();
        return this.ledger.ran(w.key, clock());
      case "delete":
        await this.ledger.delete(w.key, clock, budget, report);
        // A list index taken down (unpublished) is cut afresh when it is published again.
        this.indexes.forget(w.key);
        return;
      case "put":
        return this.ledger.put(w.key, w.value, clock, budget, report, w);
      case "index":
        return this.indexes.write(w.plan, clock, budget, report);
    }
  }
}
