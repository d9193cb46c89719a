import type { Directory } from "../schemas/directory";
import type { DirectoryGroup } from "../schemas/group";
import type { DirectoryUser } from "../schemas/user";

/**
 * Ordering keys. Every record is a last-writer-wins register whose winner is the largest key,
 * so applying the same set of events in any order, any number of times, ends in one state.
 *
 * entity version = updated_at | is-delete | event time | event id
 *   - a change older than what is stored loses;
 *   - at equal `updated_at` a delete beats an update, so a tombstone is lifted only by a
 *     strictly newer record;
 *   - event time and id break the remaining ties deterministically.
 * edge key = event time | event id (membership events do not move `updated_at`).
 */
export type Version = string;

const pad = (ms: number) => Math.max(0, Math.trunc(ms)).toString().padStart(15, "0");

export const eventKey = (createdAtMs: number, eventId: string): string => `${pad(createdAtMs)}|${eventId}`;

export const entityVersion = (updatedAt: string, isDelete: boolean, evKey: string): Version =>
  `${pad(Date.parse(updatedAt))}|${isDelete ? 1 : 0}|${evKey}`;

/** Position in every list: by `created_at`, then id. */
export const sortKeyOf = (o: { id: string; created_at: string }): string => `${pad(Date.parse(o.created_at))}:${o.id}`;

export const idOfSortKey = (sortKey: string): string => sortKey.slice(sortKey.indexOf(":") + 1);

export interface EntityRow<T> {
  id: string;
  version: Version;
  deleted: boolean;
  /** Largest event key of a delete ever applied: memberships older than it stay void. */
  clearKey: string;
  sortKey: string;
  data: T | null;
}
export type UserRow = EntityRow<DirectoryUser>;
export type GroupRow = EntityRow<DirectoryGroup>;
export type DirectoryRow = EntityRow<Directory>;

export interface EdgeRow {
  userId: string;
  groupId: string;
  key: string;
  present: boolean;
}

/** A read-model key that must be rewritten in KV (see projection). */
export type DirtyKey =
  | "dir"
  | "sync"
  | "registry"
  | "idx:du"
  | "idx:dg"
  | `idx:gu:${string}`
  | `user:${string}`
  | `group:${string}`
  | `email:${string}`
  | `idp:${string}`;

export const emailKey = (email: string | null | undefined): string | null =>
  email ? email.trim().toLowerCase() : null;

/**
 * An effective change to what the cache serves, for the change feed. Apply reports a deletion
 * before it deletes (its last state is read then), anything else once it is made.
 */
export type Change =
  | { kind: "directory"; deleted: boolean }
  | { kind: "user" | "group"; id: string; deleted: boolean; created: boolean }
  | { kind: "membership"; userId: string; groupId: string; present: boolean };

/** The write model as the pure event application sees it. */
export interface DirectoryStore {
  directory(): DirectoryRow | null;
  putDirectory(row: DirectoryRow): void;
  user(id: string): UserRow | null;
  putUser(row: UserRow): void;
  group(id: string): GroupRow | null;
  putGroup(row: GroupRow): void;
  edge(userId: string, groupId: string): EdgeRow | null;
  putEdge(row: EdgeRow): void;
  edgesOfUser(userId: string): EdgeRow[];
  edgesOfGroup(groupId: string): EdgeRow[];
  /** Ids of every user and group row, live or not (to purge their read-model keys). */
  allIds(): { users: { id: string; email: string | null; idp: string }[]; groups: string[] };
  /** Drops every user, group and membership (the directory is gone). */
  purge(): void;
  /**
   * Marks a KV key for rewriting. For a list index (`idx:*`), `touched` names the entries (sort
   * keys) the change adds or removes, so only the chunks around them are re-cut; without it the
   * whole list is.
   */
  markDirty(key: DirtyKey, touched?: readonly string[]): void;
  changed(change: Change): void;
}
