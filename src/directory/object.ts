import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type FlushReport, Outbox, scheduleAlarm } from "../kv/outbox";
import { log } from "../log";
import type { RegistryEntry } from "../registry/object";
import { type DsyncEvent, directoryOf } from "../schemas/events";
import { applyEvent } from "./apply";
import type { DirtyKey } from "./model";
import { kvKeyOf, materialize } from "./projection";
import { SqliteStore } from "./sqlite-store";

/** Event ids are remembered this long (WorkOS retries for 3 days; the Events API keeps 30). */
const SEEN_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** After a failed flush, try again this much later (the marks stay until written). */
const FLUSH_RETRY_MS = 5000;

export type ApplyOutcome = "applied" | "stale" | "duplicate";

/**
 * The one writer of a directory. Each event is applied in a single synchronous SQLite
 * transaction, so concurrent deliveries cannot interleave inside it; KV is written later by
 * the alarm alone, through the outbox.
 */
export class DirectoryObject extends DurableObject<Env> {
  private readonly store: SqliteStore;
  private readonly outbox: Outbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.outbox = new Outbox(ctx.storage.sql, env.CACHE);
    this.store = new SqliteStore(ctx.storage.sql, (mark) => this.outbox.mark(mark));
  }

  /** Records the event durably; returns once it is in storage (the caller may then answer 2xx). */
  async apply(event: DsyncEvent): Promise<ApplyOutcome> {
    const [outcome] = await this.applyBatch([event]);
    return outcome as ApplyOutcome;
  }

  /** Applies events in order, each in its own transaction, in one call (bulk feeds). */
  async applyBatch(events: DsyncEvent[]): Promise<ApplyOutcome[]> {
    const outcomes = events.map((event) => this.ctx.storage.transactionSync(() => this.applyOne(event)));
    if (outcomes.includes("applied")) await scheduleAlarm(this.ctx.storage, Date.now());
    return outcomes;
  }

  private applyOne(event: DsyncEvent): ApplyOutcome {
    this.claim(directoryOf(event));
    if (this.store.hasSeen(event.id)) return "duplicate";
    this.store.recordSeen(event.id, Date.now());
    const outcome = applyEvent(this.store, event);
    this.store.setMeta("last_event", JSON.stringify({ id: event.id, event: event.event, outcome, at: Date.now() }));
    return outcome;
  }

  /** Counts and queue depth, for tests and status. */
  async status() {
    return {
      directoryId: this.store.getMeta("directory_id"),
      counts: this.store.counts(),
      pendingKvWrites: this.outbox.pending(),
      kvSameKeyWritesUnderOneSecond: this.outbox.tooSoonTotal,
      lastEvent: JSON.parse(this.store.getMeta("last_event") ?? "null"),
      lastFlush: JSON.parse(this.store.getMeta("last_flush") ?? "null"),
    };
  }

  override async alarm() {
    await this.flushKv(Date.now());
  }

  /**
   * Writes due KV changes as of `now` (the alarm passes the real time; tests pass a simulated
   * one instead of sleeping) and schedules the next flush if anything is left.
   */
  async flushKv(now: number): Promise<FlushReport> {
    const directoryId = this.store.getMeta("directory_id");
    if (!directoryId) return { written: 0, deleted: 0, next: null, tooSoon: 0, pending: 0 };
    this.store.forgetSeenBefore(now - SEEN_RETENTION_MS);
    try {
      const report = await this.outbox.flush(
        now,
        (mark) => kvKeyOf(directoryId, mark as DirtyKey),
        (mark) => materialize(this.store, directoryId, mark as DirtyKey, () => this.notifyRegistry(directoryId)),
      );
      this.store.setMeta("last_flush", JSON.stringify({ at: now, ...report }));
      if (report.next !== null) await scheduleAlarm(this.ctx.storage, report.next);
      return report;
    } catch (err) {
      // Never let the alarm throw: its retries are capped, and the marks must outlive them.
      log.error("kv flush failed", { directoryId, error: String(err) });
      await scheduleAlarm(this.ctx.storage, now + FLUSH_RETRY_MS);
      return { written: 0, deleted: 0, next: now + FLUSH_RETRY_MS, tooSoon: 0, pending: this.outbox.pending() };
    }
  }

  /** An object serves exactly one directory, named by the first event it is given. */
  private claim(directoryId: string) {
    const owner = this.store.getMeta("directory_id");
    if (owner === null) this.store.setMeta("directory_id", directoryId);
    else if (owner !== directoryId) throw new Error(`writer of ${owner} was given an event of ${directoryId}`);
  }

  private async notifyRegistry(directoryId: string) {
    const row = this.store.directory();
    const entry: RegistryEntry | null =
      row && !row.deleted && row.data
        ? {
            id: directoryId,
            organizationId: row.data.organization_id,
            name: row.data.name,
            domain: row.data.domain ?? null,
            sortKey: row.sortKey,
          }
        : null;
    await this.env.REGISTRY.getByName("registry").put(directoryId, entry);
  }
}
