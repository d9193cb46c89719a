import * as v from "valibot";
import { FeedHead } from "./feed";
import { RefusalReason } from "./keys";
import { Pagination } from "./list";
import { Subscription } from "./subscriptions";

/** What an admin may do with a braked sweep: run it as it stands now, or complete removing nothing. */
export const BrakeDecision = v.picklist(["apply", "discard"]);
export type BrakeDecision = v.InferOutput<typeof BrakeDecision>;

/**
 * A sweep held back because it would remove more than RECONCILE_BRAKE_PERCENT of the directory's
 * live users (or groups), and more than RECONCILE_BRAKE_MIN of them; then what an admin decided.
 */
export const SweepBrake = v.object({
  generation: v.number(),
  /** When the sweep was braked. */
  at: v.string(),
  /** What the sweep would have removed when braked (memberships never brake; shown for context). */
  users: v.number(),
  groups: v.number(),
  memberships: v.number(),
  /** What the directory held live at that moment. */
  liveUsers: v.number(),
  liveGroups: v.number(),
  decision: v.nullable(BrakeDecision),
  decidedAt: v.nullable(v.string()),
});
export type SweepBrake = v.InferOutput<typeof SweepBrake>;

/** Body of POST /admin/directories/{id}/brake; `generation`, if given, must be the braked one. */
export const BrakeRequest = v.strictObject({
  decision: BrakeDecision,
  generation: v.optional(v.pipe(v.number(), v.integer())),
});
export type BrakeRequest = v.InferOutput<typeof BrakeRequest>;

/** Progress of a directory's crawl (backfill / reconcile), as GET /admin/directories/{id}/sync answers. */
export const SyncStatus = v.object({
  generation: v.number(),
  /** `braked`: the crawl completed its listings but waits for an admin to apply or discard its sweep. */
  state: v.picklist(["idle", "running", "braked", "complete", "failed"]),
  reason: v.nullable(v.string()),
  phase: v.picklist(["directory", "groups", "users", "members", "sweep", "done"]),
  /** Where the current phase resumes (an object id), and for `members` which group. */
  cursor: v.nullable(v.string()),
  group: v.nullable(v.string()),
  startedAt: v.nullable(v.string()),
  finishedAt: v.nullable(v.string()),
  pages: v.number(),
  counts: v.object({
    directories: v.number(),
    users: v.number(),
    groups: v.number(),
    memberships: v.number(),
    removed: v.number(),
  }),
  lastError: v.nullable(v.string()),
  lastErrorAt: v.nullable(v.string()),
  failures: v.number(),
  /** Generations started in a row because WorkOS refused the crawl's cursor (422). */
  restarts: v.number(),
  /**
   * Records of this generation WorkOS sent in a shape the cache cannot read, set aside (kept as
   * cached); `unidentified`: of them, those without a readable id (the sweep then removes nothing).
   */
  invalid: v.object({ records: v.number(), unidentified: v.number() }),
  /** Whether the cache has held this directory fully at least once (lists are served from KV). */
  held: v.boolean(),
  /** This generation's braked sweep (pending while `state` is `braked`), or null. */
  brake: v.nullable(SweepBrake),
});
export type SyncStatus = v.InferOutput<typeof SyncStatus>;

export const SyncReport = v.object({ ...SyncStatus.entries, pullEnabled: v.boolean() });
export type SyncReport = v.InferOutput<typeof SyncReport>;

/** What one flush of a writer's outbox to KV did. */
export const FlushReport = v.object({
  written: v.number(),
  deleted: v.number(),
  /** When the next flush should run (ms epoch), or null when nothing is left. */
  next: v.nullable(v.number()),
  /** Same-key writes less than a second apart (must stay 0; measured, not assumed). */
  tooSoon: v.number(),
  /** Marks still waiting after this flush. */
  pending: v.number(),
  /** The longest a change this flush wrote had waited since it was made (ms): the projection's lag. */
  lagMs: v.number(),
});
export type FlushReport = v.InferOutput<typeof FlushReport>;

/**
 * KV writes of a writer that failed and wait for their retry (each on its own backoff; the rest of
 * the outbox goes on). `parked` ones kept failing: retried rarely, and whenever their record changes.
 */
export const OutboxFailures = v.object({
  retrying: v.number(),
  parked: v.number(),
  /** The longest-failing ones. `write` names the record (a lookup value only by its hash). */
  oldest: v.array(
    v.object({
      write: v.string(),
      attempts: v.number(),
      parked: v.boolean(),
      since: v.string(),
      nextAttempt: v.string(),
      error: v.string(),
    }),
  ),
});
export type OutboxFailures = v.InferOutput<typeof OutboxFailures>;

/** What a directory's writer did over a span (a chart bucket, or the last 24 hours). */
export const ActivityTotals = v.object({
  /** Events that changed what the cache holds, from any source (webhooks, Events API, crawl, read-through). */
  changes: v.number(),
  /** Webhooks delivered to this directory, by outcome. */
  webhooks: v.object({ applied: v.number(), stale: v.number(), duplicate: v.number() }),
  kvWrites: v.number(),
  /** The longest a change waited to reach KV (ms). */
  lagMaxMs: v.number(),
});
export type ActivityTotals = v.InferOutput<typeof ActivityTotals>;

export const ActivityBucket = v.object({ at: v.string(), ...ActivityTotals.entries });
export type ActivityBucket = v.InferOutput<typeof ActivityBucket>;

/** GET /admin/directories/{id}/activity: the last 24 hours in buckets (only those that saw anything). */
export const DirectoryActivity = v.object({
  directoryId: v.string(),
  bucketSeconds: v.number(),
  from: v.string(),
  to: v.string(),
  buckets: v.array(ActivityBucket),
});
export type DirectoryActivity = v.InferOutput<typeof DirectoryActivity>;

/** Query of GET /admin/directories/{id}/records: what the writer holds, in list order (oldest first). */
export const RecordsQuery = v.object({
  type: v.picklist(["users", "groups"], "must be users or groups"),
  limit: Pagination.entries.limit,
  /** The `list_metadata.after` of the previous page (opaque). */
  after: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(300))),
});
export type RecordsQuery = v.InferOutput<typeof RecordsQuery>;

/** One directory in GET /admin/status. */
export const DirectoryStatus = v.object({
  directoryId: v.nullable(v.string()),
  /** The directory as the cache holds it (null before its record arrived). */
  directory: v.nullable(
    v.object({ name: v.string(), organizationId: v.string(), state: v.string(), deleted: v.boolean() }),
  ),
  counts: v.object({ active: v.number(), inactive: v.number(), groups: v.number() }),
  pendingKvWrites: v.number(),
  /** How long the oldest change not yet in KV has waited (ms); null when nothing waits. */
  oldestPendingWriteAgeMs: v.nullable(v.number()),
  /** Changes recorded for the change feed and not yet handed to it. */
  pendingFeedEvents: v.number(),
  failedKvWrites: OutboxFailures,
  kvSameKeyWritesUnderOneSecond: v.number(),
  lastEvent: v.nullable(v.object({ id: v.string(), event: v.string(), outcome: v.string(), at: v.number() })),
  lastFlush: v.nullable(v.object({ at: v.number(), ...FlushReport.entries })),
  sync: SyncReport,
  last24h: ActivityTotals,
});
export type DirectoryStatus = v.InferOutput<typeof DirectoryStatus>;

/** Webhooks the cache did not hand to a writer, over the last 24 hours (hourly buckets). */
export const WebhookIntake = v.object({
  /** Verified events the cache does not apply, by the status it answered (`acknowledged`, `ignored`). */
  notApplied: v.record(v.string(), v.number()),
  /** Refused deliveries, by error code (`invalid_signature`, `invalid_json`, `not_recorded`, ...). */
  refused: v.record(v.string(), v.number()),
});
export type WebhookIntake = v.InferOutput<typeof WebhookIntake>;

export const Status = v.object({
  pullEnabled: v.boolean(),
  eventsCursor: v.nullable(v.string()),
  lastReconcileAt: v.nullable(v.string()),
  directories: v.array(DirectoryStatus),
  /** The change feed's head, and each push subscription's state. */
  feed: v.object({ head: FeedHead, subscriptions: v.array(Subscription) }),
  /** Every webhook of the last 24 hours: the writers' outcomes summed, and what never reached one. */
  webhooks: v.object({
    windowHours: v.number(),
    applied: v.number(),
    stale: v.number(),
    duplicate: v.number(),
    ...WebhookIntake.entries,
  }),
  /** Requests refused by the key checks, by reason, since the cache was deployed. */
  refusedRequests: v.record(RefusalReason, v.number()),
});
export type Status = v.InferOutput<typeof Status>;

export const Health = v.object({ status: v.picklist(["ok", "misconfigured"]) });

export const WebhookAck = v.object({
  status: v.picklist(["applied", "stale", "duplicate", "acknowledged", "ignored"]),
  event_id: v.string(),
});

/**
 * What POST /admin/events/catch-up (and the cron) did with the Events API. Each run re-reads the
 * settling window after the stored cursor, so re-read events show up again as duplicates.
 */
export const CatchUpReport = v.object({
  pages: v.number(),
  /** Events read this run, re-read ones included: applied + stale + duplicates + skipped. */
  read: v.number(),
  applied: v.number(),
  /** Older than what the cache already holds (by `updated_at`), so changed nothing. */
  stale: v.number(),
  /** Already applied (by event id): re-read from the window, or delivered by webhook first. */
  duplicates: v.number(),
  /** Not applied by the cache (other event types) or invalid. */
  skipped: v.number(),
  /** Events read past the stored cursor, still inside the settling window: the next run re-reads them. */
  unsettled: v.number(),
  /** The stored cursor: the last event read that was older than the settling window. */
  cursor: v.nullable(v.string()),
});
export type CatchUpReport = v.InferOutput<typeof CatchUpReport>;

/** What POST /admin/reconcile (and the cron) did: directories listed at WorkOS, and removed. */
export const ReconcileReport = v.object({ directories: v.number(), removed: v.number() });
export type ReconcileReport = v.InferOutput<typeof ReconcileReport>;
