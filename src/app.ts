import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { routePath } from "hono/route";
import type { AppEnv } from "./app-env";
import { loadConfig } from "./config";
import { requireFeedKey } from "./http/auth";
import { ApiError, errorResponse } from "./http/errors";
import { log, logs } from "./log";
import { openApiDocument } from "./openapi";
import { KvReader } from "./read/kv-reader";
import { memoryTier } from "./read/memory-tier";
import { admin } from "./routes/admin";
import { consolePage } from "./routes/console";
import { directories } from "./routes/directories";
import { directoryGroups } from "./routes/directory-groups";
import { directoryUsers } from "./routes/directory-users";
import { events } from "./routes/events";
import { groups } from "./routes/groups";
import { subscriptions } from "./routes/subscriptions";
import { users } from "./routes/users";
import { webhooks } from "./routes/webhooks";

export const app = new Hono<AppEnv>();

// Every answer carries X-Request-ID (the caller's when it is short and plain, else a new one).
app.use(requestId({ headerName: "X-Request-ID", generator: () => `req_${crypto.randomUUID()}` }));

// Every request gets one log line (no query string: it can hold an email; no headers, no body):
// failures at info/warn, successes at debug, since the platform already logs each invocation
// and the hot path pays for every line.
app.use(async (c, next) => {
  const started = Date.now();
  const id = c.get("requestId");
  await next();
  const kv = c.get("kv");
  const kvOps = kv?.ops;
  if (kv) {
    c.res.headers.set("X-KV-Operations", String(kv.ops));
    c.res.headers.set("X-KV-Round-Trips", String(kv.roundTrips));
  }
  // A strong read says so, a 404 included: the caller can tell the writer's state from a copy.
  if (c.get("strong")) c.res.headers.set("X-Read-Consistency", "strong");
  const status = c.res.status;
  const level = status >= 500 ? "warn" : status >= 400 ? "info" : "debug";
  if (!logs(level)) return;
  log[level]("request", {
    requestId: id,
    method: c.req.method,
    // The route's pattern, never the raw path: an id in a path is whatever a caller typed (an
    // email included, of any length).
    route: routePath(c, -1),
    status,
    ms: Date.now() - started,
    kvOps: kvOps ?? 0,
  });
});

// Liveness for load balancers and monitors: no auth, no secrets, no storage.
app.get("/health", (c) =>
  c.json({ status: loadConfig(c.env).ok ? "ok" : "misconfigured" }, loadConfig(c.env).ok ? 200 : 503),
);
app.get("/openapi.json", (c) => c.json(openApiDocument()));
// The operator console's page and scripts: no data in them, so no key and no settings needed.
app.route("/admin/console", consolePage);

app.use(async (c, next) => {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) {
    throw new ApiError(503, "invalid_configuration", `The cache is misconfigured: ${loaded.problems.join("; ")}.`);
  }
  c.set("config", loaded.config);
  // Each request reads KV through the isolate's memory tier and reports what it cost.
  const kv = new KvReader(c.env.CACHE, memoryTier, (p) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      // No execution context (app.request in tests): the refresh just runs unawaited.
    }
  });
  c.set("kv", kv);
  return next();
});

app.route("/directories/:directoryId/users", directoryUsers);
app.route("/directories/:directoryId/groups", directoryGroups);
app.route("/directories", directories);
app.route("/directory_users", users);
app.route("/directory_groups", groups);
app.route("/events", events);
app.use("/subscriptions/*", requireFeedKey);
app.route("/subscriptions", subscriptions);
app.route("/webhooks/workos", webhooks);
app.route("/admin", admin);

app.notFound((c) => c.json({ message: "Not Found", code: "not_found" }, 404));
app.onError((err, c) => errorResponse(c, err));
