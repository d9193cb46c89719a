import { Hono } from "hono";
import type { AppEnv } from "../app";
import { requireAdminKey } from "../http/auth";
import { ApiError } from "../http/errors";

/** Operator endpoints: directory sync on demand and its progress, reconcile, Events API catch-up. */
export const admin = new Hono<AppEnv>();
admin.use(requireAdminKey);

const pullRequired = (c: { get: (k: "config") => { upstream?: unknown } }) => {
  if (!c.get("config").upstream) {
    throw new ApiError(503, "pull_disabled", "Pulling from WorkOS is off: set WORKOS_API_KEY to enable sync.");
  }
};

admin.get("/directories/:id/sync", async (c) => {
  const id = c.req.param("id");
  return c.json(await c.env.DIRECTORY.getByName(id).syncStatus());
});

admin.post("/directories/:id/sync", async (c) => {
  pullRequired(c);
  const id = c.req.param("id");
  return c.json(await c.env.DIRECTORY.getByName(id).requestSync(id, "admin", true), 202);
});

admin.post("/reconcile", async (c) => {
  pullRequired(c);
  return c.json(await c.env.REGISTRY.getByName("registry").reconcile());
});

admin.post("/events/catch-up", async (c) => {
  pullRequired(c);
  return c.json(await c.env.REGISTRY.getByName("registry").catchUp());
});
