import type { Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { type GrantCheck, grantOf } from "../keys/grants";
import { countRefusal } from "../keys/refusals";
import type { KeyGrant, RefusalReason, Scope } from "../schemas/keys";
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

/** A refusal, counted by reason: WorkOS's 401 for every kind (a malformed header too: 401, not 400). */
const refuse = (reason: RefusalReason) => (c: Context<AppEnv>) => {
  countRefusal(c, reason);
  return unauthorized();
};

/** hono's bearer-auth, answering every refusal as WorkOS does. */
const bearer = (verifyToken: (token: string, c: Context<AppEnv>) => Promise<boolean>) =>
  bearerAuth({
    verifyToken,
    noAuthenticationHeader: { message: refuse("missing_key") },
    invalidAuthenticationHeader: { message: refuse("malformed_header") },
    // Counted where the key was looked at, with the reason.
    invalidToken: { message: unauthorized },
  });

/** The settings' keys: API_KEYS read the API and the feed, ADMIN_API_KEYS administer; both see every organization. */
const BOOTSTRAP_ADMIN: KeyGrant = { id: "ADMIN_API_KEYS", scopes: ["admin"], organizations: null, expiresAt: null };
const BOOTSTRAP_READER: KeyGrant = { id: "API_KEYS", scopes: ["read", "events"], organizations: null, expiresAt: null };

const REFUSED: Record<Scope, string> = {
  read: "This key may not read the directory API.",
  events: "This key may not read the change feed.",
  admin: "This key may read but not administer the cache.",
};

/**
 * A key of any kind without the scope is recognised and refused with 403; an unknown one, 401.
 * A key that passes leaves its identity and organization limit on the request.
 */
const keyWith = (scope: Scope) =>
  bearer(async (token, c) => {
    // The hot path: the settings' keys that carry this scope, in constant time, nothing more.
    const { adminKeys, apiKeys } = c.get("config");
    const [mine, other] = scope === "admin" ? [adminKeys, apiKeys] : [apiKeys, adminKeys];
    if (matchesAnyKey(token, mine ?? [])) {
      c.set("caller", scope === "admin" ? BOOTSTRAP_ADMIN : BOOTSTRAP_READER);
      c.set("access", null);
      return true;
    }
    // The other settings' keys, compared in constant time, then the stored keys.
    const check: GrantCheck = matchesAnyKey(token, other ?? [])
      ? { grant: scope === "admin" ? BOOTSTRAP_READER : BOOTSTRAP_ADMIN, access: null }
      : await grantOf(c, token);
    if ("refused" in check) {
      countRefusal(c, check.refused);
      return false;
    }
    if (!check.grant.scopes.includes(scope)) {
      countRefusal(c, "missing_scope");
      throw new ApiError(403, "forbidden", REFUSED[scope]);
    }
    c.set("caller", check.grant);
    c.set("access", check.access);
    return true;
  });

const reader = keyWith("read");
const feedReader = keyWith("events");
const administrator = keyWith("admin");

/** With no key in the settings, none can exist (stored keys are made with an admin key): 503. */
const configured = (c: Context<AppEnv>) => {
  const { adminKeys, apiKeys } = c.get("config");
  if (!apiKeys && !adminKeys)
    throw new ApiError(503, "not_configured", "The cache has no API_KEYS configured; reads are disabled.");
};

/** Bearer-key guard for the read API (scope `read`). Fails closed. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  configured(c);
  return reader(c, next);
});

/** Guard of the change feed (scope `events`). */
export const requireFeedKey = createMiddleware<AppEnv>(async (c, next) => {
  configured(c);
  return feedReader(c, next);
});

/** Admin-key guard for /admin/* and DELETE (scope `admin`). No ADMIN_API_KEYS, no admin access. */
export const requireAdminKey = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("config").adminKeys)
    throw new ApiError(503, "not_configured", "The cache has no ADMIN_API_KEYS configured; admin calls are disabled.");
  return administrator(c, next);
});
