import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { kvKeys } from "../kv/keys";
import { memoryTier } from "../read/memory-tier";
import { type Access, orgLimit } from "../read/org-limit";
import type { KeyGrant, RefusalReason, StoredGrant } from "../schemas/keys";
import { keyHash, looksStored } from "./token";

/** A key's last use is reported to the keys object at most this often per isolate. */
const TOUCH_EVERY_MS = 60_000;
const touched = new Map<string, number>();

/** A stored key's grant with the organization limit it puts on a request, or why the key is refused. */
export type GrantCheck = { grant: KeyGrant; access: Access } | { refused: RefusalReason };

/**
 * Stored keys this isolate let through within the last second, by the key as presented: a hot
 * key's check is one map lookup instead of a hash and a memory-tier read. Only keys that passed
 * are kept (a flood of wrong keys cannot fill it), each for at most a second and never past its
 * expiry; a revocation through this isolate empties it.
 */
const PASSED_FOR_MS = 1_000;
const passed = new Map<string, { grant: KeyGrant; access: Access; until: number }>();

/**
 * The grant of a stored access key: read by the key's hash from KV through the isolate's memory
 * tier (O(1), no KV operation when hot). A revoked key's grant is replaced in KV at once; this
 * isolate may still let it through for the memory tier's bound plus a second (at most 6 s), other
 * locations for KV's propagation (up to about 60 s). An expired key is refused at once.
 */
export async function grantOf(c: Context<AppEnv>, key: string, now = Date.now()): Promise<GrantCheck> {
  const hot = passed.get(key);
  if (hot && hot.until > now) return hot;
  if (!looksStored(key)) return { refused: "unknown_key" };
  const stored = await c.get("kv").get(kvKeys.accessKey(await keyHash(key)));
  if (!stored) return { refused: "unknown_key" };
  const grant = JSON.parse(stored) as StoredGrant;
  if ("revoked" in grant) return { refused: "revoked_key" };
  if (grant.expiresAt !== null && grant.expiresAt <= now) return { refused: "expired_key" };
  const check = {
    grant,
    access: orgLimit(grant.organizations),
    until: Math.min(now + PASSED_FOR_MS, grant.expiresAt ?? Number.POSITIVE_INFINITY),
  };
  if (passed.size >= 10_000) passed.clear();
  passed.set(key, check);
  if ((touched.get(grant.id) ?? 0) + TOUCH_EVERY_MS <= now) {
    if (touched.size >= 10_000) touched.clear();
    touched.set(grant.id, now);
    const touch = c.env.KEYS.getByName("keys")
      .touch(grant.id)
      .catch(() => undefined);
    try {
      c.executionCtx.waitUntil(touch);
    } catch {
      // No execution context (app.request in tests): the touch runs unawaited.
    }
  }
  return check;
}

/** A key revoked through this isolate stops working here at once. */
export function forgetGrant(hash: string) {
  memoryTier.forget(kvKeys.accessKey(hash));
  passed.clear();
}
