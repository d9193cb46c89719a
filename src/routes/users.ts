import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { emailKey } from "../directory/model";
import { cachedAnswers } from "../http/answers";
import { requireApiKey } from "../http/auth";
import { parseQuery, sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { cursorKeys, emptyList, isHeld, listBody, listFromIndex, listFromMemory, readRecords } from "../read/lists";
import { listFromUpstream, recordOrReadThrough } from "../read/read-through";
import { UsersQuery } from "../schemas/list";
import { UserList } from "../upstream/client";
import { scopeRequired } from "./scope";

export const users = new Hono<AppEnv>();
users.use(requireApiKey, cachedAnswers);

const directoryOf = (json: string | null | undefined) =>
  json ? (JSON.parse(json) as { directory_id?: string }).directory_id : undefined;

users.get("/", async (c) => {
  const q = parseQuery(c, UsersQuery);
  if (!q.directory && !q.group) throw scopeRequired("directory", "group");
  const kv = c.get("kv");
  const pulling = c.get("config").upstream !== undefined;
  // Lists the cache does not hold fully are answered by WorkOS (and their backfill starts).
  const fromUpstream = async (directoryId?: string) =>
    sendJson(c, JSON.stringify(await listFromUpstream(c, "/directory_users", q, UserList, directoryId)), "upstream");

  if (q.directory && (q.email || q.idp_id)) {
    // Exact lookups: (1) the lookup sets, the sync marker and cursor records, (2) the users.
    const marker = kvKeys.syncMarker(q.directory);
    const lookups = [
      q.email ? kvKeys.usersByEmail(q.directory, emailKey(q.email) as string) : null,
      q.idp_id ? kvKeys.usersByIdp(q.directory, q.idp_id) : null,
    ].filter((k): k is string => k !== null);
    const fetched = await kv.getMany([...lookups, ...(pulling ? [marker] : []), ...cursorKeys(q, kvKeys.user)]);
    if (pulling && !isHeld(fetched.get(marker))) return fromUpstream(q.directory);
    const sets = lookups.map((k) => new Set(JSON.parse(fetched.get(k) ?? "[]") as string[]));
    const matching = [...(sets[0] ?? [])].filter((k) => sets.every((s) => s.has(k)));
    const items = await readRecords(kv, matching, kvKeys.user);
    if (q.group) {
      for (const [k, json] of items) {
        const groups = (JSON.parse(json) as { groups: { id: string }[] }).groups;
        if (!groups.some((g) => g.id === q.group)) items.delete(k);
      }
    }
    return sendJson(c, listBody(await listFromMemory(kv, items, kvKeys.user, q, fetched)));
  }
  if (q.group) {
    const groupKey = kvKeys.group(q.group);
    let directoryId: string | undefined;
    const page = await listFromIndex(kv, kvKeys.groupMembers(q.group), kvKeys.user, q, [groupKey], (read) => {
      directoryId = directoryOf(read.get(groupKey));
      return q.directory && directoryId && directoryId !== q.directory ? "empty" : "ok";
    });
    if (page) return sendJson(c, listBody(page));
    return pulling ? fromUpstream(directoryId ?? q.directory) : sendJson(c, listBody(emptyList()));
  }
  const directory = q.directory as string;
  const page = await listFromIndex(kv, kvKeys.directoryUsers(directory), kvKeys.user, q);
  if (page) return sendJson(c, listBody(page));
  return pulling ? fromUpstream(directory) : sendJson(c, listBody(emptyList()));
});

users.get("/:id", (c) => {
  const id = c.req.param("id");
  return recordOrReadThrough(
    c,
    kvKeys.user(id),
    { what: "Directory User", path: "directory_users" },
    id,
    (client) => client.getUser(id),
    (u) => ({ directoryId: u.directory_id, records: { users: [u] } }),
  );
});
