import { kvKeys } from "../kv/keys";
import type { KvWrite } from "../kv/outbox";
import { readSorted } from "../kv/rechunk";

/** What the registry knows of a directory: enough to list and filter directories. */
export interface RegistryEntry {
  id: string;
  organizationId: string;
  name: string;
  domain: string | null;
  sortKey: string;
}

export interface DirectoryFilter {
  /** Directories of these organizations only (absent: of every one). */
  organizationIds?: readonly string[] | undefined;
  search?: string;
  domain?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS directories (
  id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL, domain TEXT, sort_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS directories_by_org ON directories (organization_id, sort_key);
`;

/**
 * Case-insensitive form of a name, as people expect it in any script ("Straße" finds
 * "STRASSE"; SQLite's lower() folds ASCII only). Kept beside each name when it is written, so a
 * search folds only its own text.
 */
const foldCase = (s: string) => s.normalize("NFKC").toUpperCase().toLowerCase();

/**
 * The registry's SQLite state: every directory across organizations (few) and the schedule's
 * bookmarks. Each change marks the cross-directory indexes it touches (`all`, `org:<id>`) for
 * the outbox, and `materialize` turns a mark into its KV write.
 */
export class RegistryStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly mark: (mark: string) => void,
  ) {
    storage.sql.exec(SCHEMA);
    this.foldNames();
  }

  private get sql() {
    return this.storage.sql;
  }

  /** Records a directory (or, with null, its removal) and marks the indexes it is in. */
  put(id: string, entry: RegistryEntry | null) {
    this.storage.transactionSync(() => {
      const prev = this.sql
        .exec<{ organization_id: string }>("SELECT organization_id FROM directories WHERE id = ?", id)
        .toArray()[0];
      if (prev) this.mark(`org:${prev.organization_id}`);
      if (entry) {
        this.sql.exec(
          `INSERT OR REPLACE INTO directories (id, organization_id, name, name_folded, domain, sort_key)
           VALUES (?, ?, ?, ?, ?, ?)`,
          id,
          entry.organizationId,
          entry.name,
          foldCase(entry.name),
          entry.domain,
          entry.sortKey,
        );
        this.mark(`org:${entry.organizationId}`);
      } else {
        this.sql.exec("DELETE FROM directories WHERE id = ?", id);
      }
      this.mark("all");
    });
  }

  /** Sort keys of the directories matching a filter (name search and domain have no KV index). */
  search(filter: DirectoryFilter): string[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.organizationIds) {
      where.push("organization_id IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(filter.organizationIds));
    }
    if (filter.search) {
      where.push("instr(name_folded, ?) > 0");
      params.push(foldCase(filter.search));
    }
    if (filter.domain) {
      where.push("lower(domain) = lower(?)");
      params.push(filter.domain);
    }
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    return this.sql
      .exec<{ sort_key: string }>(`SELECT sort_key FROM directories ${clause} ORDER BY sort_key`, ...params)
      .toArray()
      .map((r) => r.sort_key);
  }

  /** Ids of every directory, in list order. */
  ids(): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM directories ORDER BY sort_key")
      .toArray()
      .map((r) => r.id);
  }

  meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string) {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** The KV key a mark rewrites. */
  static keyOf(mark: string): string {
    if (mark === "all") return kvKeys.directories();
    if (mark === "held") return kvKeys.syncMarker("registry");
    return kvKeys.organizationDirectories(mark.slice("org:".length));
  }

  /** A mark's KV write as the registry stands now: an index of sort keys, or the held marker. */
  materialize(mark: string): KvWrite {
    const key = RegistryStore.keyOf(mark);
    if (mark === "held") return { kind: "put", key, value: JSON.stringify({ held: true }) };
    const org = mark === "all" ? undefined : mark.slice("org:".length);
    const sortKeys = this.sql
      .exec<{ sort_key: string }>(
        org === undefined
          ? "SELECT sort_key FROM directories ORDER BY sort_key"
          : "SELECT sort_key FROM directories WHERE organization_id = ? ORDER BY sort_key",
        ...(org === undefined ? [] : [org]),
      )
      .toArray()
      .map((r) => r.sort_key);
    return { kind: "index", key, read: readSorted(sortKeys) };
  }

  /** Adds the folded names to a registry stored before they existed (once). */
  private foldNames() {
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(directories)").toArray();
    if (columns.some((c) => c.name === "name_folded")) return;
    this.storage.transactionSync(() => {
      this.sql.exec("ALTER TABLE directories ADD COLUMN name_folded TEXT NOT NULL DEFAULT ''");
      for (const { id, name } of this.sql
        .exec<{ id: string; name: string }>("SELECT id, name FROM directories")
        .toArray())
        this.sql.exec("UPDATE directories SET name_folded = ? WHERE id = ?", foldCase(name), id);
    });
  }
}
