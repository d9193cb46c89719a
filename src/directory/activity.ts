import type { ActivityBucket, ActivityTotals } from "../schemas/ops";

/** Buckets of the console's per-directory charts: 5 minutes each, the last 24 hours (288 rows at most). */
export const ACTIVITY_BUCKET_MS = 5 * 60_000;
export const ACTIVITY_WINDOW_MS = 24 * 3600_000;

/** What is counted per bucket; `lag_max_ms` keeps the largest, the rest add up. */
const COUNTERS = ["changes", "webhooks_applied", "webhooks_stale", "webhooks_duplicate", "kv_writes"] as const;
export type ActivityCounter = (typeof COUNTERS)[number];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS activity (
  bucket INTEGER PRIMARY KEY,
  ${COUNTERS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(",\n  ")},
  lag_max_ms INTEGER NOT NULL DEFAULT 0);
`;

type Row = Record<ActivityCounter | "bucket" | "lag_max_ms", number>;

const totalsOf = (r: Row): ActivityTotals => ({
  changes: Number(r.changes),
  webhooks: {
    applied: Number(r.webhooks_applied),
    stale: Number(r.webhooks_stale),
    duplicate: Number(r.webhooks_duplicate),
  },
  kvWrites: Number(r.kv_writes),
  lagMaxMs: Number(r.lag_max_ms),
});

/**
 * A directory writer's activity, pre-aggregated as it happens (never bodies, never ids): changes
 * applied from any source, webhook outcomes, KV writes and the projection's lag. Bounded: rows
 * older than the window are dropped whenever a new bucket starts.
 */
export class Activity {
  private lastBucket = -1;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /** Adds to the bucket of `now`; `lagMs`, if given, raises the bucket's largest lag. */
  add(now: number, counter: ActivityCounter, n = 1, lagMs = 0) {
    if (n === 0 && lagMs === 0) return;
    const bucket = Math.floor(now / ACTIVITY_BUCKET_MS);
    if (bucket !== this.lastBucket) {
      this.lastBucket = bucket;
      this.sql.exec("DELETE FROM activity WHERE bucket <= ?", this.beforeWindow(now));
    }
    // `counter` is one of COUNTERS (a fixed set), never caller text.
    this.sql.exec(
      `INSERT INTO activity (bucket, ${counter}, lag_max_ms) VALUES (?, ?, ?)
       ON CONFLICT (bucket) DO UPDATE SET ${counter} = ${counter} + excluded.${counter},
       lag_max_ms = MAX(lag_max_ms, excluded.lag_max_ms)`,
      bucket,
      n,
      Math.max(0, Math.round(lagMs)),
    );
  }

  /** The buckets of the last 24 hours that saw anything, oldest first. */
  series(now: number): ActivityBucket[] {
    return this.sql
      .exec<Row>("SELECT * FROM activity WHERE bucket > ? ORDER BY bucket", this.beforeWindow(now))
      .toArray()
      .map((r) => ({ at: new Date(Number(r.bucket) * ACTIVITY_BUCKET_MS).toISOString(), ...totalsOf(r) }));
  }

  /** The window's sums (the largest lag for lag). */
  totals(now: number): ActivityTotals {
    const t = this.sql
      .exec<Row>(
        `SELECT ${COUNTERS.map((c) => `COALESCE(SUM(${c}), 0) AS ${c}`).join(", ")},
         COALESCE(MAX(lag_max_ms), 0) AS lag_max_ms FROM activity WHERE bucket > ?`,
        this.beforeWindow(now),
      )
      .one();
    return totalsOf(t);
  }

  /** The last bucket before the window (rows at or before it are out of the last 24 hours). */
  private beforeWindow(now: number): number {
    return Math.floor(now / ACTIVITY_BUCKET_MS) - ACTIVITY_WINDOW_MS / ACTIVITY_BUCKET_MS;
  }
}
