import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireAdminKey, requireApiKey } from "../http/auth";
import { ApiError, notFound } from "../http/errors";
import { parseQuery, sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { emptyList, isHeld, listBody, listFromIndex, listFromSortKeys } from "../read/lists";
import { listFromUpstream, readClient, readThroughDirectory, relay } from "../read/read-through";
import { isServable } from "../read/records";
import { directoryList } from "../read/writer-records";
import { Directory } from "../schemas/directory";
import { DirectoriesQuery } from "../schemas/list";
import { DirectoryList } from "../upstream/client";

export const directories = new Hono<AppEnv>();

const REGISTRY_MARKER = kvKeys.syncMarker("registry");

directories.get("/", requireApiKey, cachedAnswers, async (c) => {
  const q = parseQuery(c, DirectoriesQuery);
  const kv = c.get("kv");
  const pulling = c.get("config").upstream !== undefined;
  // Until a complete listing of WorkOS's directories has been taken, WorkOS answers.
  const fromUpstream = async () =>
    sendJson(c, JSON.stringify(await listFromUpstream(c, "/directories", q, DirectoryList)), "upstream");
  if (q.search || q.domain) {
    if (pulling && !isHeld(await kv.get(REGISTRY_MARKER))) return fromUpstream();
    // Name search and domain have no KV index: the registry answers them from SQLite.
    const registry = c.env.REGISTRY.getByName("registry");
    const sortKeys = await registry.search({ organizationId: q.organization_id, search: q.search, domain: q.domain });
    return sendJson(c, listBody(await listFromSortKeys(kv, sortKeys, directoryList(c.env), q)));
  }
  const index = q.organization_id ? kvKeys.organizationDirectories(q.organization_id) : kvKeys.directories();
  const page = await listFromIndex(kv, index, directoryList(c.env), q, pulling ? [REGISTRY_MARKER] : [], (read) =>
    pulling && !isHeld(read.get(REGISTRY_MARKER)) ? "absent" : "ok",
  );
  if (page) return sendJson(c, listBody(page));
  return pulling ? fromUpstream() : sendJson(c, listBody(emptyList()));
});

directories.get("/:id", requireApiKey, cachedAnswers, async (c) => {
  const id = c.req.param("id");
  const pulling = c.get("config").upstream !== undefined;
  const key = kvKeys.directory(id);
  const read = await c.get("kv").getMany(pulling ? [key, kvKeys.syncMarker(id)] : [key]);
  const value = read.get(key);
  if (isServable(value)) {
    if (!pulling || isHeld(read.get(kvKeys.syncMarker(id)))) return sendJson(c, value);
    // Held only in part: its counts come from WorkOS until the backfill completes.
    return sendJson(
      c,
      JSON.stringify(
        await listFromUpstream(c, `/directories/${encodeURIComponent(id)}`, {}, Directory, {
          directoryId: id,
          whenUnknown: "not_found",
        }),
      ),
      "upstream",
    );
  }
  if (value) throw notFound("Directory", id);
  return sendJson(c, JSON.stringify(await readThroughDirectory(c, id)), "upstream");
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
