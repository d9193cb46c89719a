import * as v from "valibot";

/** Body of POST /admin/subscriptions. */
export const CreateSubscription = v.strictObject({
  url: v.pipe(v.string(), v.maxLength(2048, "must be at most 2048 characters")),
  /** Event types to deliver (default: every `dsync.*` event the feed records). */
  events: v.optional(
    v.pipe(v.array(v.pipe(v.string(), v.startsWith("dsync.", "must be a dsync.* event"))), v.maxLength(20)),
  ),
  /** Only events of these organizations (default: all; for a key limited to organizations, its own). */
  organization_ids: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.maxLength(1000))),
});
export type CreateSubscription = v.InferOutput<typeof CreateSubscription>;

/** A subscription as the admin API shows it (its secret only once, when created or rotated). */
export const Subscription = v.object({
  object: v.literal("subscription"),
  id: v.string(),
  url: v.string(),
  events: v.array(v.string()),
  organization_ids: v.array(v.string()),
  state: v.picklist(["active", "paused"]),
  created_at: v.string(),
  /** The id of the access key that made it (`API_KEYS` for a settings key); null for an administrator. */
  created_by: v.nullable(v.string()),
  /** Feed position its deliveries are queued up to. */
  position: v.number(),
  /** Deliveries queued and not yet done (delivered or dead-lettered). */
  backlog: v.number(),
  delivered: v.number(),
  /** Deliveries that failed for longer than the retry schedule (dead-lettered). */
  dead: v.number(),
  last_success_at: v.nullable(v.string()),
  last_failure: v.nullable(v.object({ at: v.string(), status: v.nullable(v.number()), error: v.string() })),
  secret: v.optional(v.string()),
});
export type Subscription = v.InferOutput<typeof Subscription>;

/** One queued delivery: an event of the feed for one subscription. */
export const DeliveryMessage = v.object({
  subscription: v.string(),
  position: v.number(),
  id: v.string(),
  event: v.string(),
  created_at: v.string(),
  /** The event's `data` as JSON text. */
  data: v.string(),
});
export type DeliveryMessage = v.InferOutput<typeof DeliveryMessage>;

/** What a delivery attempt came to, reported back to the feed for the subscription's state. */
export const DeliveryOutcome = v.object({
  subscription: v.string(),
  at: v.number(),
  outcome: v.picklist(["delivered", "failed", "dead"]),
  status: v.nullable(v.number()),
  error: v.string(),
});
export type DeliveryOutcome = v.InferOutput<typeof DeliveryOutcome>;
