import * as v from "valibot";

/** What a key may do: read the directory API, read the change feed, administer the cache. */
export const Scope = v.picklist(["read", "events", "admin"], "must be one of read, events, admin");
export type Scope = v.InferOutput<typeof Scope>;

/** Body of POST /admin/keys. */
export const CreateKey = v.pipe(
  v.strictObject({
    name: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(100)),
    scopes: v.pipe(v.array(Scope), v.minLength(1, "must name at least one scope")),
    /** `read` and `events` see only these organizations' data (default: every organization). */
    organization_ids: v.optional(
      v.pipe(
        v.array(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(200))),
        v.minLength(1, "must name at least one organization (leave it out for every one)"),
        v.maxLength(1000),
      ),
    ),
    /** ISO-8601; must be in the future. */
    expires_at: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => Date.parse(s) > Date.now(), "must be an ISO-8601 time in the future"),
      ),
    ),
  }),
  // An administrator sees and changes everything (status, keys, subscriptions): a limit on it would be a false promise.
  v.forward(
    v.check(
      (k) => !(k.organization_ids && k.scopes.includes("admin")),
      "an admin key cannot be limited to organizations",
    ),
    ["organization_ids"],
  ),
);
export type CreateKey = v.InferOutput<typeof CreateKey>;

/** A key as the admin API shows it: never the key itself (only once, at creation), never its hash. */
export const AccessKey = v.object({
  object: v.literal("access_key"),
  id: v.string(),
  name: v.string(),
  /** The first characters of the key, to tell keys apart. */
  prefix: v.string(),
  scopes: v.array(Scope),
  /** The organizations its `read` and `events` scopes see; null for every one. */
  organization_ids: v.nullable(v.array(v.string())),
  created_at: v.string(),
  expires_at: v.nullable(v.string()),
  revoked_at: v.nullable(v.string()),
  /** Updated at most once a minute. */
  last_used_at: v.nullable(v.string()),
  key: v.optional(v.string()),
});
export type AccessKey = v.InferOutput<typeof AccessKey>;

/** What a key check answers: who, what it may do and over which organizations (null: all), until when. */
export interface KeyGrant {
  id: string;
  scopes: Scope[];
  organizations: string[] | null;
  expiresAt: number | null;
}

/** What KV holds under a key's hash: its grant, or, once revoked, a marker saying so. */
export type StoredGrant = KeyGrant | { id: string; revoked: true };

/** Why a request was refused before it reached a route (counted, by reason, in /admin/status). */
export const RefusalReason = v.picklist([
  "missing_key",
  "malformed_header",
  "unknown_key",
  "expired_key",
  "revoked_key",
  "missing_scope",
]);
export type RefusalReason = v.InferOutput<typeof RefusalReason>;
