import type { Change } from "../directory/model";
import type { DsyncEvent } from "../schemas/events";
import type { RecordedEvent } from "../schemas/feed";
import { newEventId } from "./event-id";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS feed_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, event TEXT NOT NULL,
  organization_id TEXT, created_at TEXT NOT NULL, data TEXT NOT NULL);
`;

/** How the recorder reads what the cache serves (the writer's projection). */
export interface ServedRecords {
  directoryId(): string | null;
  organizationId(): string | null;
  json(kind: "directory" | "user" | "group", id: string): string | null;
}

type Noted = { change: Change; data: string | null; organizationId: string | null };

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Records each effective change a directory's writer applies as an event in WorkOS's shape, in
 * the same SQLite transaction as the change (the writer calls `begin`, applies one event, then
 * `commit`), into an outbox the writer hands to the feed in order. `data` is the record as the
 * cache serves it after the change; a deletion carries its last state, read before it goes. The
 * change an event from WorkOS is about keeps that event's id; any other gets a new one.
 */
export class ChangeRecorder {
  private noted: Noted[] = [];
  private organization: string | null | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly served: ServedRecords,
    /** CHANGE_FEED=off: nothing is recorded. */
    private readonly enabled = true,
  ) {
    sql.exec(SCHEMA);
  }

  begin() {
    this.noted = [];
    this.organization = undefined;
  }

  /** The directory's organization, read once per applied event. */
  private organizationId(): string | null {
    if (this.organization === undefined) this.organization = this.served.organizationId();
    return this.organization;
  }

  /** Apply reports a change (a deletion before it is made, so its last state is read now). */
  note(change: Change) {
    if (!this.enabled) return;
    const deletion = (change.kind !== "membership" && change.deleted) || false;
    this.noted.push({
      change,
      data: deletion ? this.render(change) : null,
      organizationId: deletion ? this.organizationId() : null,
    });
  }

  /** Writes what `cause` changed as events. */
  commit(cause: DsyncEvent, now = Date.now()) {
    const noted = this.noted;
    this.noted = [];
    if (noted.length === 0) return;
    // One event's changes often name the same records (a membership and the user it created).
    const rendered = new Map<string, string | null>();
    const json = (kind: "directory" | "user" | "group", id: string) => {
      const key = `${kind}:${id}`;
      if (!rendered.has(key)) rendered.set(key, this.served.json(kind, id));
      return rendered.get(key) ?? null;
    };
    let causeUsed = !cause.id.startsWith("event_");
    for (const entry of noted) {
      const { change, data } = entry;
      const body = data ?? this.render(change, json);
      if (body === null) continue;
      const primary = !causeUsed && kindOf(cause.event) === change.kind;
      if (primary) causeUsed = true;
      this.sql.exec(
        "INSERT INTO feed_outbox (id, event, organization_id, created_at, data) VALUES (?, ?, ?, ?, ?)",
        primary ? cause.id : newEventId(now),
        eventName(change),
        entry.organizationId ?? this.organizationId() ?? organizationOf(body),
        iso(primary ? cause.createdAt : now),
        body,
      );
    }
  }

  /** The oldest recorded events not yet handed to the feed. */
  batch(limit: number): RecordedEvent[] {
    return this.sql
      .exec<RecordedEvent>(
        "SELECT seq, id, event, organization_id, created_at, data FROM feed_outbox ORDER BY seq LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** The feed holds everything up to `seq`. */
  acknowledge(seq: number) {
    this.sql.exec("DELETE FROM feed_outbox WHERE seq <= ?", seq);
  }

  pending(): number {
    return Number(this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM feed_outbox").one().n);
  }

  private render(change: Change, json = this.served.json): string | null {
    if (change.kind === "directory") {
      const id = this.served.directoryId();
      return id === null ? null : json("directory", id);
    }
    if (change.kind !== "membership") return json(change.kind, change.id);
    const user = json("user", change.userId);
    const group = json("group", change.groupId);
    const directoryId = this.served.directoryId();
    if (user === null || group === null || directoryId === null) return null;
    return `{"directory_id":${JSON.stringify(directoryId)},"user":${user},"group":${group}}`;
  }
}

function eventName(change: Change): string {
  switch (change.kind) {
    case "directory":
      return change.deleted ? "dsync.deleted" : "dsync.activated";
    case "membership":
      return change.present ? "dsync.group.user_added" : "dsync.group.user_removed";
    default:
      return `dsync.${change.kind}.${change.deleted ? "deleted" : change.created ? "created" : "updated"}`;
  }
}

/** Which kind of change a WorkOS event is about (the one that keeps its id). */
function kindOf(event: DsyncEvent["event"]): Change["kind"] {
  if (event === "dsync.activated" || event === "dsync.deleted") return "directory";
  if (event === "dsync.group.user_added" || event === "dsync.group.user_removed") return "membership";
  return event.startsWith("dsync.user.") ? "user" : "group";
}

function organizationOf(json: string): string | null {
  const org = (JSON.parse(json) as { organization_id?: unknown }).organization_id;
  return typeof org === "string" ? org : null;
}
