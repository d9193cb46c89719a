import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { ApiError } from "./errors";

const encoder = new TextEncoder();
const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));

/**
 * Whether `presented` equals one of `allowed`, in time independent of where they differ:
 * both sides are hashed to equal length and compared with timingSafeEqual, and every
 * allowed key is compared (no early exit).
 */
export async function matchesAnyKey(presented: string, allowed: readonly string[]): Promise<boolean> {
  const mine = await digest(presented);
  let found = false;
  for (const theirs of await digests(allowed)) {
    if (crypto.subtle.timingSafeEqual(mine, theirs)) found = true;
  }
  return found;
}

/** Digests of the configured keys, computed once per isolate (the settings are parsed once too). */
const configured = new WeakMap<readonly string[], Promise<Uint8Array[]>>();
function digests(keys: readonly string[]): Promise<Uint8Array[]> {
  let d = configured.get(keys);
  if (!d) {
    d = Promise.all(keys.map(digest));
    configured.set(keys, d);
  }
  return d;
}

/** Bearer-key guard for the read API. Fails closed: no configured keys, no reads. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const keys = c.get("config").apiKeys;
  if (!keys) throw new ApiError(503, "not_configured", "The cache has no API_KEYS configured; reads are disabled.");
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !(await matchesAnyKey(match[1] as string, keys))) {
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
  if (key && (await matchesAnyKey(key, adminKeys))) return next();
  if (key && apiKeys && (await matchesAnyKey(key, apiKeys))) {
    throw new ApiError(403, "forbidden", "This key may read but not administer the cache.");
  }
  throw new ApiError(401, "unauthorized", "Unauthorized", {}, { "WWW-Authenticate": "Bearer" });
});
