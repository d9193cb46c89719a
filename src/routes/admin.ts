import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import { requireAdminKey } from "../http/auth";
import { ApiError, invalidParameters } from "../http/errors";
import { validQuery } from "../http/query";
import { NotFound } from "../read/errors";
import { INTAKE_WINDOW_HOURS } from "../registry/intake";
import { BrakeRequest, type DirectoryActivity, type DirectoryStatus, RecordsQuery, type Status } from "../schemas/ops";
import { keys } from "./keys";
import { subscriptions } from "./subscriptions";

/** Operator endpoints: directory sync on demand and its progress, reconcile, Events API catch-up. */
export const admin = new Hono<AppEnv>();
admin.use(requireAdminKey);
admin.route("/subscriptions", subscriptions);
admin.route("/keys", keys);

const pullRequired = (c: { get: (k: "config") => { upstream?: unknown } }) => {
  if (!c.get("config").upstream) {
    throw new ApiError(503, "pull_disabled", "Pulling from WorkOS is off: set WORKOS_API_KEY to enable sync.");
  }
};

/** The `:id` of the path, if the registry lists that directory (else WorkOS's 404). */
async function knownDirectory(c: Context<AppEnv>): Promise<string> {
  const id = c.req.param("id") ?? "";
  if (!(await c.env.REGISTRY.getByName("registry").knows(id))) throw new NotFound("Directory", id);
  return id;
}

/** Per directory: counts, last event applied and when, last sync and its result, pending KV writes. */
admin.get("/status", async (c) => {
  const registry = c.env.REGISTRY.getByName("registry");
  const overview = await registry.overview();
  const directories = await Promise.all(
    overview.ids.map(async (id) => (await c.env.DIRECTORY.getByName(id).status()) as DirectoryStatus),
  );
  const sum = (k: "applied" | "stale" | "duplicate") => directories.reduce((n, d) => n + d.last24h.webhooks[k], 0);
  const status: Status = {
    pullEnabled: c.get("config").upstream !== undefined,
    eventsCursor: overview.eventsCursor,
    lastReconcileAt: overview.lastReconcileAt,
    directories,
    feed: await c.env.FEED.getByName("feed").status(),
    webhooks: {
      windowHours: INTAKE_WINDOW_HOURS,
      applied: sum("applied"),
      stale: sum("stale"),
      duplicate: sum("duplicate"),
      ...(await registry.intakeTotals()),
    },
    refusedRequests: await c.env.KEYS.getByName("keys").refusals(),
  };
  return c.json(status);
});

/** A directory's last 24 hours in 5-minute buckets: changes applied, webhooks, KV writes, projection lag. */
admin.get("/directories/:id/activity", async (c) => {
  const id = await knownDirectory(c);
  return c.json((await c.env.DIRECTORY.getByName(id).activitySeries()) as DirectoryActivity);
});

admin.get("/directories/:id/sync", async (c) => {
  const id = c.req.param("id");
  return c.json(await c.env.DIRECTORY.getByName(id).syncStatus());
});

admin.post("/directories/:id/sync", async (c) => {
  pullRequired(c);
  const id = c.req.param("id");
  const status = await c.env.DIRECTORY.getByName(id)
    .requestSync(id, "admin", "restart")
    .catch(() => {
      // The only thing it waits on is WorkOS, asked whether it knows a directory new to the cache.
      throw new ApiError(503, "upstream_unavailable", "WorkOS could not be reached to look the directory up.");
    });
  // A directory WorkOS does not know gets no crawl (and no object holding one).
  if (!status) throw new NotFound("Directory", id);
  return c.json(status, 202);
});

/**
 * What a directory's writer holds, a page at a time, as served (the console's browser): its
 * source of truth, whatever KV shows yet. `list_metadata.after` continues it.
 */
admin.get("/directories/:id/records", validQuery(RecordsQuery), async (c) => {
  const id = await knownDirectory(c);
  const { type, limit, after } = c.req.valid("query");
  const page = await c.env.DIRECTORY.getByName(id).records(type, after ?? null, limit);
  return c.body(
    `{"object":"list","data":[${page.data.join(",")}],"list_metadata":${JSON.stringify({ after: page.after })}}`,
    200,
    {
      "Content-Type": "application/json",
    },
  );
});

/** Settles a reconcile sweep the deletion brake holds: `apply` runs it now, `discard` removes nothing. */
admin.post("/directories/:id/brake", async (c) => {
  const id = c.req.param("id");
  const body = v.safeParse(BrakeRequest, await c.req.json().catch(() => undefined));
  if (!body.success) throw invalidParameters(body.issues);
  const { decision, generation } = body.output;
  const report = await c.env.DIRECTORY.getByName(id).decideBrake(decision, generation);
  if (!report) {
    const which = generation === undefined ? "" : ` in generation ${generation}`;
    throw new ApiError(409, "nothing_braked", `No braked sweep${which} of directory '${id}' to ${decision}.`);
  }
  return c.json(report);
});

admin.post("/reconcile", async (c) => {
  pullRequired(c);
  return c.json(await c.env.REGISTRY.getByName("registry").reconcile());
});

admin.post("/events/catch-up", async (c) => {
  pullRequired(c);
  return c.json(await c.env.REGISTRY.getByName("registry").catchUp());
});
