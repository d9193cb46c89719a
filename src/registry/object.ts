import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import { sortKeyOf } from "../directory/model";
import type { Env } from "../env";
import { alarmFired, scheduleAlarm } from "../kv/alarm";
import { kvKeys } from "../kv/keys";
import { type FlushReport, type KvWrite, Outbox } from "../kv/outbox";
import { log } from "../log";
import type { Directory } from "../schemas/directory";
import { type DsyncEvent, directoryOf, EVENT_DATA, type EventEnvelope, parseInstant } from "../schemas/events";
import type { CatchUpReport, ReconcileReport } from "../schemas/ops";
import { WorkOSClient } from "../upstream/client";
import { accountPace, CRAWL_MAX_WAIT_MS } from "../upstream/gate";
import { decodeEvent } from "../webhooks/decode";

/** What the registry knows of a directory: enough to list and filter directories. */
export interface RegistryEntry {
  id: string;
  organizationId: string;
  name: string;
  domain: string | null;
  sortKey: string;
}

export interface DirectoryFilter {
  organizationId?: string;
  search?: string;
  domain?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS directories (
  id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL, domain TEXT, sort_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS directories_by_org ON directories (organization_id, sort_key);
`;

/**
 * Case-insensitive form of a name, as people expect it in any script ("Straße" finds
 * "STRASSE"; SQLite's lower() folds ASCII only). Kept beside each name when it is written, so a
 * search folds only its own text.
 */
const foldCase = (s: string) => s.normalize("NFKC").toUpperCase().toLowerCase();

/** Adds the folded names to a registry stored before they existed (once). */
function foldNames(storage: DurableObjectStorage) {
  const sql = storage.sql;
  const columns = sql.exec<{ name: string }>("PRAGMA table_info(directories)").toArray();
  if (columns.some((c) => c.name === "name_folded")) return;
  storage.transactionSync(() => {
    sql.exec("ALTER TABLE directories ADD COLUMN name_folded TEXT NOT NULL DEFAULT ''");
    for (const { id, name } of sql.exec<{ id: string; name: string }>("SELECT id, name FROM directories").toArray())
      sql.exec("UPDATE directories SET name_folded = ? WHERE id = ?", foldCase(name), id);
  });
}

/**
 * The directories across organizations (few), kept by one singleton object: each directory's
 * writer reports its directory here, and this object alone writes the cross-directory indexes.
 */
export class RegistryObject extends DurableObject<Env> {
  private readonly outbox: Outbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
    foldNames(ctx.storage);
    this.outbox = new Outbox(ctx.storage.sql, env.CACHE);
  }

  async put(id: string, entry: RegistryEntry | null): Promise<void> {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      const prev = sql
        .exec<{ organization_id: string }>("SELECT organization_id FROM directories WHERE id = ?", id)
        .toArray()[0];
      if (prev) this.outbox.mark(`org:${prev.organization_id}`);
      if (entry) {
        sql.exec(
          `INSERT OR REPLACE INTO directories (id, organization_id, name, name_folded, domain, sort_key)
           VALUES (?, ?, ?, ?, ?, ?)`,
          id,
          entry.organizationId,
          entry.name,
          foldCase(entry.name),
          entry.domain,
          entry.sortKey,
        );
        this.outbox.mark(`org:${entry.organizationId}`);
      } else {
        sql.exec("DELETE FROM directories WHERE id = ?", id);
      }
      this.outbox.mark("all");
    });
    await scheduleAlarm(this.ctx.storage, Date.now());
  }

  /** Sort keys of the directories matching a filter (name search and domain have no KV index). */
  async search(filter: DirectoryFilter): Promise<string[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.organizationId) {
      where.push("organization_id = ?");
      params.push(filter.organizationId);
    }
    if (filter.search) {
      where.push("instr(name_folded, ?) > 0");
      params.push(foldCase(filter.search));
    }
    if (filter.domain) {
      where.push("lower(domain) = lower(?)");
      params.push(filter.domain);
    }
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    return this.ctx.storage.sql
      .exec<{ sort_key: string }>(`SELECT sort_key FROM directories ${clause} ORDER BY sort_key`, ...params)
      .toArray()
      .map((r) => r.sort_key);
  }

  private meta(key: string): string | null {
    return (
      this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ??
      null
    );
  }
  private setMeta(key: string, value: string) {
    this.ctx.storage.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** Known directories and the schedule's bookmarks, for GET /admin/status. */
  async overview(): Promise<{ ids: string[]; eventsCursor: string | null; lastReconcileAt: string | null }> {
    const last = this.meta("last_reconcile");
    return {
      ids: this.ctx.storage.sql
        .exec<{ id: string }>("SELECT id FROM directories ORDER BY sort_key")
        .toArray()
        .map((r) => r.id),
      eventsCursor: this.meta("events_cursor"),
      lastReconcileAt: last ? new Date(Number(last)).toISOString() : null,
    };
  }

  /** The cron's work: Events API catch-up every time, a full reconcile when it is due. */
  async runSchedule(): Promise<ScheduleReport> {
    const client = this.client();
    if (!client) return { pullEnabled: false };
    const events = await this.catchUp(client);
    const config = loadConfig(this.env);
    const interval = config.ok ? config.config.reconcileIntervalMs : Number.POSITIVE_INFINITY;
    const last = Number(this.meta("last_reconcile") ?? 0);
    const reconcile = Date.now() - last >= interval ? await this.reconcile(client) : null;
    return { pullEnabled: true, events, reconcile };
  }

  /**
   * Pulls `dsync.*` events after the stored cursor and applies them through each directory's
   * writer (the same idempotent path as webhooks: ids are shared). WorkOS shows a new event to
   * ascending reads only seconds after creating it, possibly after later ones, so the stored
   * cursor stays behind a settling window while reading goes on past it: every run re-reads the
   * window, and what it re-applies comes back as a duplicate. The cursor moves only after a page
   * is applied; it never moves on ids seen via webhooks.
   */
  async catchUp(client = this.client()): Promise<CatchUpReport> {
    const config = loadConfig(this.env);
    const report: CatchUpReport = {
      pages: 0,
      read: 0,
      applied: 0,
      stale: 0,
      duplicates: 0,
      skipped: 0,
      unsettled: 0,
      cursor: this.meta("events_cursor"),
    };
    if (!client || !config.ok) return report;
    let position = report.cursor;
    for (let i = 0; i < MAX_EVENT_PAGES; i++) {
      // Taken before the request: an event settled by then was visible to it.
      const readAt = Date.now();
      const page = await client.listEvents({
        events: APPLIED_EVENTS.join(","),
        limit: 100,
        order: "asc",
        ...(position ? { after: position } : { range_start: new Date(readAt - FIRST_LOOKBACK_MS).toISOString() }),
      });
      if (page.data.length === 0) break;
      await this.applyEvents(page.data, report);
      this.settleCursor(page.data, readAt - config.config.eventsSettleMs, report);
      position = page.data.at(-1)?.id ?? position;
      report.pages += 1;
      if (!page.list_metadata.after) break;
    }
    return report;
  }

  /** Applies one page of the feed through the directories' writers, counting outcomes. */
  private async applyEvents(items: EventEnvelope[], report: CatchUpReport): Promise<void> {
    const byDirectory = new Map<string, DsyncEvent[]>();
    for (const item of items) {
      report.read += 1;
      const decoded = decodeEvent(item);
      if (decoded.kind !== "apply") {
        report.skipped += 1;
        if (decoded.kind === "invalid")
          log.warn("events api: invalid event skipped", { eventId: item.id, event: item.event });
        continue;
      }
      const dir = directoryOf(decoded.event);
      byDirectory.set(dir, [...(byDirectory.get(dir) ?? []), decoded.event]);
    }
    for (const [dir, events] of byDirectory) {
      for (const outcome of await this.env.DIRECTORY.getByName(dir).applyBatch(events)) {
        if (outcome === "applied") report.applied += 1;
        else if (outcome === "stale") report.stale += 1;
        else report.duplicates += 1;
      }
    }
  }

  /**
   * Stores as the cursor the last event of a page created by `settledBy`. Event ids are
   * time-ordered, so every event before a settled one was already visible when it was read.
   */
  private settleCursor(items: EventEnvelope[], settledBy: number, report: CatchUpReport): void {
    const stored = report.cursor;
    for (const item of items) {
      if (parseInstant(item.created_at) <= settledBy) {
        report.cursor = item.id;
        report.unsettled = 0;
      } else report.unsettled += 1;
    }
    if (report.cursor && report.cursor !== stored) this.setMeta("events_cursor", report.cursor);
  }

  /**
   * Lists every directory at WorkOS and re-crawls each (a new generation: repairs drift,
   * sweeps what vanished). Directories gone from a complete listing are removed; a listing
   * that fails part-way removes nothing.
   */
  async reconcile(client = this.client()): Promise<ReconcileReport> {
    if (!client) return { directories: 0, removed: 0 };
    const seen: Directory[] = [];
    let after: string | undefined;
    do {
      const page = await client.listDirectories({ limit: 100, order: "asc", after });
      seen.push(...page.data);
      after = page.list_metadata.after ?? undefined;
    } while (after);
    const ids = new Set(seen.map((d) => d.id));
    const known = this.ctx.storage.sql
      .exec<{ id: string }>("SELECT id FROM directories")
      .toArray()
      .map((r) => r.id);
    const gone = known.filter((id) => !ids.has(id));
    for (const d of seen) {
      await this.put(d.id, {
        id: d.id,
        organizationId: d.organization_id,
        name: d.name,
        domain: d.domain ?? null,
        sortKey: sortKeyOf(d),
      });
      await this.env.DIRECTORY.getByName(d.id).requestSync(d.id, "reconcile", "reconcile");
    }
    for (const id of gone) {
      await this.env.DIRECTORY.getByName(id).purge(id);
      await this.put(id, null);
    }
    this.ctx.storage.transactionSync(() => {
      this.setMeta("last_reconcile", String(Date.now()));
      this.outbox.mark("held");
    });
    await scheduleAlarm(this.ctx.storage, Date.now());
    return { directories: seen.length, removed: gone.length };
  }

  private client(): WorkOSClient | null {
    const config = loadConfig(this.env);
    if (!config.ok || !config.config.upstream) return null;
    return new WorkOSClient({ ...config.config.upstream, pace: accountPace(this.env, CRAWL_MAX_WAIT_MS) });
  }

  override async alarm() {
    alarmFired(this.ctx.storage);
    await this.flushKv(Date.now());
  }

  /** As DirectoryObject.flushKv: due index writes as of `now`, then the next alarm. */
  async flushKv(now: number): Promise<FlushReport> {
    return this.outbox.flushAndSchedule(this.ctx.storage, now, keyOf, (mark) => this.materialize(mark), {
      object: "registry",
    });
  }

  private materialize(mark: string): KvWrite {
    const key = keyOf(mark);
    if (mark === "held") return { kind: "put", key, value: JSON.stringify({ held: true }) };
    const org = mark === "all" ? undefined : mark.slice("org:".length);
    const sortKeys = this.ctx.storage.sql
      .exec<{ sort_key: string }>(
        org === undefined
          ? "SELECT sort_key FROM directories ORDER BY sort_key"
          : "SELECT sort_key FROM directories WHERE organization_id = ? ORDER BY sort_key",
        ...(org === undefined ? [] : [org]),
      )
      .toArray()
      .map((r) => r.sort_key);
    return { kind: "index", key, sortKeys };
  }
}

const keyOf = (mark: string) =>
  mark === "all"
    ? kvKeys.directories()
    : mark === "held"
      ? kvKeys.syncMarker("registry")
      : kvKeys.organizationDirectories(mark.slice("org:".length));

/** Events the Events API catch-up asks for: the ones the cache applies. */
const APPLIED_EVENTS = Object.keys(EVENT_DATA);
const MAX_EVENT_PAGES = 20;
/** With no cursor yet, the first catch-up starts this far back. */
const FIRST_LOOKBACK_MS = 60 * 60 * 1000;

export type ScheduleReport =
  | { pullEnabled: false }
  | { pullEnabled: true; events: CatchUpReport; reconcile: ReconcileReport | null };
