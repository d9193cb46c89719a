import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { log } from "../log";
import { UpstreamError, WorkOSClient } from "../upstream/client";
import { accountPace, READ_MAX_WAIT_MS } from "../upstream/gate";
import { Unavailable, UpstreamRefused } from "./errors";

/** A client for interactive reads: fewer retries and a shorter timeout than crawls use. */
export function readClient(c: Context<AppEnv>): WorkOSClient | null {
  const upstream = c.get("config").upstream;
  return upstream
    ? new WorkOSClient({ ...upstream, maxRetries: 2, timeoutMs: 3_000, pace: accountPace(c.env, READ_MAX_WAIT_MS) })
    : null;
}

/** What a failed WorkOS call means to a reader: WorkOS's own refusal (400, 404, 422), else unavailable. */
export function relay(c: Context<AppEnv>, err: unknown): UpstreamRefused | Unavailable {
  if (err instanceof UpstreamError && (err.status === 400 || err.status === 404 || err.status === 422)) {
    const { message, code, ...rest } = (err.body ?? {}) as { message?: string; code?: string };
    // WorkOS's own words, with what else its body says (`entity_id`, a 422's `errors`).
    const extra = Object.fromEntries(Object.entries(rest).filter(([k]) => k === "entity_id" || k === "errors"));
    return new UpstreamRefused(err.status, code ?? "upstream_error", message ?? "WorkOS refused the request.", extra);
  }
  return unavailable(c, err);
}

/** WorkOS could not answer a read the cache cannot answer itself (logged, with the request's id). */
export function unavailable(c: Context<AppEnv>, err: unknown): Unavailable {
  log.warn("upstream unavailable", {
    requestId: c.get("requestId"),
    error: err instanceof Error ? err.message : String(err),
  });
  return new Unavailable("upstream_unavailable", "WorkOS could not be reached and the cache does not hold this.", 5);
}
