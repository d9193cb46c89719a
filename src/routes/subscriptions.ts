import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import { ApiError, invalidParameters } from "../http/errors";
import { requireFeed } from "../http/feed-guard";
import { checkTarget } from "../push/target";
import { CreateSubscription, type Subscription } from "../schemas/subscriptions";

/**
 * `/admin/subscriptions` (under the admin guard): push subscriptions to the change feed. Each
 * event a subscription wants is POSTed to its URL signed with its secret (see push/).
 */
export const subscriptions = new Hono<AppEnv>();

const feed = (c: Context<AppEnv>) => c.env.FEED.getByName("feed");
const found = (s: Subscription | null, id: string): Subscription => {
  if (!s) throw new ApiError(404, "entity_not_found", `Subscription not found: '${id}'.`, { entity_id: id });
  return s;
};

subscriptions.post("/", requireFeed, async (c) => {
  const body = v.safeParse(CreateSubscription, await c.req.json().catch(() => undefined));
  if (!body.success) throw invalidParameters(body.issues);
  const target = checkTarget(body.output.url, c.get("config").push.allowHttpLocalhost);
  if (!target.ok)
    throw new ApiError(422, "invalid_request_parameters", `Validation failed: url ${target.reason}.`, {
      errors: [{ field: "url", code: target.reason }],
    });
  const created = await feed(c).subscribe({
    url: target.url,
    events: body.output.events ?? [],
    organization_ids: body.output.organization_ids ?? [],
  });
  return c.json(created, 201);
});

subscriptions.get("/", async (c) => c.json({ object: "list", data: await feed(c).listSubscriptions() }));

subscriptions.get("/:id", async (c) => c.json(found(await feed(c).subscription(c.req.param("id")), c.req.param("id"))));

subscriptions.delete("/:id", async (c) => {
  const id = c.req.param("id");
  if (!(await feed(c).unsubscribe(id))) found(null, id);
  return c.body(null, 204);
});

/** A new secret, shown this once; the old one stops signing at once. */
subscriptions.post("/:id/rotate", async (c) =>
  c.json(found(await feed(c).rotateSecret(c.req.param("id")), c.req.param("id"))),
);

subscriptions.post("/:id/pause", async (c) =>
  c.json(found(await feed(c).setSubscriptionState(c.req.param("id"), "paused"), c.req.param("id"))),
);

subscriptions.post("/:id/resume", async (c) =>
  c.json(found(await feed(c).setSubscriptionState(c.req.param("id"), "active"), c.req.param("id"))),
);
