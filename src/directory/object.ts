import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { ChangeRecorder } from "../feed/recorder";
import { alarmFired, scheduleAlarm } from "../kv/alarm";
import { KvBudget } from "../kv/budget";
import { type FlushReport, Outbox } from "../kv/outbox";
import { log } from "../log";
import type { RegistryEntry } from "../registry/store";
import type { Directory } from "../schemas/directory";
import { type DsyncEvent, directoryOf } from "../schemas/events";
import type { DirectoryGroup } from "../schemas/group";
import type { BrakeDecision, DirectoryActivity, DirectoryStatus, SyncReport, SyncStatus } from "../schemas/ops";
import { UpstreamError, WorkOSClient } from "../upstream/client";
import { accountPace, CRAWL_MAX_WAIT_MS, READ_MAX_WAIT_MS } from "../upstream/gate";
import { ACTIVITY_BUCKET_MS, ACTIVITY_WINDOW_MS, Activity } from "./activity";
import { applyEvent } from "./apply";
import { type DirtyKey, idOfSortKey } from "./model";
import { eventDirectoryJson, kvKeyOf, materialize, servedJson, servedText } from "./projection";
import { pulled, userOf } from "./pulled";
import { SqliteStore } from "./sqlite-store";
import { Crawler } from "./sync";

/** Event ids are remembered this long (WorkOS retries for 3 days; the Events API keeps 30). */
const SEEN_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** An alarm crawls in slices of this length, flushing between them so reads keep up. */
const CRAWL_SLICE_MS = 5_000;
const ALARM_BUDGET_MS = 25_000;
/** A directory WorkOS answered 404 for is not asked about again for this long. */
const UNKNOWN_TTL_MS = 60_000;
/** A failed lookup (WorkOS unreachable) is not retried for this long. */
const LOOKUP_RETRY_MS = 5_000;
/** A crawl that found its directory gone at WorkOS is restarted by reads at most this often. */
const GONE_RETRY_MS = 10 * 60_000;
/** Recorded changes handed to the feed per call, and when to try again after a failure. */
const FEED_BATCH = 200;
const FEED_RETRY_MS = 5_000;
/** How often a crawl waiting on WorkOS lets the outbox flush (KV's pace: one write a second per key). */
const FLUSH_WHILE_CRAWLING_MS = 1_000;

export type ApplyOutcome = "applied" | "stale" | "duplicate";
export type SyncMode = "read" | "reconcile" | "restart";

/** What a read-through fetched from WorkOS, to be kept. */
export interface PulledRecords {
  directory?: Record<string, unknown>;
  users?: Record<string, unknown>[];
  groups?: DirectoryGroup[];
}

/** The layout of what this writer publishes (2: chunks carry their records; partial users are marked). */
const INDEX_FORMAT = "2";

/**
 * The one writer of a directory. Each event is applied in a single synchronous SQLite
 * transaction, so concurrent deliveries cannot interleave inside it; KV is written later by
 * the alarm alone, through the outbox. The same alarm runs the directory's crawl (backfill
 * and reconcile) against the WorkOS API, a slice at a time.
 */
export class DirectoryObject extends DurableObject<Env> {
  private readonly store: SqliteStore;
  private readonly outbox: Outbox;
  private readonly recorder: ChangeRecorder;
  private readonly crawler: Crawler;
  private readonly activity: Activity;
  /** Records the event being applied changed (an event that changed nothing counts no change). */
  private changedRecords = 0;
  /** While WorkOS says it does not know this object's directory (see lookUp). */
  private unknownUntil = 0;
  private lookupFailure: { error: unknown; until: number } | null = null;
  private lookup: Promise<Directory | null> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = loadConfig(env);
    this.outbox = new Outbox(ctx.storage.sql, env.CACHE);
    this.activity = new Activity(ctx.storage.sql);
    this.store = new SqliteStore(
      ctx.storage.sql,
      // A list index keeps the entries a change touched, so only the chunks around them are re-cut.
      (mark, touched) =>
        mark.startsWith("idx:") ? this.outbox.markList(mark, touched ?? null) : this.outbox.mark(mark),
      (change) => {
        this.changedRecords += 1;
        this.recorder.note(change);
      },
    );
    this.recorder = new ChangeRecorder(
      ctx.storage.sql,
      {
        directoryId: () => this.store.getMeta("directory_id"),
        organizationId: () => this.store.directory()?.data?.organization_id ?? null,
        json: (kind, id) => (kind === "directory" ? eventDirectoryJson(this.store) : servedJson(this.store, kind, id)),
      },
      config.ok && config.config.feedEnabled,
    );
    this.crawler = new Crawler(
      this.store,
      (fn) => ctx.storage.transactionSync(fn),
      (events) => {
        for (const e of events) this.applyChange(e);
      },
      () => this.publishIndexes(),
      // Unreadable settings turn pulling off (no crawl runs); were one to run, brake hardest.
      config.ok ? config.config.deletionBrake : { percent: 1, min: 0 },
    );
    // Indexes published before their chunks carried records are cut afresh, and users kept before
    // partial ones were marked are rewritten, once.
    if (this.store.getMeta("index_format") !== INDEX_FORMAT) {
      if (this.store.getMeta("directory_id") !== null) {
        // The registry's lists carry this directory as served from now on.
        this.outbox.mark("registry");
        if (this.held()) this.publishIndexes();
        else this.markUsers();
        ctx.blockConcurrencyWhile(() => scheduleAlarm(ctx.storage, Date.now()));
      }
      this.store.setMeta("index_format", INDEX_FORMAT);
    }
  }

  /**
   * A webhook: records the event durably, its outcome counted with it; returns once it is in
   * storage (the caller may then answer 2xx).
   */
  async apply(event: DsyncEvent): Promise<ApplyOutcome> {
    const [outcome] = await this.applyBatch([event], true);
    return outcome as ApplyOutcome;
  }

  /** Applies events in order, each in its own transaction, in one call (bulk feeds). */
  async applyBatch(events: DsyncEvent[], webhook = false): Promise<ApplyOutcome[]> {
    const outcomes = events.map((event) =>
      this.ctx.storage.transactionSync(() => {
        const outcome = this.applyOne(event);
        if (webhook) this.activity.add(Date.now(), `webhooks_${outcome}`);
        return outcome;
      }),
    );
    if (outcomes.includes("applied")) await scheduleAlarm(this.ctx.storage, Date.now());
    return outcomes;
  }

  /**
   * The one way a change enters this writer's state: applied, and what it changed recorded for
   * the change feed, in the caller's transaction.
   */
  private applyChange(event: DsyncEvent): "applied" | "stale" {
    this.recorder.begin();
    this.changedRecords = 0;
    const outcome = applyEvent(this.store, event);
    this.recorder.commit(event);
    if (this.changedRecords > 0) this.activity.add(Date.now(), "changes");
    return outcome;
  }

  private applyOne(event: DsyncEvent): ApplyOutcome {
    this.claim(directoryOf(event));
    if (this.store.hasSeen(event.id)) return "duplicate";
    this.store.recordSeen(event.id, Date.now());
    const outcome = this.applyChange(event);
    this.store.setMeta("last_event", JSON.stringify({ id: event.id, event: event.event, outcome, at: Date.now() }));
    // A newly activated directory is backfilled from the API (when pulling is configured).
    if (event.event === "dsync.activated" && outcome === "applied" && this.pullEnabled()) {
      this.crawler.start("activated", Date.now());
    }
    return outcome;
  }

  /**
   * Asks for a crawl; answers its status, or null when WorkOS does not know the directory.
   * - `read` (a list of a directory not held, a read-through): starts one only when the
   *   directory is not held and none runs; never wakes a crawl backing off after a failure, and
   *   restarts one that found the directory gone at most every GONE_RETRY_MS. So reads cannot
   *   amplify into WorkOS, however many arrive.
   * - `reconcile` (the directory was just listed at WorkOS): a new generation, or resumes the
   *   running one at once. A braked crawl is replaced.
   * - `restart` (an admin): a new generation whatever runs, so any crawl can be restarted.
   * An object that holds nothing yet first asks WorkOS whether the directory exists (unless
   * `reconcile`), and writes nothing when it does not: no object is left behind for an id
   * WorkOS does not know, and the answer is remembered (UNKNOWN_TTL_MS) for every caller.
   */
  async requestSync(directoryId: string, reason: string, mode: SyncMode = "read"): Promise<SyncStatus | null> {
    if (!this.pullEnabled()) return this.crawler.status();
    let found: Directory | undefined;
    const sentAt = Date.now();
    if (this.store.getMeta("directory_id") === null && mode !== "reconcile") {
      const looked = await this.lookUp(directoryId);
      if (!looked) return null;
      found = looked;
    }
    const now = Date.now();
    // `wake`: run the crawl now. A read wakes only a crawl it started; one backing off stays so.
    const { status, wake } = this.ctx.storage.transactionSync(() => {
      this.claim(directoryId);
      if (found) this.applyChange(pulled.directory(found, { at: sentAt, tag: "lookup" }));
      const s = this.crawler.status();
      if (mode === "restart") return { status: this.crawler.start(reason, now, true), wake: true };
      if (mode === "reconcile") return { status: this.crawler.start(reason, now), wake: true };
      if (s.state === "failed" && now - Date.parse(s.lastErrorAt ?? "") < GONE_RETRY_MS)
        return { status: null, wake: false };
      const idle = s.state !== "running" && s.state !== "braked";
      return !s.held && idle ? { status: this.crawler.start(reason, now), wake: true } : { status: s, wake: false };
    });
    if (status?.state === "running" && wake) await scheduleAlarm(this.ctx.storage, now);
    return status;
  }

  /**
   * The directory as WorkOS has it, or null if WorkOS does not know it (remembered for
   * UNKNOWN_TTL_MS). Concurrent callers share one request. WorkOS failing is an error (the
   * reader answers 503), remembered briefly so a storm of reads does not retry it each time.
   */
  private lookUp(directoryId: string): Promise<Directory | null> {
    if (this.unknownUntil > Date.now()) return Promise.resolve(null);
    if (this.lookupFailure && this.lookupFailure.until > Date.now()) return Promise.reject(this.lookupFailure.error);
    this.lookup ??= (async () => {
      // A lookup answers a waiting reader: it waits for a slot no longer than a read would.
      const client = this.upstream({ maxRetries: 1, timeoutMs: 5_000, maxWaitMs: READ_MAX_WAIT_MS });
      if (!client) return null;
      try {
        return (await client.getDirectory(directoryId)) as Directory;
      } catch (err) {
        if (err instanceof UpstreamError && err.status === 404) {
          this.unknownUntil = Date.now() + UNKNOWN_TTL_MS;
          return null;
        }
        this.lookupFailure = { error: err, until: Date.now() + LOOKUP_RETRY_MS };
        throw err;
      }
    })().finally(() => {
      this.lookup = null;
    });
    return this.lookup;
  }

  async syncStatus(): Promise<SyncReport> {
    return { ...this.crawler.status(), held: this.held(), pullEnabled: this.pullEnabled() };
  }

  /** An admin's decision on a braked sweep (see Crawler.decide); null when nothing is braked. */
  async decideBrake(decision: BrakeDecision, generation?: number): Promise<SyncReport | null> {
    const directoryId = this.store.getMeta("directory_id");
    if (!directoryId || !this.crawler.decide(directoryId, decision, generation)) return null;
    // Removals (and, once held, the list indexes) reach KV through the outbox.
    await scheduleAlarm(this.ctx.storage, Date.now());
    return this.syncStatus();
  }

  /**
   * Records as the read model serves them (a tombstone for a deleted one, null for none), read
   * from this writer's state: for a list page whose index names a record that the reader's KV
   * location does not show yet (KV is eventually consistent, and caches a miss).
   */
  async served(
    kind: "user" | "group" | "directory",
    ids: string[],
    /** Keep the partial mark of a user kept before its directory is held (a strong read then asks WorkOS). */
    marked = false,
  ): Promise<Record<string, string | null>> {
    const directoryId = this.store.getMeta("directory_id");
    const out: Record<string, string | null> = {};
    for (const id of ids.slice(0, 100)) {
      const mark: DirtyKey = kind === "directory" ? "dir" : `${kind}:${id}`;
      const mine = directoryId !== null && (kind !== "directory" || id === directoryId);
      const write = mine ? materialize(this.store, directoryId as string, mark, this.held(), async () => {}) : null;
      out[id] = write?.kind === "put" ? (marked ? write.value : servedText(write.value)) : null;
    }
    return out;
  }

  /**
   * A page of the live users or groups this writer holds, as served, in list order (oldest
   * first): for an operator to see what the cache holds, from its source of truth. `after`: the
   * previous page's last sort key.
   */
  async records(
    type: "users" | "groups",
    after: string | null,
    limit: number,
  ): Promise<{ data: string[]; after: string | null }> {
    const keys =
      type === "users" ? this.store.userSortKeys(after, limit + 1) : this.store.groupSortKeys(after, limit + 1);
    const page = keys.slice(0, limit);
    const data = page
      .map(idOfSortKey)
      .map((id) => (type === "users" ? this.store.servedUser(id) : servedJson(this.store, "group", id)))
      .filter((json): json is string => json !== null);
    return { data, after: keys.length > limit ? (page.at(-1) ?? null) : null };
  }

  /**
   * Keeps records a read-through fetched (`sentAt`: when its request was sent, so a change
   * made while it was in flight wins), and starts a backfill if the directory is not held.
   */
  async storePulled(directoryId: string, records: PulledRecords, sentAt = Date.now()): Promise<void> {
    const s = { at: sentAt, tag: "read-through" };
    const events: DsyncEvent[] = [];
    if (records.directory) events.push(pulled.directory(records.directory, s));
    for (const g of records.groups ?? []) events.push(pulled.group(g, s));
    for (const rest of records.users ?? []) {
      const user = userOf(rest);
      events.push(pulled.user(user, s));
      // Older teams still get `groups` on users: keep those memberships too.
      for (const g of (rest.groups as DirectoryGroup[] | undefined) ?? []) events.push(pulled.member(user, g, s));
    }
    this.ctx.storage.transactionSync(() => {
      this.claim(directoryId);
      for (const e of events) this.applyChange(e);
    });
    await scheduleAlarm(this.ctx.storage, Date.now());
    await this.requestSync(directoryId, "read-through");
  }

  /**
   * Removes the directory and everything under it (missing from WorkOS's listing, or deleted
   * through the API). The tombstone is dated by the last state the cache knew, not by now: any
   * newer change from WorkOS (a `dsync.activated` with a later `updated_at`, and the events after
   * it) lifts it, so a directory missing from one listing can come back.
   */
  async purge(directoryId: string): Promise<void> {
    const known = this.store.directory()?.data;
    const asOf = Date.parse(known?.updated_at ?? "") || 0;
    const directory = {
      ...(known ?? { object: "directory", id: directoryId, organization_id: "", external_key: "", name: "", type: "" }),
      state: "deleting",
      created_at: known?.created_at ?? new Date(0).toISOString(),
      updated_at: new Date(asOf).toISOString(),
    } as Directory;
    this.ctx.storage.transactionSync(() => {
      this.claim(directoryId);
      this.applyChange(pulled.directoryGone(directory, { at: asOf, tag: "purge" }));
    });
    await scheduleAlarm(this.ctx.storage, Date.now());
  }

  /** Counts, last event, sync and queue depth (GET /admin/status). */
  async status(): Promise<DirectoryStatus> {
    const now = Date.now();
    const row = this.store.directory();
    const oldest = this.outbox.oldestPendingAt();
    return {
      directoryId: this.store.getMeta("directory_id"),
      directory: row?.data
        ? {
            name: row.data.name,
            organizationId: row.data.organization_id,
            state: row.data.state,
            deleted: row.deleted,
          }
        : null,
      counts: this.store.counts(),
      pendingKvWrites: this.outbox.pending(),
      oldestPendingWriteAgeMs: oldest === null ? null : Math.max(0, now - oldest),
      pendingFeedEvents: this.recorder.pending(),
      failedKvWrites: this.outbox.failures(),
      kvSameKeyWritesUnderOneSecond: this.outbox.tooSoonTotal,
      lastEvent: JSON.parse(this.store.getMeta("last_event") ?? "null"),
      lastFlush: JSON.parse(this.store.getMeta("last_flush") ?? "null"),
      sync: await this.syncStatus(),
      last24h: this.activity.totals(now),
    };
  }

  /** The last 24 hours of this writer's activity, for the console's charts. */
  async activitySeries(): Promise<DirectoryActivity> {
    const now = Date.now();
    const to = (Math.floor(now / ACTIVITY_BUCKET_MS) + 1) * ACTIVITY_BUCKET_MS;
    return {
      directoryId: this.store.getMeta("directory_id") ?? "",
      bucketSeconds: ACTIVITY_BUCKET_MS / 1000,
      from: new Date(to - ACTIVITY_WINDOW_MS).toISOString(),
      to: new Date(to).toISOString(),
      buckets: this.activity.series(now),
    };
  }

  override async alarm() {
    alarmFired(this.ctx.storage);
    const started = Date.now();
    // Every flush of this invocation draws from one KV budget (1,000 operations per invocation);
    // once it is spent, the next alarm, at once, carries on with a fresh one.
    const budget = new KvBudget();
    await this.flushKv(started, budget);
    const directoryId = this.store.getMeta("directory_id");
    const upstream = this.upstream();
    if (!directoryId || !upstream) return;
    while (Date.now() - started < ALARM_BUDGET_MS && budget.left > 0) {
      const step = this.crawler.step(directoryId, upstream, Date.now() + CRAWL_SLICE_MS);
      const next = await this.flushingWhile(step, budget);
      await this.flushKv(Date.now(), budget);
      if (next === null) return;
      if (next > Date.now()) {
        await scheduleAlarm(this.ctx.storage, next);
        return;
      }
    }
    await scheduleAlarm(this.ctx.storage, Date.now());
  }

  /**
   * Runs `work` (a crawl step, which waits on WorkOS for up to the client's timeouts and
   * retries) while flushing the outbox every FLUSH_WHILE_CRAWLING_MS: deliveries applied
   * meanwhile reach KV at their usual pace, however slow WorkOS is. Flushes stay serialised by
   * the outbox, and a crawl page commits in one synchronous transaction, so the two never
   * see each other half done.
   */
  private async flushingWhile<T>(work: Promise<T>, budget: KvBudget): Promise<T> {
    let settled = false;
    const done = work.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    while (!settled) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, FLUSH_WHILE_CRAWLING_MS)))]);
      clearTimeout(timer);
      if (!settled && this.outbox.pending() > 0 && budget.left > 0) await this.flushKv(Date.now(), budget);
    }
    return work;
  }

  /**
   * Writes due KV changes as of `now` (the alarm passes the real time; tests pass a simulated
   * one instead of sleeping) and schedules the next flush if anything is left. `budget`: the
   * KV operations the invocation has left (a call on its own is an invocation of its own).
   */
  async flushKv(now: number, budget = new KvBudget()): Promise<FlushReport> {
    const directoryId = this.store.getMeta("directory_id");
    if (!directoryId) return { written: 0, deleted: 0, next: null, tooSoon: 0, pending: 0, lagMs: 0 };
    this.store.forgetSeenBefore(now - SEEN_RETENTION_MS);
    const held = this.held();
    const report = await this.outbox.flushAndSchedule(
      this.ctx.storage,
      now,
      (mark) => kvKeyOf(directoryId, mark as DirtyKey),
      (mark) => materialize(this.store, directoryId, mark as DirtyKey, held, () => this.notifyRegistry(directoryId)),
      { directoryId },
      budget,
    );
    this.store.setMeta("last_flush", JSON.stringify({ at: now, ...report }));
    this.activity.add(Date.now(), "kv_writes", report.written, report.lagMs);
    await this.publishFeed(directoryId);
    // What waits: KV writes, and recorded changes the feed does not hold yet.
    return { ...report, pending: report.pending + this.recorder.pending() };
  }

  /**
   * Hands recorded changes to the feed, in order, a batch at a time; what the feed holds is
   * dropped here. A failure leaves them to the next alarm: nothing recorded is lost.
   */
  private async publishFeed(directoryId: string) {
    const batch = this.recorder.batch(FEED_BATCH);
    if (batch.length === 0) return;
    try {
      const held = await this.env.FEED.getByName("feed").append(directoryId, batch);
      this.recorder.acknowledge(held);
      if (batch.length === FEED_BATCH) await scheduleAlarm(this.ctx.storage, Date.now());
    } catch (err) {
      log.error("feed append failed", { directoryId, error: String(err) });
      await scheduleAlarm(this.ctx.storage, Date.now() + FEED_RETRY_MS);
    }
  }

  private pullEnabled(): boolean {
    const config = loadConfig(this.env);
    return config.ok && config.config.upstream !== undefined;
  }

  /** Without pulling, what webhooks delivered is all there is to hold. */
  private held(): boolean {
    return !this.pullEnabled() || this.crawler.status().held;
  }

  private upstream({
    maxWaitMs = CRAWL_MAX_WAIT_MS,
    ...opts
  }: {
    maxRetries?: number;
    timeoutMs?: number;
    maxWaitMs?: number;
  } = {}): WorkOSClient | null {
    const config = loadConfig(this.env);
    if (!config.ok || !config.config.upstream) return null;
    const account = accountPace(this.env, maxWaitMs);
    return new WorkOSClient({
      ...config.config.upstream,
      ...opts,
      // The account-wide slot first: the per-directory spacing is kept closest to the send.
      pace: async (path) => {
        await account();
        await this.crawler.pace(path);
      },
    });
  }

  /**
   * Once held fully, every list index (and the marker saying so) is published, and users kept
   * as partial are rewritten whole (a user KV already holds as it is costs no write).
   */
  private publishIndexes() {
    for (const mark of ["sync", "dir"] as const) this.outbox.mark(mark);
    for (const mark of ["idx:du", "idx:dg", ...this.store.liveGroupIds().map((id) => `idx:gu:${id}`)])
      this.outbox.markList(mark, null);
    this.markUsers();
  }

  private markUsers() {
    for (const id of this.store.liveUserIds()) this.outbox.mark(`user:${id}`);
  }

  /** An object serves exactly one directory, named by the first event it is given. */
  private claim(directoryId: string) {
    const owner = this.store.getMeta("directory_id");
    if (owner === null) this.store.setMeta("directory_id", directoryId);
    else if (owner !== directoryId) throw new Error(`writer of ${owner} was given an event of ${directoryId}`);
  }

  /** Tells the registry the directory as served now (paced by the outbox: at most once a second). */
  private async notifyRegistry(directoryId: string) {
    const row = this.store.directory();
    const json = servedJson(this.store, "directory", directoryId);
    const entry: RegistryEntry | null =
      row && !row.deleted && row.data && json
        ? {
            id: directoryId,
            organizationId: row.data.organization_id,
            name: row.data.name,
            domain: row.data.domain ?? null,
            sortKey: row.sortKey,
            json,
          }
        : null;
    await this.env.REGISTRY.getByName("registry").put(directoryId, entry);
  }
}
