import type { FeedHead, FeedPage, FeedQuery, RecordedEvent } from "../schemas/feed";

/**
 * A page scans at most this many positions past its cursor: a filter that matches rarely answers
 * a short page (its `after` the last position scanned) rather than scanning the whole feed.
 */
const SCAN_LIMIT = 10_000;
/** Retention trims at most this many events per call (the rest on the next). */
const TRIM_BATCH = 5_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS feed_events (
  pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, event TEXT NOT NULL, organization_id TEXT,
  directory_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, recorded_at INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS feed_events_by_id ON feed_events (id);
CREATE INDEX IF NOT EXISTS feed_events_by_org ON feed_events (organization_id, pos);
CREATE TABLE IF NOT EXISTS feed_sources (directory_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
`;

type Row = { pos: number; id: string; event: string; data: string; created_at: string };
const COLUMNS = "pos, id, event, data, created_at";

/** What a reader (GET /events, a subscription) wants of the feed; absent means any. */
export interface Filter {
  events?: readonly string[] | undefined;
  organizations?: readonly string[] | undefined;
  from?: string | undefined;
  until?: string | undefined;
}

function conditions(f: Filter): { filter: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (f.events?.length) {
    where.push("event IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(f.events));
  }
  if (f.organizations?.length) {
    where.push("organization_id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(f.organizations));
  }
  if (f.from !== undefined) {
    where.push("created_at >= ?");
    params.push(f.from);
  }
  if (f.until !== undefined) {
    where.push("created_at < ?");
    params.push(f.until);
  }
  return { filter: where.map((w) => ` AND ${w}`).join(""), params };
}

const envelope = (r: { id: string; event: string; data: string; created_at: string }) =>
  `{"object":"event","id":${JSON.stringify(r.id)},"event":${JSON.stringify(r.event)},"data":${r.data},"created_at":${JSON.stringify(r.created_at)}}`;

/**
 * The change feed: one global order of every directory's changes. Positions are assigned here,
 * by one object, as writers hand their events over, so the order is the order of arrival: an
 * event a slow writer hands over late gets a position after everything already there, and a
 * reader following positions never skips it. Each writer's batches are taken once (its last
 * sequence is remembered), so a writer retrying a batch adds nothing twice.
 */
export class FeedLog {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /** Appends a writer's events after its last accepted sequence; answers the sequence now held. */
  append(directoryId: string, events: readonly RecordedEvent[], now: number): number {
    const row = this.sql
      .exec<{ seq: number }>("SELECT seq FROM feed_sources WHERE directory_id = ?", directoryId)
      .toArray()[0];
    let held = Number(row?.seq ?? 0);
    for (const e of events) {
      if (e.seq <= held) continue;
      // An id already taken (a replay of an event older than the writer's memory) gets a new one.
      const taken = this.sql.exec("SELECT 1 FROM feed_events WHERE id = ?", e.id).toArray().length > 0;
      this.sql.exec(
        `INSERT INTO feed_events (id, event, organization_id, directory_id, created_at, data, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        taken ? `${e.id}_${e.seq}` : e.id,
        e.event,
        e.organization_id,
        directoryId,
        e.created_at,
        e.data,
        now,
      );
      held = e.seq;
    }
    this.sql.exec(
      "INSERT INTO feed_sources (directory_id, seq) VALUES (?, ?) ON CONFLICT (directory_id) DO UPDATE SET seq = excluded.seq",
      directoryId,
      held,
    );
    return held;
  }

  /** A page in feed order (oldest first, as WorkOS's Events API answers). */
  list(q: FeedQuery): FeedPage {
    // A reader limited to organizations may name only their events as cursors.
    const visible = q.visible ? " AND organization_id IN (SELECT value FROM json_each(?))" : "";
    const position = (id: string) =>
      this.sql
        .exec<{ pos: number }>(
          `SELECT pos FROM feed_events WHERE id = ?${visible}`,
          id,
          ...(q.visible ? [JSON.stringify(q.visible)] : []),
        )
        .toArray()[0]?.pos;
    // With no cursor, from the oldest event retention kept (positions before it are gone).
    const after = q.after === undefined ? this.first() - 1 : position(q.after);
    if (after === undefined) return { invalidCursor: "after" };
    const before = q.before === undefined ? undefined : position(q.before);
    if (q.before !== undefined && before === undefined) return { invalidCursor: "before" };

    const filter: Filter = {
      events: q.events,
      organizations: q.organizations,
      from: q.range_start,
      until: q.range_end,
    };
    if (before !== undefined) {
      const { filter: sql, params } = conditions(filter);
      // The `limit` events just before the cursor, still oldest first.
      const rows = this.sql
        .exec<Row>(
          `SELECT ${COLUMNS} FROM feed_events WHERE pos < ? AND pos > ?${sql} ORDER BY pos DESC LIMIT ?`,
          Number(before),
          Number(after),
          ...params,
          q.limit,
        )
        .toArray()
        .reverse();
      return { data: rows.map(envelope), after: rows.at(-1)?.id ?? null };
    }
    const { rows, through } = this.scan(Number(after), filter, q.limit);
    const data = rows.map(envelope);
    // Stopped at the scan bound short of the head: continue from the last position scanned.
    if (rows.length < q.limit && through < this.last()) return { data, after: this.idAt(through) };
    return { data, after: rows.at(-1)?.id ?? null };
  }

  /**
   * Events after position `after` matching `filter`, at most `limit`, scanning at most SCAN_LIMIT
   * positions; `through`: the position scanned up to (where the next scan starts).
   */
  scan(after: number, filter: Filter, limit: number): { rows: Row[]; through: number } {
    const { filter: sql, params } = conditions(filter);
    const until = this.scanEnd(after, filter.organizations);
    const rows = this.sql
      .exec<Row>(
        `SELECT ${COLUMNS} FROM feed_events WHERE pos > ? AND pos <= ?${sql} ORDER BY pos LIMIT ?`,
        after,
        until,
        ...params,
        limit,
      )
      .toArray()
      .map((r) => ({ ...r, pos: Number(r.pos) }));
    return { rows, through: rows.length === limit ? (rows.at(-1)?.pos ?? until) : until };
  }

  /**
   * Where a scan from `after` stops. Over every organization: SCAN_LIMIT positions on. Over some:
   * their next SCAN_LIMIT events (shared between them, along their index), so the scan ends on
   * one of their events: the cursor a short page answers never names another organization's.
   */
  private scanEnd(after: number, organizations: readonly string[] | undefined): number {
    const last = this.last();
    if (!organizations?.length) return Math.min(after + SCAN_LIMIT, last);
    const each = Math.max(100, Math.ceil(SCAN_LIMIT / organizations.length));
    let end = last;
    for (const organization of organizations) {
      const row = this.sql
        .exec<{ pos: number }>(
          "SELECT pos FROM feed_events WHERE organization_id = ? AND pos > ? ORDER BY pos LIMIT 1 OFFSET ?",
          organization,
          after,
          each - 1,
        )
        .toArray()[0];
      if (row) end = Math.min(end, Number(row.pos));
    }
    return end;
  }

  /** The newest position held (0 when the feed is empty). */
  private last(): number {
    const row = this.sql.exec<{ pos: number }>("SELECT pos FROM feed_events ORDER BY pos DESC LIMIT 1").toArray()[0];
    return Number(row?.pos ?? 0);
  }

  /** The id of the event at or just before `position`. */
  private idAt(position: number): string | null {
    return (
      this.sql
        .exec<{ id: string }>("SELECT id FROM feed_events WHERE pos <= ? ORDER BY pos DESC LIMIT 1", position)
        .toArray()[0]?.id ?? null
    );
  }

  /** The oldest position held (1 when the feed is empty). */
  private first(): number {
    const row = this.sql.exec<{ pos: number }>("SELECT pos FROM feed_events ORDER BY pos LIMIT 1").toArray()[0];
    return Number(row?.pos ?? 1);
  }

  dataAt(position: number): string | null {
    return (
      this.sql.exec<{ data: string }>("SELECT data FROM feed_events WHERE pos = ?", position).toArray()[0]?.data ?? null
    );
  }

  head(): FeedHead {
    const last = this.sql
      .exec<{ pos: number; id: string; created_at: string }>(
        "SELECT pos, id, created_at FROM feed_events ORDER BY pos DESC LIMIT 1",
      )
      .toArray()[0];
    // Positions are dense but for the oldest, trimmed by retention: no count over every row.
    return {
      events: last ? Number(last.pos) - this.first() + 1 : 0,
      position: Number(last?.pos ?? 0),
      lastEventId: last?.id ?? null,
      lastEventAt: last?.created_at ?? null,
    };
  }

  /** Drops events recorded before `cutoff`; answers whether older ones remain. */
  trim(cutoff: number): boolean {
    this.sql.exec(
      "DELETE FROM feed_events WHERE pos IN (SELECT pos FROM feed_events WHERE recorded_at < ? ORDER BY pos LIMIT ?)",
      cutoff,
      TRIM_BATCH,
    );
    return this.sql.exec("SELECT 1 FROM feed_events WHERE recorded_at < ? LIMIT 1", cutoff).toArray().length > 0;
  }
}
