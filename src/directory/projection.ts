import { kvKeys } from "../kv/keys";
import type { KvWrite } from "../kv/outbox";
import { type Directory, eventDirectory } from "../schemas/directory";
import { type DirtyKey, idOfSortKey } from "./model";
import type { SqliteStore } from "./sqlite-store";

/** Deleted records stay in KV as tombstones this long, so cursors naming them still resolve. */
export const TOMBSTONE_TTL_S = 7 * 24 * 3600;

/**
 * A tombstone: not an object anyone is served; it keeps the deleted record's list position, and
 * its directory (whose writer a strong read asks).
 */
export const tombstone = (id: string, sortKey: string, directoryId: string) =>
  JSON.stringify({ object: "tombstone", id, sort_key: sortKey, directory_id: directoryId });

/**
 * A user kept while its directory is not held fully: its `groups` may be incomplete, so the
 * flat routes (which serve them) ask WorkOS instead. The mark leads the JSON so a reader tells it
 * from the bytes and serves the rest without parsing (see read/records.ts servedText).
 */
export const PARTIAL_PREFIX = '{"partial":true,';
export const partialRecord = (json: string) => `${PARTIAL_PREFIX}${json.slice(1)}`;

/** Whether a stored user was kept before its directory was held fully (its `groups` may be incomplete). */
export const isPartial = (value: string): boolean => value.startsWith(PARTIAL_PREFIX);

/** A stored record as the API serves it: a partial user's mark taken off, without parsing. */
export const servedText = (value: string): string =>
  isPartial(value) ? `{${value.slice(PARTIAL_PREFIX.length)}` : value;

export const REGISTRY_MARK = "call:registry";

const after = (mark: string, prefix: string) => mark.slice(prefix.length);

/** The KV key a dirty mark rewrites. */
export function kvKeyOf(directoryId: string, mark: DirtyKey): string {
  if (mark === "dir") return kvKeys.directory(directoryId);
  if (mark === "sync") return kvKeys.syncMarker(directoryId);
  if (mark === "registry") return REGISTRY_MARK;
  if (mark === "idx:du") return kvKeys.directoryUsers(directoryId);
  if (mark === "idx:dg") return kvKeys.directoryGroups(directoryId);
  if (mark.startsWith("idx:gu:")) return kvKeys.groupMembers(after(mark, "idx:gu:"));
  if (mark.startsWith("user:")) return kvKeys.user(after(mark, "user:"));
  if (mark.startsWith("group:")) return kvKeys.group(after(mark, "group:"));
  if (mark.startsWith("email:")) return kvKeys.usersByEmail(directoryId, after(mark, "email:"));
  return kvKeys.usersByIdp(directoryId, after(mark, "idp:"));
}

/** A record as the API serves it now (the exact JSON), or null when it is not live. */
export function servedJson(store: SqliteStore, kind: "directory" | "user" | "group", id: string): string | null {
  if (kind === "user") {
    const user = store.userWithGroups(id);
    return user ? JSON.stringify(user) : null;
  }
  const row = kind === "group" ? store.group(id) : store.directory();
  if (!row || row.deleted || !row.data) return null;
  if (kind === "group") return JSON.stringify(row.data);
  const { active, inactive, groups } = store.counts();
  // `domains` (kept from events, for the change feed) is not part of the REST shape.
  const { domains: _domains, ...directory } = row.data as Directory;
  return JSON.stringify({ ...directory, metadata: { users: { active, inactive }, groups } });
}

/** The directory as WorkOS's directory events carry it, or null when it is not live. */
export function eventDirectoryJson(store: SqliteStore): string | null {
  const row = store.directory();
  return row && !row.deleted && row.data ? JSON.stringify(eventDirectory(row.data)) : null;
}

/**
 * The current value of the KV key behind a dirty mark, read from the write model. Stored
 * values are the exact JSON the API serves, so reads send them without re-serialising.
 */
export function materialize(
  store: SqliteStore,
  directoryId: string,
  mark: DirtyKey,
  /** Whether the directory is held fully: list indexes are published only then. */
  held: boolean,
  notifyRegistry: () => Promise<void>,
): KvWrite {
  const key = kvKeyOf(directoryId, mark);
  if (mark === "registry") return { kind: "call", key, run: notifyRegistry };
  if (mark === "sync") return { kind: "put", key, value: JSON.stringify({ held }) };
  if (mark === "dir") {
    const row = store.directory();
    if (!row) return { kind: "delete", key };
    const value = servedJson(store, "directory", row.id);
    if (value === null)
      return { kind: "put", key, value: tombstone(row.id, row.sortKey, directoryId), expirationTtl: TOMBSTONE_TTL_S };
    return { kind: "put", key, value };
  }
  // An absent index reads as "not held": the reader then asks WorkOS instead of serving a
  // partial list. A deleted directory's indexes go too.
  const publish = held && !store.directory()?.deleted;
  if (mark.startsWith("idx:") && !publish) return { kind: "delete", key };
  // Chunks carry their users' or groups' records (see chunks.ts), so a page is read without them.
  const records = (kind: "user" | "group") => (sortKeys: readonly string[]) =>
    sortKeys.map((k) => (kind === "user" ? store.servedUser(idOfSortKey(k)) : servedJson(store, kind, idOfSortKey(k))));
  if (mark === "idx:du")
    return { kind: "index", key, read: (after, limit) => store.userSortKeys(after, limit), records: records("user") };
  if (mark === "idx:dg")
    return { kind: "index", key, read: (after, limit) => store.groupSortKeys(after, limit), records: records("group") };
  if (mark.startsWith("idx:gu:")) {
    const groupId = after(mark, "idx:gu:");
    const group = store.group(groupId);
    if (!group || group.deleted) return { kind: "delete", key };
    const read = (after: string | null, limit: number) => store.memberSortKeys(groupId, after, limit);
    return { kind: "index", key, read, records: records("user") };
  }
  if (mark.startsWith("email:")) return lookup(store, key, store.sortKeysByEmail(after(mark, "email:")));
  if (mark.startsWith("idp:")) return lookup(store, key, store.sortKeysByIdp(after(mark, "idp:")));
  if (mark.startsWith("user:")) {
    const id = after(mark, "user:");
    const user = store.servedUser(id);
    if (user !== null) return { kind: "put", key, value: held ? user : partialRecord(user) };
    const row = store.user(id);
    return row
      ? { kind: "put", key, value: tombstone(id, row.sortKey, directoryId), expirationTtl: TOMBSTONE_TTL_S }
      : { kind: "delete", key };
  }
  const id = after(mark, "group:");
  const group = servedJson(store, "group", id);
  if (group !== null) return { kind: "put", key, value: group };
  const row = store.group(id);
  return row
    ? { kind: "put", key, value: tombstone(id, row.sortKey, directoryId), expirationTtl: TOMBSTONE_TTL_S }
    : { kind: "delete", key };
}

/**
 * A lookup by email or IdP id holds the matching users' records themselves (a JSON array of them,
 * as served), so a lookup is answered in one KV round trip. Each change of such a user rewrites
 * its lookups too (see SqliteStore.markDirty).
 */
function lookup(store: SqliteStore, key: string, sortKeys: string[]): KvWrite {
  const users = sortKeys.map((k) => store.servedUser(idOfSortKey(k))).filter((u) => u !== null);
  return users.length ? { kind: "put", key, value: `[${users.join(",")}]` } : { kind: "delete", key };
}
