import type { Directory } from "../schemas/directory";
import type { DirectoryGroup } from "../schemas/group";
import type { DirectoryUser } from "../schemas/user";
import {
  type Change,
  type DirectoryRow,
  type DirectoryStore,
  type DirtyKey,
  type EdgeRow,
  type EntityRow,
  emailKey,
  type GroupRow,
  type UserRow,
} from "./model";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS directory (
  k INTEGER PRIMARY KEY CHECK (k = 1), id TEXT NOT NULL, version TEXT NOT NULL, deleted INTEGER NOT NULL,
  clear_key TEXT NOT NULL, sort_key TEXT NOT NULL, json TEXT);
CREATE TABLE IF NOT EXISTS dir_users (
  id TEXT PRIMARY KEY, version TEXT NOT NULL, deleted INTEGER NOT NULL, clear_key TEXT NOT NULL,
  sort_key TEXT NOT NULL, state TEXT, email TEXT, idp_id TEXT, json TEXT,
  seen_gen INTEGER NOT NULL DEFAULT 0, changed_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS dir_users_by_sort ON dir_users (deleted, sort_key);
-- Lookups answer from the index alone: equality, liveness and order in one covering index.
-- (The single-column indexes they replace let SQLite walk every live user in list order.)
DROP INDEX IF EXISTS dir_users_by_email;
DROP INDEX IF EXISTS dir_users_by_idp;
CREATE INDEX IF NOT EXISTS dir_users_by_email_live ON dir_users (email, deleted, sort_key) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS dir_users_by_idp_live ON dir_users (idp_id, deleted, sort_key);
CREATE TABLE IF NOT EXISTS dir_groups (
  id TEXT PRIMARY KEY, version TEXT NOT NULL, deleted INTEGER NOT NULL, clear_key TEXT NOT NULL,
  sort_key TEXT NOT NULL, json TEXT, seen_gen INTEGER NOT NULL DEFAULT 0, changed_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS dir_groups_by_sort ON dir_groups (deleted, sort_key);
CREATE TABLE IF NOT EXISTS memberships (
  user_id TEXT NOT NULL, group_id TEXT NOT NULL, key TEXT NOT NULL, present INTEGER NOT NULL,
  seen_gen INTEGER NOT NULL DEFAULT 0, changed_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, group_id));
CREATE INDEX IF NOT EXISTS memberships_by_group ON memberships (group_id);
CREATE TABLE IF NOT EXISTS seen_events (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_events_by_at ON seen_events (at);
-- Users as served (with their groups), kept between flushes: a list chunk holds hundreds of
-- users, and a change re-serves one. Filled by flushes only, emptied by every change.
CREATE TABLE IF NOT EXISTS served_users (id TEXT PRIMARY KEY, json TEXT NOT NULL);
`;

/**
 * The directory's counts (served in its metadata, rewritten up to once a second) kept by
 * triggers as rows change: counting on demand scanned every user row, and at 100k users that
 * scan took most of the writer's time. Triggers see every write path, purge included.
 */
const COUNTS = `
CREATE TABLE IF NOT EXISTS dir_counts (
  k INTEGER PRIMARY KEY CHECK (k = 1), active INTEGER NOT NULL, inactive INTEGER NOT NULL, live_groups INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS dir_users_count_insert AFTER INSERT ON dir_users BEGIN
  UPDATE dir_counts SET active = active + ${live("NEW", "= 'active'")}, inactive = inactive + ${live("NEW", "!= 'active'")};
END;
CREATE TRIGGER IF NOT EXISTS dir_users_count_update AFTER UPDATE OF deleted, state ON dir_users BEGIN
  UPDATE dir_counts SET
    active = active + ${live("NEW", "= 'active'")} - ${live("OLD", "= 'active'")},
    inactive = inactive + ${live("NEW", "!= 'active'")} - ${live("OLD", "!= 'active'")};
END;
CREATE TRIGGER IF NOT EXISTS dir_users_count_delete AFTER DELETE ON dir_users BEGIN
  UPDATE dir_counts SET active = active - ${live("OLD", "= 'active'")}, inactive = inactive - ${live("OLD", "!= 'active'")};
END;
CREATE TRIGGER IF NOT EXISTS dir_groups_count_insert AFTER INSERT ON dir_groups BEGIN
  UPDATE dir_counts SET live_groups = live_groups + (NEW.deleted = 0);
END;
CREATE TRIGGER IF NOT EXISTS dir_groups_count_update AFTER UPDATE OF deleted ON dir_groups BEGIN
  UPDATE dir_counts SET live_groups = live_groups + (NEW.deleted = 0) - (OLD.deleted = 0);
END;
CREATE TRIGGER IF NOT EXISTS dir_groups_count_delete AFTER DELETE ON dir_groups BEGIN
  UPDATE dir_counts SET live_groups = live_groups - (OLD.deleted = 0);
END;
`;

/** Counts once, for a database that predates the counters (or a new, empty one). */
const SEED_COUNTS = `
INSERT INTO dir_counts (k, active, inactive, live_groups)
  SELECT 1, IFNULL(SUM(state = 'active'), 0), IFNULL(SUM(state != 'active'), 0),
    (SELECT COUNT(*) FROM dir_groups WHERE deleted = 0)
  FROM dir_users WHERE deleted = 0`;

/** 1 when a user row (NEW or OLD) is live and its state matches `test`, else 0 (never NULL). */
function live(row: "NEW" | "OLD", test: string): string {
  return `IFNULL(${row}.deleted = 0 AND ${row}.state ${test}, 0)`;
}

type Row = Record<string, SqlStorageValue>;

const str = (v: SqlStorageValue | undefined): string => (v === null || v === undefined ? "" : String(v));

function toEntity<T>(r: Row): EntityRow<T> {
  return {
    id: str(r.id),
    version: str(r.version),
    deleted: r.deleted === 1,
    clearKey: str(r.clear_key),
    sortKey: str(r.sort_key),
    data: r.json === null ? null : (JSON.parse(str(r.json)) as T),
  };
}

/** The write model of one directory in its Durable Object's SQLite database. */
export class SqliteStore implements DirectoryStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly onDirty: (key: DirtyKey, touched?: readonly string[]) => void,
    private readonly onChange: (change: Change) => void = () => undefined,
    /** Local time of writes, for the sweep's "unchanged since the crawl began" guard. */
    private readonly now: () => number = Date.now,
  ) {
    sql.exec(SCHEMA);
    sql.exec(COUNTS);
    if (!this.first("SELECT 1 FROM dir_counts WHERE k = 1")) sql.exec(SEED_COUNTS);
  }

  private first(query: string, ...params: SqlStorageValue[]): Row | null {
    return this.sql.exec<Row>(query, ...params).toArray()[0] ?? null;
  }

  private column(query: string, ...params: SqlStorageValue[]): string[] {
    return this.sql
      .exec<Row>(query, ...params)
      .toArray()
      .map((r) => str(Object.values(r)[0] ?? null));
  }

  // --- meta ---
  getMeta(key: string): string | null {
    const r = this.first("SELECT value FROM meta WHERE key = ?", key);
    return r ? str(r.value) : null;
  }
  setMeta(key: string, value: string) {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  // --- event ids ---
  hasSeen(eventId: string): boolean {
    return this.first("SELECT 1 AS x FROM seen_events WHERE id = ?", eventId) !== null;
  }
  recordSeen(eventId: string, at: number) {
    this.sql.exec("INSERT OR IGNORE INTO seen_events (id, at) VALUES (?, ?)", eventId, at);
  }
  forgetSeenBefore(at: number) {
    this.sql.exec("DELETE FROM seen_events WHERE at < ?", at);
  }

  // --- DirectoryStore ---
  directory(): DirectoryRow | null {
    const r = this.first("SELECT * FROM directory WHERE k = 1");
    return r ? toEntity<Directory>(r) : null;
  }
  putDirectory(row: DirectoryRow) {
    this.sql.exec(
      `INSERT INTO directory (k, id, version, deleted, clear_key, sort_key, json) VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (k) DO UPDATE SET id = excluded.id, version = excluded.version, deleted = excluded.deleted,
         clear_key = excluded.clear_key, sort_key = excluded.sort_key, json = excluded.json`,
      row.id,
      row.version,
      row.deleted ? 1 : 0,
      row.clearKey,
      row.sortKey,
      row.data ? JSON.stringify(row.data) : null,
    );
  }
  user(id: string): UserRow | null {
    const r = this.first("SELECT * FROM dir_users WHERE id = ?", id);
    return r ? toEntity<DirectoryUser>(r) : null;
  }
  putUser(row: UserRow) {
    this.sql.exec("DELETE FROM served_users WHERE id = ?", row.id);
    this.sql.exec(
      `INSERT INTO dir_users (id, version, deleted, clear_key, sort_key, state, email, idp_id, json, changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
         clear_key = excluded.clear_key, sort_key = excluded.sort_key, state = excluded.state, email = excluded.email,
         idp_id = excluded.idp_id, json = excluded.json, changed_at = excluded.changed_at`,
      row.id,
      row.version,
      row.deleted ? 1 : 0,
      row.clearKey,
      row.sortKey,
      row.data?.state ?? null,
      emailKey(row.data?.email),
      row.data?.idp_id ?? null,
      row.data ? JSON.stringify(row.data) : null,
      this.now(),
    );
  }
  group(id: string): GroupRow | null {
    const r = this.first("SELECT * FROM dir_groups WHERE id = ?", id);
    return r ? toEntity<DirectoryGroup>(r) : null;
  }
  putGroup(row: GroupRow) {
    this.sql.exec(
      `INSERT INTO dir_groups (id, version, deleted, clear_key, sort_key, json, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, clear_key = excluded.clear_key,
         sort_key = excluded.sort_key, json = excluded.json, changed_at = excluded.changed_at`,
      row.id,
      row.version,
      row.deleted ? 1 : 0,
      row.clearKey,
      row.sortKey,
      row.data ? JSON.stringify(row.data) : null,
      this.now(),
    );
  }
  private edges(where: string, ...ids: string[]): EdgeRow[] {
    return this.sql
      .exec<Row>(`SELECT * FROM memberships WHERE ${where}`, ...ids)
      .toArray()
      .map((r) => ({ userId: str(r.user_id), groupId: str(r.group_id), key: str(r.key), present: r.present === 1 }));
  }
  edge(userId: string, groupId: string): EdgeRow | null {
    return this.edges("user_id = ? AND group_id = ?", userId, groupId)[0] ?? null;
  }
  putEdge(row: EdgeRow) {
    this.sql.exec("DELETE FROM served_users WHERE id = ?", row.userId);
    this.sql.exec(
      `INSERT INTO memberships (user_id, group_id, key, present, changed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, group_id) DO UPDATE SET key = excluded.key, present = excluded.present,
         changed_at = excluded.changed_at`,
      row.userId,
      row.groupId,
      row.key,
      row.present ? 1 : 0,
      this.now(),
    );
  }
  edgesOfUser(userId: string) {
    return this.edges("user_id = ?", userId);
  }
  edgesOfGroup(groupId: string) {
    return this.edges("group_id = ?", groupId);
  }
  allIds() {
    return {
      users: this.sql
        .exec<Row>("SELECT id, email, idp_id FROM dir_users")
        .toArray()
        .map((r) => ({ id: str(r.id), email: r.email ? str(r.email) : null, idp: str(r.idp_id) })),
      groups: this.column("SELECT id FROM dir_groups"),
    };
  }
  purge() {
    this.sql.exec("DELETE FROM dir_users; DELETE FROM dir_groups; DELETE FROM memberships; DELETE FROM served_users;");
  }
  markDirty(key: DirtyKey, touched?: readonly string[]) {
    this.onDirty(key, touched);
    // Lookups and list chunks hold their records: a record's change rewrites them too (its lookups,
    // its entry in each list it is in; for the directory, the registry's lists of directories).
    if (key.startsWith("user:")) {
      const id = key.slice(5);
      // Whatever changed it (its groups too) may change how it is served.
      this.sql.exec("DELETE FROM served_users WHERE id = ?", id);
      const r = this.first("SELECT email, idp_id, sort_key, deleted FROM dir_users WHERE id = ?", id);
      if (!r) return;
      if (!r.deleted && r.email) this.onDirty(`email:${str(r.email)}`);
      if (!r.deleted && r.idp_id) this.onDirty(`idp:${str(r.idp_id)}`);
      const at = [str(r.sort_key)];
      this.onDirty("idx:du", at);
      for (const e of this.edgesOfUser(id)) if (e.present) this.onDirty(`idx:gu:${e.groupId}`, at);
    } else if (key.startsWith("group:")) {
      const r = this.first("SELECT sort_key FROM dir_groups WHERE id = ?", key.slice(6));
      if (r) this.onDirty("idx:dg", [str(r.sort_key)]);
    } else if (key === "dir") this.onDirty("registry");
  }
  changed(change: Change) {
    this.onChange(change);
  }

  // --- reconcile: what a crawl generation saw ---
  markSeen(table: "dir_users" | "dir_groups", ids: readonly string[], gen: number) {
    this.sql.exec(
      `UPDATE ${table} SET seen_gen = ? WHERE id IN (SELECT value FROM json_each(?))`,
      gen,
      JSON.stringify(ids),
    );
  }
  markMembersSeen(groupId: string, userIds: readonly string[], gen: number) {
    this.sql.exec(
      "UPDATE memberships SET seen_gen = ? WHERE group_id = ? AND user_id IN (SELECT value FROM json_each(?))",
      gen,
      groupId,
      JSON.stringify(userIds),
    );
  }
  /** Live records and memberships a complete crawl did not see and nothing touched since it began. */
  unseen(gen: number, since: number) {
    const live = (table: string) =>
      this.column(`SELECT json FROM ${table} WHERE deleted = 0 AND seen_gen < ? AND changed_at < ?`, gen, since).map(
        (j) => JSON.parse(j) as Record<string, unknown>,
      );
    const edges = this.sql
      .exec<Row>(
        "SELECT user_id, group_id FROM memberships WHERE present = 1 AND seen_gen < ? AND changed_at < ?",
        gen,
        since,
      )
      .toArray()
      .map((r) => ({ userId: str(r.user_id), groupId: str(r.group_id) }));
    return { users: live("dir_users") as DirectoryUser[], groups: live("dir_groups") as DirectoryGroup[], edges };
  }
  liveGroupIds(): string[] {
    return this.column("SELECT id FROM dir_groups WHERE deleted = 0");
  }
  liveUserIds(): string[] {
    return this.column("SELECT id FROM dir_users WHERE deleted = 0");
  }

  // --- read side of the write model (what the projection materialises) ---
  /** A live user with its live groups, as served. */
  userWithGroups(id: string): (DirectoryUser & { groups: DirectoryGroup[] }) | null {
    const row = this.user(id);
    if (!row || row.deleted || !row.data) return null;
    const groups = this.column(
      // CROSS JOIN fixes the join order: from the user's memberships out, never a walk of all groups.
      `SELECT g.json FROM memberships m CROSS JOIN dir_groups g ON g.id = m.group_id
       WHERE m.user_id = ? AND m.present = 1 AND g.deleted = 0 ORDER BY g.sort_key`,
      id,
    ).map((j) => JSON.parse(j) as DirectoryGroup);
    return { ...row.data, groups };
  }
  /**
   * A live user as served, kept until its next change. Call it only between changes (a flush, a
   * read of the writer's state), never inside one: a change empties the entry at any point of
   * its transaction.
   */
  servedUser(id: string): string | null {
    const kept = this.first("SELECT json FROM served_users WHERE id = ?", id);
    if (kept) return str(kept.json);
    const user = this.userWithGroups(id);
    if (!user) return null;
    const json = JSON.stringify(user);
    this.sql.exec("INSERT OR REPLACE INTO served_users (id, json) VALUES (?, ?)", id, json);
    return json;
  }
  /** Live users' sort keys after `after` (from the start when null), ascending, at most `limit`. */
  userSortKeys(after: string | null, limit: number): string[] {
    return this.column(
      "SELECT sort_key FROM dir_users WHERE deleted = 0 AND sort_key > ? ORDER BY sort_key LIMIT ?",
      after ?? "",
      limit,
    );
  }
  groupSortKeys(after: string | null, limit: number): string[] {
    return this.column(
      "SELECT sort_key FROM dir_groups WHERE deleted = 0 AND sort_key > ? ORDER BY sort_key LIMIT ?",
      after ?? "",
      limit,
    );
  }
  /**
   * Live members of a live group, in list order, as userSortKeys. CROSS JOIN fixes the join
   * order: from the group's memberships out (left to SQLite, it walked every live user to avoid a sort).
   */
  memberSortKeys(groupId: string, after: string | null, limit: number): string[] {
    return this.column(
      `SELECT u.sort_key FROM memberships m
       CROSS JOIN dir_users u ON u.id = m.user_id
       CROSS JOIN dir_groups g ON g.id = m.group_id
       WHERE m.group_id = ? AND m.present = 1 AND u.deleted = 0 AND g.deleted = 0 AND u.sort_key > ?
       ORDER BY u.sort_key LIMIT ?`,
      groupId,
      after ?? "",
      limit,
    );
  }
  sortKeysByEmail(email: string): string[] {
    return this.column("SELECT sort_key FROM dir_users WHERE email = ? AND deleted = 0 ORDER BY sort_key", email);
  }
  sortKeysByIdp(idp: string): string[] {
    return this.column("SELECT sort_key FROM dir_users WHERE idp_id = ? AND deleted = 0 ORDER BY sort_key", idp);
  }
  counts(): { active: number; inactive: number; groups: number } {
    const c = this.first("SELECT active, inactive, live_groups FROM dir_counts WHERE k = 1");
    return { active: Number(c?.active ?? 0), inactive: Number(c?.inactive ?? 0), groups: Number(c?.live_groups ?? 0) };
  }
}
