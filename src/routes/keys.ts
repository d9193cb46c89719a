import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import { ApiError, invalidParameters } from "../http/errors";
import { forgetGrant } from "../keys/grants";
import { type AccessKey, CreateKey } from "../schemas/keys";

/**
 * `/admin/keys` (under the admin guard): access keys with scopes, stored hashed. The key itself
 * is shown once, when created.
 */
export const keys = new Hono<AppEnv>();

const store = (c: Context<AppEnv>) => c.env.KEYS.getByName("keys");
const unknown = (id: string) =>
  new ApiError(404, "entity_not_found", `Access key not found: '${id}'.`, { entity_id: id });
const found = (k: AccessKey | null, id: string): AccessKey => {
  if (!k) throw unknown(id);
  return k;
};

keys.post("/", async (c) => {
  const body = v.safeParse(CreateKey, await c.req.json().catch(() => undefined));
  if (!body.success) throw invalidParameters(body.issues);
  return c.json(await store(c).create(body.output), 201);
});

keys.get("/", async (c) => c.json({ object: "list", data: await store(c).list() }));

keys.get("/:id", async (c) => c.json(found(await store(c).get(c.req.param("id")), c.req.param("id"))));

/**
 * Revokes a key: at once in this isolate, within 6 s (memory tier and passed-key bounds) elsewhere here, KV's
 * across locations. The subscriptions it made stop delivering (paused; an administrator may resume them).
 */
keys.delete("/:id", async (c) => {
  const id = c.req.param("id");
  const revoked = await store(c).revoke(id);
  if (!revoked) throw unknown(id);
  forgetGrant(revoked.hash);
  await c.env.FEED.getByName("feed").pauseMadeBy(id);
  return c.json(revoked.key);
});
