import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { ApiError } from "./errors";

/**
 * Whether `presented` equals `secret`, without an early exit: every character of the secret is
 * compared whatever the input, so the time depends on the secret's length only, never on how
 * much of it a guess got right.
 */
export function constantTimeEqual(presented: string, secret: string): boolean {
  let diff = presented.length ^ secret.length;
  const n = presented.length || 1;
  for (let i = 0; i < secret.length; i++) diff |= presented.charCodeAt(i % n) ^ secret.charCodeAt(i);
  return diff === 0;
}

/** Whether `presented` is one of `allowed`, comparing against every key (no early exit). */
export function matchesAnyKey(presented: string, allowed: readonly string[]): boolean {
  let found = false;
  for (const key of allowed) if (constantTimeEqual(presented, key)) found = true;
  return found;
}

/** Bearer-key guard for the read API. Fails closed: no configured keys, no reads. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const keys = c.get("config").apiKeys;
  if (!keys) throw new ApiError(503, "not_configured", "The cache has no API_KEYS configured; reads are disabled.");
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !matchesAnyKey(match[1] as string, keys)) {
    throw new ApiError(401, "unauthorized", "Unauthorized", {}, { "WWW-Authenticate": "Bearer" });
  }
  await next();
});

/**
 * Admin-key guard for /admin/* and DELETE. A read key is recognised and refused with 403, an
 * unknown key with 401; no configured admin keys, no admin access.
 */
export const requireAdminKey = createMiddleware<AppEnv>(async (c, next) => {
  const { adminKeys, apiKeys } = c.get("config");
  if (!adminKeys)
    throw new ApiError(503, "not_configured", "The cache has no ADMIN_API_KEYS configured; admin calls are disabled.");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
  const key = match?.[1];
  if (key && matchesAnyKey(key, adminKeys)) return next();
  if (key && apiKeys && matchesAnyKey(key, apiKeys)) {
    throw new ApiError(403, "forbidden", "This key may read but not administer the cache.");
  }
  throw new ApiError(401, "unauthorized", "Unauthorized", {}, { "WWW-Authenticate": "Bearer" });
});
