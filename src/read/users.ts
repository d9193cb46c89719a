import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { emailKey, sortKeyOf } from "../directory/model";
import { isPartial } from "../directory/projection";
import { kvKeys } from "../kv/keys";
import type { Pagination } from "../schemas/list";
import type { DirectoryUserWithGroups } from "../schemas/user";
import { scopedPath, UserList, UserRecordList } from "../upstream/client";
import { accessOf } from "./access";
import { recordOrReadThrough } from "./by-id";
import { directoryKnown, type Route, syncOf } from "./directory-scope";
import {
  cursorKeys,
  emptyList,
  isHeld,
  type ListResult,
  listBody,
  listFromIndex,
  listFromMemory,
  listFromSortKeys,
  readRecords,
} from "./lists";
import { confineList, seesAll, seesRecord } from "./org-limit";
import { directoryOfStored, fromKv, fromUpstream, isServable, type Served } from "./records";
import { listFromUpstream } from "./upstream-lists";
import { recordsOfDirectory } from "./writer-records";

/**
 * Reads of directory users, shared by the flat routes (`/directory_users`, users with their
 * `groups`) and the directory-scoped ones (`/directories/{id}/users`, WorkOS's `DirectoryUser`
 * without `groups`; a user of another directory is not found there).
 */
export type UserListQuery = Pagination & { directory?: string; group?: string; email?: string; idp_id?: string };

/** A stored user (always kept with its `groups`) as a directory-scoped route serves it. */
export function withoutGroups(json: string): string {
  const { groups: _groups, partial: _partial, ...user } = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify(user);
}

export async function listUsers(c: Context<AppEnv>, q: UserListQuery, route: Route): Promise<Served> {
  const kv = c.get("kv");
  const pulling = c.get("config").upstream !== undefined;
  const access = accessOf(c);
  const usersOf = (directoryId: () => string | undefined) => recordsOfDirectory(c.env, access, "user", directoryId);
  const send = (found: ListResult) => {
    const page = seesAll(access, found.data) ? found : emptyList();
    return fromKv(listBody(route.scoped ? { ...page, data: page.data.map(withoutGroups) } : page));
  };
  // Lists the cache does not hold fully are answered by WorkOS (and their backfill starts).
  const upstream = async (directoryId?: string) => {
    const sync = directoryId ? syncOf(directoryId, route) : undefined;
    const body = route.scoped
      ? await listFromUpstream(
          c,
          scopedPath(route.directoryId, "users"),
          { ...q, directory: undefined },
          UserRecordList,
          sync,
        )
      : await listFromUpstream(c, "/directory_users", q, UserList, sync);
    return fromUpstream(confineList(access, body));
  };

  // On a directory-scoped route, a directory of another organization is not found, whatever the filter.
  const known = directoryKnown(route, access);
  if (q.directory && (q.email || q.idp_id)) {
    // Exact lookups: (1) the lookup sets, the sync marker and cursor records, (2) the users.
    const marker = kvKeys.syncMarker(q.directory);
    const lookups = [
      q.email ? kvKeys.usersByEmail(q.directory, emailKey(q.email) as string) : null,
      q.idp_id ? kvKeys.usersByIdp(q.directory, q.idp_id) : null,
    ].filter((k): k is string => k !== null);
    const fetched = await kv.getMany([
      ...lookups,
      ...known.keys,
      ...(pulling ? [marker] : []),
      ...cursorKeys(q, kvKeys.user),
    ]);
    known.check?.(fetched);
    if (pulling && !isHeld(fetched.get(marker))) return upstream(q.directory);
    const source = usersOf(() => q.directory);
    const values = lookups.map((k) => JSON.parse(fetched.get(k) ?? "[]") as (string | { id: string })[]);
    if (values.every((v) => v.every((u) => typeof u === "object"))) {
      // Lookups hold their users' records: the page is cut from them, in this one round trip.
      const found = values.map((v) => new Map((v as DirectoryUserWithGroups[]).map((u) => [u.id, u])));
      const items = new Map<string, string>();
      for (const [id, u] of found[0] ?? []) {
        if (!found.every((f) => f.has(id))) continue;
        if (q.group && !u.groups.some((g) => g.id === q.group)) continue;
        items.set(sortKeyOf(u), JSON.stringify(u));
      }
      return send(await listFromMemory(kv, items, source, q, fetched));
    }
    // Lookups written before they held records: sort keys, then the records.
    const sets = values.map((v) => new Set(v as string[]));
    const matching = [...(sets[0] ?? [])].filter((k) => sets.every((s) => s.has(k)));
    if (!q.group) return send(await listFromSortKeys(kv, matching, source, q, fetched));
    // Narrowed by group too: membership is in the records, so they are read first.
    const items = await readRecords(kv, matching, source);
    for (const [k, json] of items) {
      const groups = (JSON.parse(json) as { groups: { id: string }[] }).groups;
      if (!groups.some((g) => g.id === q.group)) items.delete(k);
    }
    return send(await listFromMemory(kv, items, source, q, fetched));
  }
  if (q.group) {
    const groupKey = kvKeys.group(q.group);
    let directoryId: string | undefined;
    const page = await listFromIndex(
      kv,
      kvKeys.groupMembers(q.group),
      usersOf(() => directoryId),
      q,
      [groupKey, ...known.keys],
      (read) => {
        known.check?.(read);
        const group = read.get(groupKey);
        directoryId = directoryOfStored(group);
        if (isServable(group) && !seesRecord(access, group)) return "empty";
        return q.directory && directoryId && directoryId !== q.directory ? "empty" : "ok";
      },
    );
    if (page) return send(page);
    return pulling ? upstream(directoryId ?? q.directory) : send(emptyList());
  }
  const directory = q.directory as string;
  const page = await listFromIndex(
    kv,
    kvKeys.directoryUsers(directory),
    usersOf(() => directory),
    q,
    known.keys,
    known.check,
  );
  if (page) return send(page);
  if (pulling) return upstream(directory);
  known.orNotFound();
  return send(emptyList());
}

export function getUser(c: Context<AppEnv>, id: string, route: Route): Promise<Served> {
  const kind = { what: "Directory User", path: "directory_users" } as const;
  if (!route.scoped) {
    // A user with `groups` is complete only once its directory is held (all memberships
    // crawled): until then it is stored marked partial, and WorkOS answers, as it does for lists.
    const pulling = c.get("config").upstream !== undefined;
    return recordOrReadThrough(
      c,
      kvKeys.user(id),
      kind,
      id,
      (client) => client.getUser(id),
      "users",
      undefined,
      pulling ? isPartial : undefined,
    );
  }
  const { directoryId } = route;
  return recordOrReadThrough(
    c,
    kvKeys.user(id),
    { ...kind, path: scopedPath(directoryId, "users") },
    id,
    (client) => client.getDirectoryUser(directoryId, id),
    "users",
    { directoryId, serve: withoutGroups },
  );
}
