import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { sortKeyOf } from "../directory/model";
import { cachedAnswers } from "../http/answers";
import { requireApiKey } from "../http/auth";
import { parseQuery, sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { cursorKeys, emptyList, isHeld, listBody, listFromIndex, listFromMemory } from "../read/lists";
import { listFromUpstream, recordOrReadThrough } from "../read/read-through";
import { isServable } from "../read/records";
import type { DirectoryGroup } from "../schemas/group";
import { GroupsQuery } from "../schemas/list";
import { GroupList } from "../upstream/client";
import { scopeRequired } from "./scope";

export const groups = new Hono<AppEnv>();
groups.use(requireApiKey, cachedAnswers);

groups.get("/", async (c) => {
  const q = parseQuery(c, GroupsQuery);
  if (!q.directory && !q.user) throw scopeRequired("directory", "user");
  const kv = c.get("kv");
  const pulling = c.get("config").upstream !== undefined;
  const fromUpstream = async (directoryId?: string) =>
    sendJson(c, JSON.stringify(await listFromUpstream(c, "/directory_groups", q, GroupList, directoryId)), "upstream");

  if (q.user) {
    // A user's groups are embedded in its record: one read holds the whole list (plus, when
    // pulling, one for whether its directory is held fully).
    const userKey = kvKeys.user(q.user);
    const fetched = await kv.getMany([userKey, ...cursorKeys(q, kvKeys.group)]);
    const user = fetched.get(userKey);
    if (!isServable(user)) return pulling && !user ? fromUpstream(q.directory) : sendJson(c, listBody(emptyList()));
    const parsed = JSON.parse(user) as { directory_id: string; groups: DirectoryGroup[] };
    if (pulling && !isHeld(await kv.get(kvKeys.syncMarker(parsed.directory_id))))
      return fromUpstream(parsed.directory_id);
    const items = new Map<string, string>();
    for (const g of parsed.groups) {
      if (!q.directory || g.directory_id === q.directory) items.set(sortKeyOf(g), JSON.stringify(g));
    }
    return sendJson(c, listBody(await listFromMemory(kv, items, kvKeys.group, q, fetched)));
  }
  const directory = q.directory as string;
  const page = await listFromIndex(kv, kvKeys.directoryGroups(directory), kvKeys.group, q);
  if (page) return sendJson(c, listBody(page));
  return pulling ? fromUpstream(directory) : sendJson(c, listBody(emptyList()));
});

groups.get("/:id", (c) => {
  const id = c.req.param("id");
  return recordOrReadThrough(
    c,
    kvKeys.group(id),
    { what: "Directory Group", path: "directory_groups" },
    id,
    (client) => client.getGroup(id),
    (g) => ({ directoryId: g.directory_id, records: { groups: [g] } }),
  );
});
