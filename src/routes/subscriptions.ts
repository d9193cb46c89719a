import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import type { Owner } from "../feed/subscriptions";
import { ApiError, invalidParameters } from "../http/errors";
import { requireFeed } from "../http/feed-guard";
import { checkTarget } from "../push/target";
import { accessOf } from "../read/access";
import { CreateSubscription, type Subscription } from "../schemas/subscriptions";

/**
 * Push subscriptions to the change feed. Each event a subscription wants is POSTed to its URL
 * signed with its secret (see push/). Mounted twice: `/admin/subscriptions` (admin keys: every
 * subscription) and `/subscriptions` (keys with the `events` scope: the ones that key made,
 * delivering only events of the organizations the key may see).
 */
export const subscriptions = new Hono<AppEnv>();

const feed = (c: Context<AppEnv>) => c.env.FEED.getByName("feed");

/** Whose subscriptions the caller manages: an administrator's, every one; a key's, its own. */
const owner = (c: Context<AppEnv>): Owner => {
  const caller = c.get("caller");
  if (!caller) throw new Error("no key check ran before a subscription call");
  return caller.scopes.includes("admin") ? undefined : caller.id;
};

/** The organizations a new subscription delivers: within the key's limit (its own by default). */
function organizationsOf(c: Context<AppEnv>, asked: string[] | undefined): string[] {
  const access = accessOf(c);
  if (access === null) return asked ?? [];
  const outside = (asked ?? []).filter((o) => !access.ids.has(o));
  if (outside.length)
    throw new ApiError(
      422,
      "invalid_request_parameters",
      "Validation failed: organization_ids outside the key's organizations.",
      {
        errors: [{ field: "organization_ids", code: "outside the key's organizations" }],
      },
    );
  return asked ?? [...access.ids];
}
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
  const mine = owner(c);
  const created = await feed(c).subscribe({
    url: target.url,
    events: body.output.events ?? [],
    organization_ids: organizationsOf(c, body.output.organization_ids),
    createdBy: mine ?? null,
  });
  return c.json(created, 201);
});

subscriptions.get("/", async (c) => c.json({ object: "list", data: await feed(c).listSubscriptions(owner(c)) }));

subscriptions.get("/:id", async (c) =>
  c.json(found(await feed(c).subscription(c.req.param("id"), owner(c)), c.req.param("id"))),
);

subscriptions.delete("/:id", async (c) => {
  const id = c.req.param("id");
  if (!(await feed(c).unsubscribe(id, owner(c)))) found(null, id);
  return c.body(null, 204);
});

/** A new secret, shown this once; the old one stops signing at once. */
subscriptions.post("/:id/rotate", async (c) =>
  c.json(found(await feed(c).rotateSecret(c.req.param("id"), owner(c)), c.req.param("id"))),
);

subscriptions.post("/:id/pause", async (c) =>
  c.json(found(await feed(c).setSubscriptionState(c.req.param("id"), "paused", owner(c)), c.req.param("id"))),
);

subscriptions.post("/:id/resume", async (c) =>
  c.json(found(await feed(c).setSubscriptionState(c.req.param("id"), "active", owner(c)), c.req.param("id"))),
);
