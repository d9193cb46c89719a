import { Hono } from "hono";
import type { AppEnv } from "../app";
import { sortKeyOf } from "../directory/model";
import { requireApiKey } from "../http/auth";
import { notFound } from "../http/errors";
import { parseQuery, sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { KvReader } from "../read/kv-reader";
import { cursorKeys, listBody, listFromIndex, listFromMemory } from "../read/lists";
import { isServable } from "../read/records";
import type { DirectoryGroup } from "../schemas/group";
import { GroupsQuery } from "../schemas/list";
import { scopeRequired } from "./scope";

export const groups = new Hono<AppEnv>();
groups.use(requireApiKey);

groups.get("/", async (c) => {
  const q = parseQuery(c, GroupsQuery);
  const kv = new KvReader(c.env.CACHE);
  if (q.user) {
    // A user's groups are embedded in its record: one read holds the whole list.
    const userKey = kvKeys.user(q.user);
    const fetched = await kv.getMany([userKey, ...cursorKeys(q, kvKeys.group)]);
    const user = fetched.get(userKey);
    const items = new Map<string, string>();
    if (isServable(user)) {
      for (const g of (JSON.parse(user) as { groups: DirectoryGroup[] }).groups) {
        if (!q.directory || g.directory_id === q.directory) items.set(sortKeyOf(g), JSON.stringify(g));
      }
    }
    return sendJson(c, listBody(await listFromMemory(kv, items, kvKeys.group, q, fetched)));
  }
  if (q.directory) {
    return sendJson(c, listBody(await listFromIndex(kv, kvKeys.directoryGroups(q.directory), kvKeys.group, q)));
  }
  throw scopeRequired("directory", "user");
});

groups.get("/:id", async (c) => {
  const id = c.req.param("id");
  const value = await new KvReader(c.env.CACHE).get(kvKeys.group(id));
  if (!isServable(value)) throw notFound("Directory Group", id);
  return sendJson(c, value);
});
