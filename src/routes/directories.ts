import { Hono } from "hono";
import type { AppEnv } from "../app";
import { requireApiKey } from "../http/auth";
import { notFound } from "../http/errors";
import { parseQuery, sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { KvReader } from "../read/kv-reader";
import { listBody, listFromIndex, listFromMemory, readRecords } from "../read/lists";
import { isServable } from "../read/records";
import { DirectoriesQuery } from "../schemas/list";

export const directories = new Hono<AppEnv>();
directories.use(requireApiKey);

directories.get("/", async (c) => {
  const q = parseQuery(c, DirectoriesQuery);
  const kv = new KvReader(c.env.CACHE);
  if (q.search || q.domain) {
    // Name search and domain have no KV index: the registry answers them from SQLite.
    const registry = c.env.REGISTRY.getByName("registry");
    const sortKeys = await registry.search({ organizationId: q.organization_id, search: q.search, domain: q.domain });
    const items = await readRecords(kv, sortKeys, kvKeys.directory);
    return sendJson(c, listBody(await listFromMemory(kv, items, kvKeys.directory, q)));
  }
  const index = q.organization_id ? kvKeys.organizationDirectories(q.organization_id) : kvKeys.directories();
  return sendJson(c, listBody(await listFromIndex(kv, index, kvKeys.directory, q)));
});

directories.get("/:id", async (c) => {
  const id = c.req.param("id");
  const value = await new KvReader(c.env.CACHE).get(kvKeys.directory(id));
  if (!isServable(value)) throw notFound("Directory", id);
  return sendJson(c, value);
});
