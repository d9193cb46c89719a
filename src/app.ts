import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { type Config, loadConfig } from "./config";
import type { Env } from "./env";
import { ApiError, errorResponse } from "./http/errors";
import { log } from "./log";
import { openApiDocument } from "./openapi";
import { KvReader } from "./read/kv-reader";
import { memoryTier } from "./read/memory-tier";
import { admin } from "./routes/admin";
import { directories } from "./routes/directories";
import { groups } from "./routes/groups";
import { users } from "./routes/users";
import { webhooks } from "./routes/webhooks";

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; config: Config; kv: KvReader };
};

export const app = new Hono<AppEnv>();

// Echoes a caller's X-Request-ID (as WorkOS's emulator does) or mints one, on every answer.
app.use(requestId({ headerName: "X-Request-ID", generator: () => `req_${crypto.randomUUID()}` }));

// One line per request: no query string (it can hold an email), no headers, no body.
app.use(async (c, next) => {
  const started = Date.now();
  await next();
  log.info("request", {
    requestId: c.get("requestId"),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    ms: Date.now() - started,
    kvOps: c.get("kv")?.ops ?? 0,
  });
});

// Liveness for load balancers and monitors: no auth, no secrets, no storage.
app.get("/health", (c) =>
  c.json({ status: loadConfig(c.env).ok ? "ok" : "misconfigured" }, loadConfig(c.env).ok ? 200 : 503),
);
app.get("/openapi.json", (c) => c.json(openApiDocument()));

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
  await next();
  c.header("X-KV-Operations", String(kv.ops));
});

app.route("/directories", directories);
app.route("/directory_users", users);
app.route("/directory_groups", groups);
app.route("/webhooks/workos", webhooks);
app.route("/admin", admin);

app.notFound((c) => c.json({ message: "Not Found", code: "not_found" }, 404));
app.onError((err, c) => errorResponse(c, err));
