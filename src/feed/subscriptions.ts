import type { DeliveryOutcome, Subscription } from "../schemas/subscriptions";
import { addColumn } from "../sql-columns";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, organization_ids TEXT NOT NULL,
  secret TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, position INTEGER NOT NULL,
  backlog INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,
  last_success_at INTEGER, last_failure_at INTEGER, last_failure_status INTEGER, last_failure_error TEXT,
  created_by TEXT);
`;

type Row = {
  id: string;
  url: string;
  events: string;
  organization_ids: string;
  secret: string;
  state: "active" | "paused";
  created_at: number;
  position: number;
  backlog: number;
  delivered: number;
  dead: number;
  last_success_at: number | null;
  last_failure_at: number | null;
  last_failure_status: number | null;
  last_failure_error: string | null;
  created_by: string | null;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** A subscription's delivery settings, as the queue consumer needs them. */
export interface Target {
  url: string;
  secret: string;
  state: "active" | "paused";
}

/**
 * Push subscriptions to the feed, kept by the feed object: where each delivers, what it wants,
 * its secret, the feed position its deliveries are queued up to, and how delivering goes.
 */
/**
 * Whose subscriptions a call may touch: every one (an administrator), or only those a key made
 * (`owner`: the key's id). Another key's subscription reads as unknown.
 */
export type Owner = string | undefined;

export class SubscriptionStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    // Subscriptions made before keys could make them: added once, made by an administrator.
    addColumn(sql, "subscriptions", "created_by", "TEXT");
  }

  create(
    id: string,
    s: { url: string; events: string[]; organization_ids: string[]; secret: string; createdBy: string | null },
    now: number,
    position: number,
  ): Subscription {
    this.sql.exec(
      `INSERT INTO subscriptions (id, url, events, organization_ids, secret, state, created_at, position, created_by)
       VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
      id,
      s.url,
      JSON.stringify(s.events),
      JSON.stringify(s.organization_ids),
      s.secret,
      now,
      position,
      s.createdBy,
    );
    return { ...(this.get(id) as Subscription), secret: s.secret };
  }

  list(owner?: Owner): Subscription[] {
    const mine = owner === undefined ? "" : " WHERE created_by = ?";
    return this.sql
      .exec<Row>(`SELECT * FROM subscriptions${mine} ORDER BY created_at, id`, ...(owner === undefined ? [] : [owner]))
      .toArray()
      .map(view);
  }

  get(id: string, owner?: Owner): Subscription | null {
    const row = this.row(id, owner);
    return row ? view(row) : null;
  }

  delete(id: string, owner?: Owner): boolean {
    if (!this.row(id, owner)) return false;
    this.sql.exec("DELETE FROM subscriptions WHERE id = ?", id);
    return true;
  }

  rotate(id: string, secret: string, owner?: Owner): Subscription | null {
    if (!this.row(id, owner)) return null;
    this.sql.exec("UPDATE subscriptions SET secret = ? WHERE id = ?", secret, id);
    return { ...(this.get(id) as Subscription), secret };
  }

  setState(id: string, state: "active" | "paused", owner?: Owner): Subscription | null {
    if (!this.row(id, owner)) return null;
    this.sql.exec("UPDATE subscriptions SET state = ? WHERE id = ?", state, id);
    return this.get(id);
  }

  /** Pauses every subscription a key made (the key was revoked); answers how many. */
  pauseMadeBy(owner: string): number {
    return this.sql.exec("UPDATE subscriptions SET state = 'paused' WHERE created_by = ? AND state = 'active'", owner)
      .rowsWritten;
  }

  hasActive(): boolean {
    return this.sql.exec("SELECT 1 FROM subscriptions WHERE state = 'active' LIMIT 1").toArray().length > 0;
  }

  /** Active subscriptions with what they want, for queuing deliveries. */
  active(): { id: string; events: string[]; organizations: string[]; position: number }[] {
    return this.sql
      .exec<Row>("SELECT * FROM subscriptions WHERE state = 'active'")
      .toArray()
      .map((r) => ({
        id: r.id,
        events: JSON.parse(r.events) as string[],
        organizations: JSON.parse(r.organization_ids) as string[],
        position: Number(r.position),
      }));
  }

  /** `queued` deliveries were sent to the queue, covering the feed up to `position`. */
  queued(id: string, position: number, queued: number) {
    this.sql.exec("UPDATE subscriptions SET position = ?, backlog = backlog + ? WHERE id = ?", position, queued, id);
  }

  targets(ids: readonly string[]): Record<string, Target> {
    const out: Record<string, Target> = {};
    for (const id of new Set(ids)) {
      const r = this.row(id);
      if (r) out[id] = { url: r.url, secret: r.secret, state: r.state };
    }
    return out;
  }

  /** Folds delivery outcomes into each subscription's state. */
  record(outcomes: readonly DeliveryOutcome[]) {
    for (const o of outcomes) {
      if (o.outcome === "delivered")
        this.sql.exec(
          "UPDATE subscriptions SET delivered = delivered + 1, backlog = MAX(0, backlog - 1), last_success_at = MAX(COALESCE(last_success_at, 0), ?) WHERE id = ?",
          o.at,
          o.subscription,
        );
      else if (o.outcome === "dead")
        // The last failure (its status) stays what the subscriber last answered.
        this.sql.exec(
          "UPDATE subscriptions SET dead = dead + 1, backlog = MAX(0, backlog - 1) WHERE id = ?",
          o.subscription,
        );
      else
        this.sql.exec(
          "UPDATE subscriptions SET last_failure_at = ?, last_failure_status = ?, last_failure_error = ? WHERE id = ?",
          o.at,
          o.status,
          o.error.slice(0, 300),
          o.subscription,
        );
    }
  }

  private row(id: string, owner?: Owner): Row | null {
    if (owner === undefined)
      return this.sql.exec<Row>("SELECT * FROM subscriptions WHERE id = ?", id).toArray()[0] ?? null;
    return (
      this.sql.exec<Row>("SELECT * FROM subscriptions WHERE id = ? AND created_by = ?", id, owner).toArray()[0] ?? null
    );
  }
}

function view(r: Row): Subscription {
  return {
    object: "subscription",
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    organization_ids: JSON.parse(r.organization_ids) as string[],
    state: r.state,
    created_at: iso(r.created_at) as string,
    created_by: r.created_by,
    position: Number(r.position),
    backlog: Number(r.backlog),
    delivered: Number(r.delivered),
    dead: Number(r.dead),
    last_success_at: iso(r.last_success_at),
    last_failure:
      r.last_failure_at === null
        ? null
        : {
            at: iso(r.last_failure_at) as string,
            status: r.last_failure_status === null ? null : Number(r.last_failure_status),
            error: r.last_failure_error ?? "",
          },
  };
}
