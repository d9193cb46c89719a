import type { Directory } from "../schemas/directory";
import type { DsyncEvent } from "../schemas/events";
import type { DirectoryGroup } from "../schemas/group";
import type { DirectoryUser } from "../schemas/user";
import {
  type DirectoryStore,
  type EdgeRow,
  type EntityRow,
  emailKey,
  entityVersion,
  eventKey,
  sortKeyOf,
} from "./model";

export type Outcome = "applied" | "stale";

/**
 * Applies one validated event to a directory's write model. Pure over the store: no clock,
 * no I/O, so webhooks, backfill and replay share it and a test can run it without a runtime.
 * Idempotency by event id is the caller's (it owns the seen-events table).
 */
export function applyEvent(store: DirectoryStore, event: DsyncEvent): Outcome {
  const ek = eventKey(event.createdAt, event.id);
  switch (event.event) {
    case "dsync.activated":
      return upsertDirectory(store, event.data, ek);
    case "dsync.deleted":
      return deleteDirectory(store, event.data, ek);
  }
  // Nothing under a deleted directory changes until a newer activation lifts its tombstone.
  const dir = store.directory();
  if (dir && (dir.deleted || ek <= dir.clearKey)) return "stale";
  switch (event.event) {
    case "dsync.user.created":
    case "dsync.user.updated":
      return outcome(upsertUser(store, event.data, ek));
    case "dsync.user.deleted":
      return outcome(deleteUser(store, event.data, ek));
    case "dsync.group.created":
    case "dsync.group.updated":
      return outcome(upsertGroup(store, event.data, ek));
    case "dsync.group.deleted":
      return outcome(deleteGroup(store, event.data, ek));
    case "dsync.group.user_added": {
      const u = upsertUser(store, event.data.user, ek);
      const g = upsertGroup(store, event.data.group, ek);
      const e = setEdge(store, event.data.user.id, event.data.group.id, true, ek);
      return outcome(u || g || e);
    }
    case "dsync.group.user_removed":
      // Never creates records: a removal for someone unknown only leaves its edge tombstone.
      return outcome(setEdge(store, event.data.user.id, event.data.group.id, false, ek));
  }
}

const outcome = (changed: boolean): Outcome => (changed ? "applied" : "stale");

const isLive = <T>(row: EntityRow<T> | null): row is EntityRow<T> & { data: T } =>
  row !== null && !row.deleted && row.data !== null;

function upsertDirectory(store: DirectoryStore, data: Directory, ek: string): Outcome {
  const prev = store.directory();
  const version = entityVersion(data.updated_at, false, ek);
  if (prev && prev.version >= version) return "stale";
  const was = isLive(prev) ? prev.data : null;
  store.putDirectory({
    id: data.id,
    version,
    deleted: false,
    clearKey: prev?.clearKey ?? "",
    sortKey: sortKeyOf(data),
    data,
  });
  store.markDirty("dir");
  store.markDirty("registry");
  if (!was || JSON.stringify(was) !== JSON.stringify(data)) store.changed({ kind: "directory", deleted: false });
  return "applied";
}

function deleteDirectory(store: DirectoryStore, data: Directory, ek: string): Outcome {
  const prev = store.directory();
  const version = entityVersion(data.updated_at, true, ek);
  if (prev && prev.version >= version) return "stale";
  const { users, groups } = store.allIds();
  // The directory's own deletion first, then each record it takes with it (read before they go).
  if (isLive(prev)) {
    store.changed({ kind: "directory", deleted: true });
    for (const u of users) store.changed({ kind: "user", id: u.id, deleted: true, created: false });
    for (const g of groups) store.changed({ kind: "group", id: g, deleted: true, created: false });
  }
  for (const u of users) {
    store.markDirty(`user:${u.id}`);
    const email = emailKey(u.email);
    if (email) store.markDirty(`email:${email}`);
    store.markDirty(`idp:${u.idp}`);
  }
  for (const g of groups) {
    store.markDirty(`group:${g}`);
    store.markDirty(`idx:gu:${g}`);
  }
  store.purge();
  store.putDirectory({
    id: data.id,
    version,
    deleted: true,
    clearKey: prev && prev.clearKey > ek ? prev.clearKey : ek,
    sortKey: prev?.sortKey ?? sortKeyOf(data),
    data: null,
  });
  for (const key of ["dir", "registry", "idx:du", "idx:dg"] as const) store.markDirty(key);
  return "applied";
}

function upsertUser(store: DirectoryStore, user: DirectoryUser, ek: string): boolean {
  const prev = store.user(user.id);
  const version = entityVersion(user.updated_at, false, ek);
  if (prev && prev.version >= version) return false;
  const row = {
    id: user.id,
    version,
    deleted: false,
    clearKey: prev?.clearKey ?? "",
    sortKey: sortKeyOf(user),
    data: user,
  };
  store.putUser(row);
  const was = isLive(prev) ? prev.data : null;
  // A snapshot with a newer key but the same content (e.g. embedded in a membership event)
  // changes nothing anyone can read.
  if (was && JSON.stringify(was) === JSON.stringify(user)) return true;
  store.changed({ kind: "user", id: user.id, deleted: false, created: !was });
  store.markDirty(`user:${user.id}`);
  if (!was || was.state !== user.state) store.markDirty("dir");
  if (!was || prev?.sortKey !== row.sortKey) {
    const moved = was && prev ? [prev.sortKey, row.sortKey] : [row.sortKey];
    store.markDirty("idx:du", moved);
    // Its groups' member lists hold it at that position too (a user met first in a membership, or one that moved).
    for (const e of store.edgesOfUser(user.id)) if (e.present) store.markDirty(`idx:gu:${e.groupId}`, moved);
  }
  markLookups(store, was, user);
  return true;
}

function deleteUser(store: DirectoryStore, user: DirectoryUser, ek: string): boolean {
  const prev = store.user(user.id);
  const version = entityVersion(user.updated_at, true, ek);
  if (isLive(prev) && prev.version < version)
    store.changed({ kind: "user", id: user.id, deleted: true, created: false });
  const voided = voidEdges(store, store.edgesOfUser(user.id), ek);
  if (prev && prev.version >= version) {
    // Lost to a newer record, but memberships older than this delete stay void.
    if (prev.clearKey < ek) store.putUser({ ...prev, clearKey: ek });
    return voided || prev.clearKey < ek;
  }
  store.putUser({
    id: user.id,
    version,
    deleted: true,
    clearKey: prev && prev.clearKey > ek ? prev.clearKey : ek,
    sortKey: prev?.sortKey ?? sortKeyOf(user),
    data: null,
  });
  store.markDirty(`user:${user.id}`);
  if (isLive(prev)) {
    store.markDirty("dir");
    store.markDirty("idx:du", [prev.sortKey]);
    markLookups(store, prev.data, null);
  }
  return true;
}

function markLookups(store: DirectoryStore, was: DirectoryUser | null, now: DirectoryUser | null) {
  const [before, after] = [emailKey(was?.email), emailKey(now?.email)];
  if (before !== after) {
    if (before) store.markDirty(`email:${before}`);
    if (after) store.markDirty(`email:${after}`);
  }
  if (was?.idp_id !== now?.idp_id) {
    if (was) store.markDirty(`idp:${was.idp_id}`);
    if (now) store.markDirty(`idp:${now.idp_id}`);
  }
}

function upsertGroup(store: DirectoryStore, group: DirectoryGroup, ek: string): boolean {
  const prev = store.group(group.id);
  const version = entityVersion(group.updated_at, false, ek);
  if (prev && prev.version >= version) return false;
  const row = {
    id: group.id,
    version,
    deleted: false,
    clearKey: prev?.clearKey ?? "",
    sortKey: sortKeyOf(group),
    data: group,
  };
  store.putGroup(row);
  const was = isLive(prev) ? prev.data : null;
  if (was && JSON.stringify(was) === JSON.stringify(group)) return true;
  store.changed({ kind: "group", id: group.id, deleted: false, created: !was });
  store.markDirty(`group:${group.id}`);
  if (!was || prev?.sortKey !== row.sortKey) {
    store.markDirty("dir");
    store.markDirty("idx:dg", was && prev ? [prev.sortKey, row.sortKey] : [row.sortKey]);
  }
  // Members embed the group: their records change with it.
  for (const edge of store.edgesOfGroup(group.id)) {
    if (edge.present) store.markDirty(`user:${edge.userId}`);
  }
  return true;
}

function deleteGroup(store: DirectoryStore, group: DirectoryGroup, ek: string): boolean {
  const prev = store.group(group.id);
  const version = entityVersion(group.updated_at, true, ek);
  if (isLive(prev) && prev.version < version)
    store.changed({ kind: "group", id: group.id, deleted: true, created: false });
  // WorkOS sends no user_removed for the members of a deleted group (nor does the feed).
  const voided = voidEdges(store, store.edgesOfGroup(group.id), ek);
  if (prev && prev.version >= version) {
    if (prev.clearKey < ek) store.putGroup({ ...prev, clearKey: ek });
    return voided || prev.clearKey < ek;
  }
  store.putGroup({
    id: group.id,
    version,
    deleted: true,
    clearKey: prev && prev.clearKey > ek ? prev.clearKey : ek,
    sortKey: prev?.sortKey ?? sortKeyOf(group),
    data: null,
  });
  store.markDirty(`group:${group.id}`);
  if (isLive(prev)) {
    store.markDirty("dir");
    store.markDirty("idx:dg", [prev.sortKey]);
  }
  return true;
}

/** Where a user stands in its groups' member lists (unknown: the whole list is re-cut). */
function memberKey(store: DirectoryStore, userId: string): string[] | undefined {
  const user = store.user(userId);
  return user ? [user.sortKey] : undefined;
}

/** Voids memberships older than a delete of one of their ends; true if any was present. */
function voidEdges(store: DirectoryStore, edges: EdgeRow[], ek: string): boolean {
  let changed = false;
  for (const edge of edges) {
    if (edge.key >= ek) continue;
    store.putEdge({ ...edge, key: ek, present: false });
    if (edge.present) {
      store.markDirty(`user:${edge.userId}`);
      store.markDirty(`idx:gu:${edge.groupId}`, memberKey(store, edge.userId));
      changed = true;
    }
  }
  return changed;
}

function setEdge(store: DirectoryStore, userId: string, groupId: string, present: boolean, ek: string): boolean {
  const user = store.user(userId);
  const group = store.group(groupId);
  if ((user && ek <= user.clearKey) || (group && ek <= group.clearKey)) return false;
  const prev = store.edge(userId, groupId);
  if (prev && prev.key >= ek) return false;
  store.putEdge({ userId, groupId, key: ek, present });
  if ((prev?.present ?? false) !== present) {
    store.markDirty(`user:${userId}`);
    store.markDirty(`idx:gu:${groupId}`, memberKey(store, userId));
    store.changed({ kind: "membership", userId, groupId, present });
  }
  return true;
}
