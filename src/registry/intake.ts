import type { WebhookIntake } from "../schemas/ops";

const HOUR_MS = 3600_000;
export const INTAKE_WINDOW_HOURS = 24;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_intake (
  hour INTEGER NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (hour, outcome));
`;

/**
 * Webhooks that never reached a directory's writer (refused, or verified but not applied), in
 * hourly counts by outcome, the last 24 hours only. Outcomes are a fixed set of codes
 * (`refused:<error code>`, `skipped:<status>`), so the table is bounded.
 */
export class IntakeCounts {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  add(counts: Record<string, number>, now: number) {
    const hour = Math.floor(now / HOUR_MS);
    this.sql.exec("DELETE FROM webhook_intake WHERE hour <= ?", hour - INTAKE_WINDOW_HOURS);
    for (const [outcome, n] of Object.entries(counts))
      this.sql.exec(
        `INSERT INTO webhook_intake (hour, outcome, count) VALUES (?, ?, ?)
         ON CONFLICT (hour, outcome) DO UPDATE SET count = count + excluded.count`,
        hour,
        outcome,
        n,
      );
  }

  totals(now: number): WebhookIntake {
    const from = Math.floor(now / HOUR_MS) - INTAKE_WINDOW_HOURS;
    const out: WebhookIntake = { notApplied: {}, refused: {} };
    const rows = this.sql.exec<{ outcome: string; n: number }>(
      "SELECT outcome, SUM(count) AS n FROM webhook_intake WHERE hour > ? GROUP BY outcome ORDER BY outcome",
      from,
    );
    for (const { outcome, n } of rows) {
      const [kind, code] = outcome.split(":", 2) as [string, string];
      (kind === "refused" ? out.refused : out.notApplied)[code] = Number(n);
    }
    return out;
  }
}
