import type { AccessKey, RefusalReason, Scope } from "../schemas/keys";
import { addColumn } from "../sql-columns";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS access_keys (
  id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, name TEXT NOT NULL,
  scopes TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER,
  organization_ids TEXT);
CREATE TABLE IF NOT EXISTS refusals (reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
`;

/** Last use is written at most this often per key. */
const LAST_USED_EVERY_MS = 60_000;

type Row = {
  id: string;
  hash: string;
  prefix: string;
  name: string;
  scopes: string;
  organization_ids: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** Access keys, stored by the SHA-256 of the key (the key itself is never kept). */
export class KeyStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    // Keys made before organization limits existed: the column is added once, unlimited.
    addColumn(sql, "access_keys", "organization_ids", "TEXT");
  }

  create(
    k: {
      id: string;
      hash: string;
      prefix: string;
      name: string;
      scopes: Scope[];
      organizations: string[] | null;
      expiresAt: number | null;
    },
    now: number,
  ) {
    this.sql.exec(
      `INSERT INTO access_keys (id, hash, prefix, name, scopes, organization_ids, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      k.id,
      k.hash,
      k.prefix,
      k.name,
      JSON.stringify(k.scopes),
      k.organizations && JSON.stringify(k.organizations),
      now,
      k.expiresAt,
    );
    return this.get(k.id) as AccessKey;
  }

  list(): AccessKey[] {
    return this.sql.exec<Row>("SELECT * FROM access_keys ORDER BY created_at, id").toArray().map(view);
  }

  get(id: string): AccessKey | null {
    const row = this.sql.exec<Row>("SELECT * FROM access_keys WHERE id = ?", id).toArray()[0];
    return row ? view(row) : null;
  }

  /** Marks a key revoked (once); answers its hash, or null for an unknown id. */
  revoke(id: string, now: number): string | null {
    const row = this.sql.exec<Row>("SELECT * FROM access_keys WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    if (row.revoked_at === null) this.sql.exec("UPDATE access_keys SET revoked_at = ? WHERE id = ?", now, id);
    return row.hash;
  }

  /** Notes a use of the key, at most once a minute. */
  touch(id: string, now: number) {
    this.sql.exec(
      "UPDATE access_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
      now,
      id,
      now - LAST_USED_EVERY_MS,
    );
  }

  /** Adds isolates' counts of refused requests. */
  countRefusals(counts: Partial<Record<RefusalReason, number>>) {
    for (const [reason, n] of Object.entries(counts))
      this.sql.exec(
        "INSERT INTO refusals (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count",
        reason,
        n,
      );
  }

  /** Refused requests since the cache was deployed, by reason. */
  refusals(): Partial<Record<RefusalReason, number>> {
    const rows = this.sql
      .exec<{ reason: RefusalReason; count: number }>("SELECT reason, count FROM refusals")
      .toArray();
    return Object.fromEntries(rows.map((r) => [r.reason, Number(r.count)]));
  }
}

function view(r: Row): AccessKey {
  return {
    object: "access_key",
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: JSON.parse(r.scopes) as Scope[],
    organization_ids: r.organization_ids === null ? null : (JSON.parse(r.organization_ids) as string[]),
    created_at: iso(r.created_at) as string,
    expires_at: iso(r.expires_at),
    revoked_at: iso(r.revoked_at),
    last_used_at: iso(r.last_used_at),
  };
}
