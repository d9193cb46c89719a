import type { Context } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../app-env";
import { idOfSortKey, sortKeyOf } from "../directory/model";
import { kvKeys } from "../kv/keys";
import { Directory } from "../schemas/directory";
import type { DirectoriesQuery } from "../schemas/list";
import { DirectoryList } from "../upstream/client";
import { accessOf } from "./access";
import { NotFound, Unavailable, UpstreamRefused } from "./errors";
import {
  cursorKeys,
  emptyList,
  isHeld,
  type ListResult,
  listBody,
  listFromIndex,
  listFromMemory,
  listFromSortKeys,
} from "./lists";
import { type Access, confineList, organizationsFor, sees, seesRecord } from "./org-limit";
import { readThroughDirectory } from "./read-through";
import { fromKv, fromUpstream, fromWriter, isServable, type Served } from "./records";
import { answeredByWriter, wantsStrong, writerOf } from "./strong";
import { listFromUpstream } from "./upstream-lists";
import { directoryList } from "./writer-records";

/**
 * Reads of directories. A key limited to organizations sees the directories of those only: a
 * list holds only them (its cursors and counts too), any other is not found.
 */
type Query = v.InferOutput<typeof DirectoriesQuery>;

const REGISTRY_MARKER = kvKeys.syncMarker("registry");

/** Upstream pages read per organization when WorkOS answers a list for a key of several organizations. */
const MAX_PAGES_PER_ORGANIZATION = 10;

export async function listDirectories(c: Context<AppEnv>, q: Query): Promise<Served> {
  const kv = c.get("kv");
  const access = accessOf(c);
  const pulling = c.get("config").upstream !== undefined;
  const source = directoryList(c.env, access);
  const send = (page: ListResult) => fromKv(listBody(page));
  // The organizations asked for, within the key's: undefined for every one.
  const organizations = organizationsFor(access, q.organization_id);
  if (organizations?.length === 0) return send(emptyList());
  const organization = organizations?.length === 1 ? organizations[0] : undefined;
  // Until a complete listing of WorkOS's directories has been taken, WorkOS answers.
  const upstream = async () => {
    if (organizations && !organization) {
      // WorkOS's answers, paged here: not kept as the cache's own.
      const page = await fromUpstreamByOrganization(c, access, organizations, q);
      return { body: listBody(page), from: "upstream" } satisfies Served;
    }
    const query = { ...q, organization_id: organization };
    return fromUpstream(confineList(access, await listFromUpstream(c, "/directories", query, DirectoryList)));
  };
  if (q.search || q.domain || (organizations && !organization)) {
    if (pulling && !isHeld(await kv.get(REGISTRY_MARKER))) return upstream();
    // Name search, domain and several organizations have no KV index: the registry answers them from SQLite.
    const registry = c.env.REGISTRY.getByName("registry");
    const found = await registry.search({ organizationIds: organizations, search: q.search, domain: q.domain });
    // The registry holds the directories as served: no KV read but a cursor's.
    const items = new Map(found.flatMap((d) => (d.json === null ? [] : [[d.sortKey, d.json] as const])));
    if (items.size === found.length) return send(await listFromMemory(kv, items, source, q));
    const sortKeys = found.map((d) => d.sortKey);
    return send(await listFromSortKeys(kv, sortKeys, source, q));
  }
  const index = organization ? kvKeys.organizationDirectories(organization) : kvKeys.directories();
  const page = await listFromIndex(kv, index, source, q, pulling ? [REGISTRY_MARKER] : [], (read) =>
    pulling && !isHeld(read.get(REGISTRY_MARKER)) ? "absent" : "ok",
  );
  if (page) return send(page);
  return pulling ? upstream() : send(emptyList());
}

/**
 * Directories of several organizations while the cache holds no complete listing: WorkOS's list
 * of each (directories per organization are few), paged here. Cursors resolve among these only.
 */
async function fromUpstreamByOrganization(
  c: Context<AppEnv>,
  access: Access,
  organizations: readonly string[],
  q: Query,
): Promise<ListResult> {
  const items = new Map<string, string>();
  for (const organization_id of organizations) {
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES_PER_ORGANIZATION; page++) {
      const query = { organization_id, search: q.search, domain: q.domain, limit: 100, after };
      const body = await listFromUpstream(c, "/directories", query, DirectoryList).catch((err) => {
        // An organization WorkOS does not know (422) has no directories.
        if (err instanceof UpstreamRefused && err.status === 422) return null;
        throw err;
      });
      for (const d of body?.data ?? []) if (sees(access, d.organization_id)) items.set(sortKeyOf(d), JSON.stringify(d));
      after = body?.list_metadata.after ?? undefined;
      if (!after) break;
    }
    if (after)
      throw new Unavailable(
        "upstream_unavailable",
        "Too many directories to list before the cache holds them; retry shortly.",
        30,
      );
  }
  const fetched = new Map<string, string | null>(cursorKeys(q, kvKeys.directory).map((k) => [k, null]));
  for (const [sortKey, json] of items) {
    const key = kvKeys.directory(idOfSortKey(sortKey));
    if (fetched.has(key)) fetched.set(key, json);
  }
  return listFromMemory(c.get("kv"), items, directoryList(c.env, access), q, fetched);
}

export async function getDirectory(c: Context<AppEnv>, id: string): Promise<Served> {
  const access = accessOf(c);
  const pulling = c.get("config").upstream !== undefined;
  const key = kvKeys.directory(id);
  const read = await c.get("kv").getMany(pulling ? [key, kvKeys.syncMarker(id)] : [key]);
  const value = read.get(key);
  if (wantsStrong(c)) {
    // The writer's state: the directory it holds (counts included), or a 404 for one deleted.
    const held = (await writerOf(c, "directory", id, value)?.served("directory", [id]))?.[id];
    if (held) answeredByWriter(c);
    if (isServable(held)) {
      if (!seesRecord(access, held)) throw new NotFound("Directory", id);
      return fromWriter(held);
    }
    if (held) throw new NotFound("Directory", id);
  }
  if (isServable(value)) {
    if (!seesRecord(access, value)) throw new NotFound("Directory", id);
    if (!pulling || isHeld(read.get(kvKeys.syncMarker(id)))) return fromKv(value);
    // Held only in part: its counts come from WorkOS until the backfill completes.
    const path = `/directories/${encodeURIComponent(id)}`;
    const sync = { directoryId: id, whenUnknown: "not_found" } as const;
    return fromUpstream(await listFromUpstream(c, path, {}, Directory, sync));
  }
  if (value) throw new NotFound("Directory", id);
  const directory = await readThroughDirectory(c, id);
  if (!sees(access, directory.organization_id)) throw new NotFound("Directory", id);
  return fromUpstream(directory);
}
