import type { Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
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

/** WorkOS's 401 (its SDKs map it to UnauthorizedException), for a missing, malformed or unknown key. */
const unauthorized = () =>
  new Response(JSON.stringify({ message: "Unauthorized", code: "unauthorized" }), {
    status: 401,
    headers: { "Content-Type": "application/json", "WWW-Authenticate": "Bearer" },
  });

/** hono's bearer-auth, answering every refusal as WorkOS does (a malformed header too: 401, not 400). */
const bearer = (verifyToken: (token: string, c: Context<AppEnv>) => boolean) =>
  bearerAuth({
    verifyToken,
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });

const readKey = bearer((token, c) => matchesAnyKey(token, c.get("config").apiKeys ?? []));

/** Bearer-key guard for the read API. Fails closed: no configured keys, no reads. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("config").apiKeys)
    throw new ApiError(503, "not_configured", "The cache has no API_KEYS configured; reads are disabled.");
  return readKey(c, next);
});

/** A read key presented to an admin route is recognised and refused with 403; any other, 401. */
const adminKey = bearer((token, c) => {
  const { adminKeys, apiKeys } = c.get("config");
  if (matchesAnyKey(token, adminKeys ?? [])) return true;
  if (apiKeys && matchesAnyKey(token, apiKeys))
    throw new ApiError(403, "forbidden", "This key may read but not administer the cache.");
  return false;
});

/** Admin-key guard for /admin/* and DELETE. No configured admin keys, no admin access. */
export const requireAdminKey = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("config").adminKeys)
    throw new ApiError(503, "not_configured", "The cache has no ADMIN_API_KEYS configured; admin calls are disabled.");
  return adminKey(c, next);
});
