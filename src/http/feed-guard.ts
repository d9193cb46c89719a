import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { ApiError } from "./errors";

/** The change feed's routes, when CHANGE_FEED=off: a clear 503, not an empty feed. */
export const requireFeed = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("config").feedEnabled)
    throw new ApiError(503, "feed_disabled", "The change feed is off (CHANGE_FEED=off): no changes are recorded.");
  await next();
});
