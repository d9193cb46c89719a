import { Hono } from "hono";
import type { AppEnv } from "../app";
import { emailKey } from "../directory/model";
import { requireApiKey } from "../http/auth";
import { notFound } from "../http/errors";
import { parseQuery, sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { KvReader } from "../read/kv-reader";
import { cursorKeys, listBody, listFromIndex, listFromMemory, readRecords } from "../read/lists";
import { isServable } from "../read/records";
import { UsersQuery } from "../schemas/list";
import { scopeRequired } from "./scope";

export const users = new Hono<AppEnv>();
users.use(requireApiKey);

const belongsTo = (directoryId: string) => (value: string | null) =>
  value !== null && (JSON.parse(value) as { directory_id?: string }).directory_id === directoryId;

users.get("/", async (c) => {
  const q = parseQuery(c, UsersQuery);
  const kv = new KvReader(c.env.CACHE);
  if (q.directory && (q.email || q.idp_id)) {
    // Exact lookups: (1) the lookup sets and cursor records, (2) the few users themselves.
    const lookups = [
      q.email ? kvKeys.usersByEmail(q.directory, emailKey(q.email) as string) : null,
      q.idp_id ? kvKeys.usersByIdp(q.directory, q.idp_id) : null,
    ].filter((k): k is string => k !== null);
    const fetched = await kv.getMany([...lookups, ...cursorKeys(q, kvKeys.user)]);
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
    const guard = q.directory ? { key: kvKeys.group(q.group), allows: belongsTo(q.directory) } : undefined;
    return sendJson(c, listBody(await listFromIndex(kv, kvKeys.groupMembers(q.group), kvKeys.user, q, guard)));
  }
  if (q.directory) {
    return sendJson(c, listBody(await listFromIndex(kv, kvKeys.directoryUsers(q.directory), kvKeys.user, q)));
  }
  throw scopeRequired("directory", "group");
});

users.get("/:id", async (c) => {
  const id = c.req.param("id");
  const value = await new KvReader(c.env.CACHE).get(kvKeys.user(id));
  if (!isServable(value)) throw notFound("Directory User", id);
  return sendJson(c, value);
});
