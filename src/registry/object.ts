import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { alarmFired, scheduleAlarm } from "../kv/alarm";
import { type FlushReport, Outbox } from "../kv/outbox";
import type { CatchUpReport, ReconcileReport, WebhookIntake } from "../schemas/ops";
import { WorkOSClient } from "../upstream/client";
import { accountPace, CRAWL_MAX_WAIT_MS } from "../upstream/gate";
import { catchUp } from "./catch-up";
import { IntakeCounts } from "./intake";
import { reconcileAll } from "./reconcile";
import { type DirectoryFilter, type Found, type RegistryEntry, RegistryStore } from "./store";

export type ScheduleReport =
  | { pullEnabled: false }
  | { pullEnabled: true; events: CatchUpReport; reconcile: ReconcileReport | null };

/**
 * The directories across organizations (few), kept by one singleton object: each directory's
 * writer reports its directory here, and this object alone writes the cross-directory indexes.
 * It also runs the schedule: Events API catch-up and reconcile of every directory.
 */
export class RegistryObject extends DurableObject<Env> {
  private readonly outbox: Outbox;
  private readonly store: RegistryStore;
  private readonly intake: IntakeCounts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.outbox = new Outbox(ctx.storage.sql, env.CACHE);
    this.store = new RegistryStore(ctx.storage, (mark) => this.outbox.mark(mark));
    this.intake = new IntakeCounts(ctx.storage.sql);
  }

  /** Adds isolates' counts of webhooks that never reached a writer (see routes/webhooks.ts). */
  async countIntake(counts: Record<string, number>): Promise<void> {
    this.intake.add(counts, Date.now());
  }

  async intakeTotals(): Promise<WebhookIntake> {
    return this.intake.totals(Date.now());
  }

  async put(id: string, entry: RegistryEntry | null): Promise<void> {
    this.store.put(id, entry);
    await scheduleAlarm(this.ctx.storage, Date.now());
  }

  /** The directories matching a filter (name search and domain have no KV index): see RegistryStore.search. */
  async search(filter: DirectoryFilter): Promise<Found[]> {
    return this.store.search(filter);
  }

  /** Whether the registry lists this directory. */
  async knows(id: string): Promise<boolean> {
    return this.store.has(id);
  }

  /** Known directories and the schedule's bookmarks, for GET /admin/status. */
  async overview(): Promise<{ ids: string[]; eventsCursor: string | null; lastReconcileAt: string | null }> {
    const last = this.store.meta("last_reconcile");
    return {
      ids: this.store.ids(),
      eventsCursor: this.store.meta("events_cursor"),
      lastReconcileAt: last ? new Date(Number(last)).toISOString() : null,
    };
  }

  /** The cron's work: Events API catch-up every time, a full reconcile when it is due. */
  async runSchedule(): Promise<ScheduleReport> {
    const client = this.client();
    if (!client) return { pullEnabled: false };
    const events = await this.catchUp(client);
    const config = loadConfig(this.env);
    const interval = config.ok ? config.config.reconcileIntervalMs : Number.POSITIVE_INFINITY;
    const last = Number(this.store.meta("last_reconcile") ?? 0);
    const reconcile = Date.now() - last >= interval ? await this.reconcile(client) : null;
    return { pullEnabled: true, events, reconcile };
  }

  /** Events API catch-up (see catch-up.ts). */
  async catchUp(client = this.client()): Promise<CatchUpReport> {
    const config = loadConfig(this.env);
    return catchUp(this.env, this.store, client, config.ok ? config.config : null);
  }

  /** Reconcile of every directory (see reconcile.ts); once done, the directory lists are held. */
  async reconcile(client = this.client()): Promise<ReconcileReport> {
    if (!client) return { directories: 0, removed: 0 };
    return reconcileAll(
      this.env,
      this.store,
      client,
      (id, entry) => this.put(id, entry),
      async () => {
        this.ctx.storage.transactionSync(() => {
          this.store.setMeta("last_reconcile", String(Date.now()));
          this.outbox.mark("held");
        });
        await scheduleAlarm(this.ctx.storage, Date.now());
      },
    );
  }

  private client(): WorkOSClient | null {
    const config = loadConfig(this.env);
    if (!config.ok || !config.config.upstream) return null;
    return new WorkOSClient({ ...config.config.upstream, pace: accountPace(this.env, CRAWL_MAX_WAIT_MS) });
  }

  override async alarm() {
    alarmFired(this.ctx.storage);
    await this.flushKv(Date.now());
  }

  /** As DirectoryObject.flushKv: due index writes as of `now`, then the next alarm. */
  async flushKv(now: number): Promise<FlushReport> {
    return this.outbox.flushAndSchedule(this.ctx.storage, now, RegistryStore.keyOf, (m) => this.store.materialize(m), {
      object: "registry",
    });
  }
}
