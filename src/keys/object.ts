import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { newEventId } from "../feed/event-id";
import { kvKeys } from "../kv/keys";
import type { AccessKey, CreateKey, KeyGrant, RefusalReason, StoredGrant } from "../schemas/keys";
import { KeyStore } from "./store";
import { displayPrefix, keyHash, newKey } from "./token";

/** A revoked key is refused as revoked (not unknown) this long; then as unknown. */
const REVOKED_TTL_S = 30 * 24 * 3600;

/** The access keys (a singleton): created, listed and revoked by admins, checked by every isolate. */
export class KeysObject extends DurableObject<Env> {
  private readonly keys: KeyStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.keys = new KeyStore(ctx.storage.sql);
  }

  /** A new key: its record, and the key itself, which is not kept and is shown this once. */
  async create(k: CreateKey): Promise<AccessKey> {
    const key = newKey();
    const hash = await keyHash(key);
    const id = `key_${newEventId().slice("event_".length)}`;
    const scopes = [...new Set(k.scopes)];
    const organizations = k.organization_ids ? [...new Set(k.organization_ids)].sort() : null;
    const expiresAt = k.expires_at === undefined ? null : Date.parse(k.expires_at);
    // The grant readers check goes to KV first: a key is usable once it is shown, never before.
    const grant: KeyGrant = { id, scopes, organizations, expiresAt };
    const ttl = expiresAt === null ? undefined : Math.ceil((expiresAt - Date.now()) / 1000) + 60;
    await this.env.CACHE.put(kvKeys.accessKey(hash), JSON.stringify(grant), ttl ? { expirationTtl: ttl } : undefined);
    const record = this.keys.create(
      { id, hash, prefix: displayPrefix(key), name: k.name, scopes, organizations, expiresAt },
      Date.now(),
    );
    return { ...record, key };
  }

  async list(): Promise<AccessKey[]> {
    return this.keys.list();
  }

  async get(id: string): Promise<AccessKey | null> {
    return this.keys.get(id);
  }

  /**
   * Revokes a key: recorded here, then its grant in KV is replaced by a revoked marker (a failure
   * there throws, and revoking again retries it), kept as long as refusals are worth telling
   * apart. Answers the key's record, with the hash readers look it up by.
   */
  async revoke(id: string): Promise<{ key: AccessKey; hash: string } | null> {
    const hash = this.keys.revoke(id, Date.now());
    if (hash === null) return null;
    const revoked: StoredGrant = { id, revoked: true };
    await this.env.CACHE.put(kvKeys.accessKey(hash), JSON.stringify(revoked), { expirationTtl: REVOKED_TTL_S });
    return { key: this.keys.get(id) as AccessKey, hash };
  }

  async countRefusals(counts: Partial<Record<RefusalReason, number>>): Promise<void> {
    this.keys.countRefusals(counts);
  }

  async refusals(): Promise<Partial<Record<RefusalReason, number>>> {
    return this.keys.refusals();
  }

  /** A key was used (readers call this at most once a minute per key and isolate). */
  async touch(id: string): Promise<void> {
    this.keys.touch(id, Date.now());
  }
}
