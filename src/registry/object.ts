import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { kvKeys } from "../kv/keys";
import { type FlushReport, type KvWrite, Outbox, scheduleAlarm } from "../kv/outbox";
import { log } from "../log";

/** What the registry knows of a directory: enough to list and filter directories. */
export interface RegistryEntry {
  id: string;
  organizationId: string;
  name: string;
  domain: string | null;
  sortKey: string;
}

export interface DirectoryFilter {
  organizationId?: string;
  search?: string;
  domain?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS directories (
  id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL, domain TEXT, sort_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS directories_by_org ON directories (organization_id, sort_key);
`;

/**
 * The directories across organizations (few), kept by one singleton object: each directory's
 * writer reports its directory here, and this object alone writes the cross-directory indexes.
 */
export class RegistryObject extends DurableObject<Env> {
  private readonly outbox: Outbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
    this.outbox = new Outbox(ctx.storage.sql, env.CACHE);
  }

  async put(id: string, entry: RegistryEntry | null): Promise<void> {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      const prev = sql
        .exec<{ organization_id: string }>("SELECT organization_id FROM directories WHERE id = ?", id)
        .toArray()[0];
      if (prev) this.outbox.mark(`org:${prev.organization_id}`);
      if (entry) {
        sql.exec(
          "INSERT OR REPLACE INTO directories (id, organization_id, name, domain, sort_key) VALUES (?, ?, ?, ?, ?)",
          id,
          entry.organizationId,
          entry.name,
          entry.domain,
          entry.sortKey,
        );
        this.outbox.mark(`org:${entry.organizationId}`);
      } else {
        sql.exec("DELETE FROM directories WHERE id = ?", id);
      }
      this.outbox.mark("all");
    });
    await scheduleAlarm(this.ctx.storage, Date.now());
  }

  /** Sort keys of the directories matching a filter (name search and domain have no KV index). */
  async search(filter: DirectoryFilter): Promise<string[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.organizationId) {
      where.push("organization_id = ?");
      params.push(filter.organizationId);
    }
    if (filter.search) {
      where.push("instr(lower(name), lower(?)) > 0");
      params.push(filter.search);
    }
    if (filter.domain) {
      where.push("lower(domain) = lower(?)");
      params.push(filter.domain);
    }
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    return this.ctx.storage.sql
      .exec<{ sort_key: string }>(`SELECT sort_key FROM directories ${clause} ORDER BY sort_key`, ...params)
      .toArray()
      .map((r) => r.sort_key);
  }

  override async alarm() {
    await this.flushKv(Date.now());
  }

  /** As DirectoryObject.flushKv: due index writes as of `now`, then the next alarm. */
  async flushKv(now: number): Promise<FlushReport> {
    try {
      const report = await this.outbox.flush(now, keyOf, (mark) => this.materialize(mark));
      if (report.next !== null) await scheduleAlarm(this.ctx.storage, report.next);
      return report;
    } catch (err) {
      log.error("registry kv flush failed", { error: String(err) });
      await scheduleAlarm(this.ctx.storage, now + 5000);
      return { written: 0, deleted: 0, next: now + 5000, tooSoon: 0, pending: this.outbox.pending() };
    }
  }

  private materialize(mark: string): KvWrite {
    const key = keyOf(mark);
    const org = mark === "all" ? undefined : mark.slice("org:".length);
    const sortKeys = this.ctx.storage.sql
      .exec<{ sort_key: string }>(
        org === undefined
          ? "SELECT sort_key FROM directories ORDER BY sort_key"
          : "SELECT sort_key FROM directories WHERE organization_id = ? ORDER BY sort_key",
        ...(org === undefined ? [] : [org]),
      )
      .toArray()
      .map((r) => r.sort_key);
    return { kind: "index", key, sortKeys };
  }
}

const keyOf = (mark: string) =>
  mark === "all" ? kvKeys.directories() : kvKeys.organizationDirectories(mark.slice("org:".length));
