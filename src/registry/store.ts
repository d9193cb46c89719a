import { kvKeys } from "../kv/keys";
import type { KvWrite } from "../kv/outbox";
import { readSorted } from "../kv/rechunk";
import { addColumn, hasColumn } from "../sql-columns";

/** What the registry knows of a directory: enough to list and filter directories. */
export interface RegistryEntry {
  id: string;
  organizationId: string;
  name: string;
  domain: string | null;
  sortKey: string;
  /**
   * The directory as served (counts included), carried in the list indexes' chunks. Only its
   * writer knows it: a listing from WorkOS leaves what the writer last reported.
   */
  json?: string;
}

export interface DirectoryFilter {
  /** Directories of these organizations only (absent: of every one). */
  organizationIds?: readonly string[] | undefined;
  search?: string;
  domain?: string;
}

/** A directory a search found: its list position and, once its writer reported it, itself as served. */
export interface Found {
  sortKey: string;
  json: string | null;
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
    addColumn(this.sql, "directories", "json", "TEXT");
  }

  private get sql() {
    return this.storage.sql;
  }

  /** Records a directory (or, with null, its removal) and marks the indexes it is in. */
  put(id: string, entry: RegistryEntry | null) {
    this.storage.transactionSync(() => {
      const prev = this.sql
        .exec<{ organization_id: string; json: string | null }>(
          "SELECT organization_id, json FROM directories WHERE id = ?",
          id,
        )
        .toArray()[0];
      // Nothing to rewrite when the writer reports what the registry already has.
      if (!prev && !entry) return;
      if (
        prev &&
        entry?.json !== undefined &&
        prev.json === entry.json &&
        prev.organization_id === entry.organizationId
      )
        return;
      const json = entry?.json ?? prev?.json ?? null;
      if (prev) this.mark(`org:${prev.organization_id}`);
      if (entry) {
        this.sql.exec(
          `INSERT OR REPLACE INTO directories (id, organization_id, name, name_folded, domain, sort_key, json)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          id,
          entry.organizationId,
          entry.name,
          foldCase(entry.name),
          entry.domain,
          entry.sortKey,
          json,
        );
        this.mark(`org:${entry.organizationId}`);
      } else {
        this.sql.exec("DELETE FROM directories WHERE id = ?", id);
      }
      this.mark("all");
    });
  }

  /**
   * The directories matching a filter (name search and domain have no KV index), in list order:
   * sort key and, once its writer has reported it, the directory as served.
   */
  search(filter: DirectoryFilter): Found[] {
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
      .exec<{ sort_key: string; json: string | null }>(
        `SELECT sort_key, json FROM directories ${clause} ORDER BY sort_key`,
        ...params,
      )
      .toArray()
      .map((r) => ({ sortKey: r.sort_key, json: r.json }));
  }

  has(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM directories WHERE id = ?", id).toArray().length > 0;
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

  /**
   * A mark's KV write as the registry stands now: an index of directories, or the held marker. Its
   * chunks carry the directories as served, unless one was recorded before the registry kept them
   * (then a page reads its records by key).
   */
  materialize(mark: string): KvWrite {
    const key = RegistryStore.keyOf(mark);
    if (mark === "held") return { kind: "put", key, value: JSON.stringify({ held: true }) };
    const org = mark === "all" ? undefined : mark.slice("org:".length);
    const rows = this.sql
      .exec<{ sort_key: string; json: string | null }>(
        org === undefined
          ? "SELECT sort_key, json FROM directories ORDER BY sort_key"
          : "SELECT sort_key, json FROM directories WHERE organization_id = ? ORDER BY sort_key",
        ...(org === undefined ? [] : [org]),
      )
      .toArray();
    const json = new Map(rows.map((r) => [r.sort_key, r.json]));
    const read = readSorted(rows.map((r) => r.sort_key));
    if (rows.some((r) => r.json === null)) return { kind: "index", key, read };
    return { kind: "index", key, read, records: (sortKeys) => sortKeys.map((k) => json.get(k) ?? null) };
  }

  /** Adds the folded names to a registry stored before they existed (once). */
  private foldNames() {
    if (hasColumn(this.sql, "directories", "name_folded")) return;
    this.storage.transactionSync(() => {
      addColumn(this.sql, "directories", "name_folded", "TEXT NOT NULL DEFAULT ''");
      for (const { id, name } of this.sql
        .exec<{ id: string; name: string }>("SELECT id, name FROM directories")
        .toArray())
        this.sql.exec("UPDATE directories SET name_folded = ? WHERE id = ?", foldCase(name), id);
    });
  }
}
