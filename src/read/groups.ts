import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { sortKeyOf } from "../directory/model";
import { isPartial } from "../directory/projection";
import { kvKeys } from "../kv/keys";
import type { DirectoryGroup } from "../schemas/group";
import type { Pagination } from "../schemas/list";
import { GroupList, scopedPath } from "../upstream/client";
import { accessOf } from "./access";
import { recordOrReadThrough } from "./by-id";
import { directoryKnown, type Route, syncOf } from "./directory-scope";
import { cursorKeys, emptyList, type ListResult, listBody, listFromIndex, listFromMemory } from "./lists";
import { confineList, seesAll, seesRecord } from "./org-limit";
import { fromKv, fromUpstream, fromWriter, isServable, type Served } from "./records";
import { answeredByWriter, wantsStrong, writerOf } from "./strong";
import { listFromUpstream } from "./upstream-lists";
import { recordsOfDirectory } from "./writer-records";

/**
 * Reads of directory groups, shared by the flat routes (`/directory_groups`) and the
 * directory-scoped ones (`/directories/{id}/groups`). Groups are served the same by both.
 */
export type GroupListQuery = Pagination & { directory?: string; user?: string };

export async function listGroups(c: Context<AppEnv>, q: GroupListQuery, route: Route): Promise<Served> {
  const kv = c.get("kv");
  const pulling = c.get("config").upstream !== undefined;
  const access = accessOf(c);
  const send = (page: ListResult) => fromKv(listBody(seesAll(access, page.data) ? page : emptyList()));
  const upstream = async (directoryId?: string) => {
    const [path, query] = route.scoped
      ? [scopedPath(route.directoryId, "groups"), { ...q, directory: undefined }]
      : ["/directory_groups", q];
    const sync = directoryId ? syncOf(directoryId, route) : undefined;
    return fromUpstream(confineList(access, await listFromUpstream(c, path, query, GroupList, sync)));
  };

  // On a directory-scoped route, a directory of another organization is not found, whatever the filter.
  const known = directoryKnown(route, access);
  if (q.user) {
    // A user's groups are embedded in its record: one read holds the whole list (or, for a user
    // kept before its directory was held fully, says WorkOS answers).
    const userKey = kvKeys.user(q.user);
    const fetched = await kv.getMany([userKey, ...known.keys, ...cursorKeys(q, kvKeys.group)]);
    known.check?.(fetched);
    let user = fetched.get(userKey);
    let served = send;
    const writer = wantsStrong(c) ? await fromWriterWithCursors(c, q, user) : undefined;
    if (writer) {
      answeredByWriter(c);
      // The writer's state: the user as it holds it (deleted: no groups), cursors as it holds them.
      user = writer.user;
      for (const [k, v] of writer.cursors) fetched.set(k, v);
      served = (page) => fromWriter(listBody(seesAll(access, page.data) ? page : emptyList()));
    }
    if (!isServable(user)) return pulling && !user ? upstream(q.directory) : served(emptyList());
    // A user of another organization is answered as an unknown one (before its marker is read).
    if (!seesRecord(access, user)) return served(emptyList());
    const parsed = JSON.parse(user) as { directory_id: string; groups: DirectoryGroup[] };
    // Kept before its directory was held: its groups may be incomplete, WorkOS answers (a strong read too).
    if (pulling && isPartial(user)) return upstream(parsed.directory_id);
    const items = new Map<string, string>();
    for (const g of parsed.groups) {
      if (!q.directory || g.directory_id === q.directory) items.set(sortKeyOf(g), JSON.stringify(g));
    }
    const groups = recordsOfDirectory(c.env, access, "group", () => parsed.directory_id);
    return served(await listFromMemory(kv, items, groups, q, fetched));
  }
  const directory = q.directory as string;
  const page = await listFromIndex(
    kv,
    kvKeys.directoryGroups(directory),
    recordsOfDirectory(c.env, access, "group", () => directory),
    q,
    known.keys,
    known.check,
  );
  if (page) return send(page);
  if (pulling) return upstream(directory);
  known.orNotFound();
  return send(emptyList());
}

export function getGroup(c: Context<AppEnv>, id: string, route: Route): Promise<Served> {
  const kind = { what: "Directory Group", path: "directory_groups" } as const;
  if (!route.scoped)
    return recordOrReadThrough(c, kvKeys.group(id), kind, id, (client) => client.getGroup(id), "groups");
  const { directoryId } = route;
  return recordOrReadThrough(
    c,
    kvKeys.group(id),
    { ...kind, path: scopedPath(directoryId, "groups") },
    id,
    (client) => client.getDirectoryGroup(directoryId, id),
    "groups",
    { directoryId, serve: (json) => json },
  );
}

/**
 * A strong read of a user's groups: the user and the cursors' groups from the writer of the
 * user's directory (see writerOf); undefined when KV knows no such user or the writer holds none
 * (a default read answers).
 */
async function fromWriterWithCursors(c: Context<AppEnv>, q: GroupListQuery, stored: string | null | undefined) {
  if (!q.user) return undefined;
  const writer = writerOf(c, "user", q.user, stored);
  if (!writer) return undefined;
  const cursorIds = [q.after, q.before].filter((id): id is string => id !== undefined);
  const [users, groups] = await Promise.all([
    writer.served("user", [q.user], true),
    cursorIds.length ? writer.served("group", cursorIds) : ({} as Record<string, string | null>),
  ]);
  const user = users[q.user];
  if (!user) return undefined;
  return { user, cursors: new Map(Object.entries(groups).map(([id, v]) => [kvKeys.group(id), v])) };
}
