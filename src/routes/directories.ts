import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireAdminKey, requireApiKey } from "../http/auth";
import { ApiError } from "../http/errors";
import { send, validQuery } from "../http/query";
import { kvKeys } from "../kv/keys";
import { NotFound } from "../read/errors";
import { emptyList, isHeld, listBody, listFromIndex, listFromSortKeys } from "../read/lists";
import { readThroughDirectory } from "../read/read-through";
import { fromKv, fromUpstream, isServable } from "../read/records";
import { listFromUpstream } from "../read/upstream-lists";
import { readClient, relay } from "../read/workos-reads";
import { directoryList } from "../read/writer-records";
import { Directory } from "../schemas/directory";
import { DirectoriesQuery } from "../schemas/list";
import { DirectoryList } from "../upstream/client";

export const directories = new Hono<AppEnv>();

const REGISTRY_MARKER = kvKeys.syncMarker("registry");

directories.get("/", requireApiKey, cachedAnswers, validQuery(DirectoriesQuery), async (c) => {
  const q = c.req.valid("query");
  const kv = c.get("kv");
  const pulling = c.get("config").upstream !== undefined;
  // Until a complete listing of WorkOS's directories has been taken, WorkOS answers.
  const upstream = async () => send(c, fromUpstream(await listFromUpstream(c, "/directories", q, DirectoryList)));
  if (q.search || q.domain) {
    if (pulling && !isHeld(await kv.get(REGISTRY_MARKER))) return upstream();
    // Name search and domain have no KV index: the registry answers them from SQLite.
    const registry = c.env.REGISTRY.getByName("registry");
    const sortKeys = await registry.search({ organizationId: q.organization_id, search: q.search, domain: q.domain });
    return send(c, fromKv(listBody(await listFromSortKeys(kv, sortKeys, directoryList(c.env), q))));
  }
  const index = q.organization_id ? kvKeys.organizationDirectories(q.organization_id) : kvKeys.directories();
  const page = await listFromIndex(kv, index, directoryList(c.env), q, pulling ? [REGISTRY_MARKER] : [], (read) =>
    pulling && !isHeld(read.get(REGISTRY_MARKER)) ? "absent" : "ok",
  );
  if (page) return send(c, fromKv(listBody(page)));
  return pulling ? upstream() : send(c, fromKv(listBody(emptyList())));
});

directories.get("/:id", requireApiKey, cachedAnswers, async (c) => {
  const id = c.req.param("id");
  const pulling = c.get("config").upstream !== undefined;
  const key = kvKeys.directory(id);
  const read = await c.get("kv").getMany(pulling ? [key, kvKeys.syncMarker(id)] : [key]);
  const value = read.get(key);
  if (isServable(value)) {
    if (!pulling || isHeld(read.get(kvKeys.syncMarker(id)))) return send(c, fromKv(value));
    // Held only in part: its counts come from WorkOS until the backfill completes.
    const path = `/directories/${encodeURIComponent(id)}`;
    const sync = { directoryId: id, whenUnknown: "not_found" } as const;
    return send(c, fromUpstream(await listFromUpstream(c, path, {}, Directory, sync)));
  }
  if (value) throw new NotFound("Directory", id);
  return send(c, fromUpstream(await readThroughDirectory(c, id)));
});

/** Forwarded to WorkOS; on success the directory leaves the cache and WorkOS's status is relayed. */
directories.delete("/:id", requireAdminKey, async (c) => {
  const id = c.req.param("id");
  const client = readClient(c);
  if (!client)
    throw new ApiError(503, "pull_disabled", "Deleting needs WORKOS_API_KEY: the cache forwards it to WorkOS.");
  let status: number;
  try {
    status = await client.deleteDirectory(id);
  } catch (err) {
    throw relay(c, err);
  }
  await c.env.DIRECTORY.getByName(id).purge(id);
  await c.env.REGISTRY.getByName("registry").put(id, null);
  if (status === 204) return c.body(null, 204);
  return c.json({}, status as 200 | 202);
});
