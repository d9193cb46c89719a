import * as v from "valibot";

/** What a key may do: read the directory API, read the change feed, administer the cache. */
export const Scope = v.picklist(["read", "events", "admin"], "must be one of read, events, admin");
export type Scope = v.InferOutput<typeof Scope>;

/** Body of POST /admin/keys. */
export const CreateKey = v.strictObject({
  name: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(100)),
  scopes: v.pipe(v.array(Scope), v.minLength(1, "must name at least one scope")),
  /** ISO-8601; must be in the future. */
  expires_at: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => Date.parse(s) > Date.now(), "must be an ISO-8601 time in the future"),
    ),
  ),
});
export type CreateKey = v.InferOutput<typeof CreateKey>;

/** A key as the admin API shows it: never the key itself (only once, at creation), never its hash. */
export const AccessKey = v.object({
  object: v.literal("access_key"),
  id: v.string(),
  name: v.string(),
  /** The first characters of the key, to tell keys apart. */
  prefix: v.string(),
  scopes: v.array(Scope),
  created_at: v.string(),
  expires_at: v.nullable(v.string()),
  revoked_at: v.nullable(v.string()),
  /** Updated at most once a minute. */
  last_used_at: v.nullable(v.string()),
  key: v.optional(v.string()),
});
export type AccessKey = v.InferOutput<typeof AccessKey>;

/** What a key check answers: who, and what it may do, until when. */
export interface KeyGrant {
  id: string;
  scopes: Scope[];
  expiresAt: number | null;
}
