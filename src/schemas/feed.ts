import * as v from "valibot";

/** A change as a directory's writer recorded it: WorkOS's event shape, `data` kept as its JSON text. */
export const RecordedEvent = v.object({
  /** The writer's own order (its outbox sequence). */
  seq: v.number(),
  id: v.string(),
  event: v.string(),
  organization_id: v.nullable(v.string()),
  created_at: v.string(),
  /** The record as the cache serves it (a deletion: its last state), as JSON text. */
  data: v.string(),
});
export type RecordedEvent = v.InferOutput<typeof RecordedEvent>;

/** What GET /events asks the feed for, once its query string is checked. */
export const FeedQuery = v.object({
  events: v.optional(v.array(v.string())),
  after: v.optional(v.string()),
  before: v.optional(v.string()),
  limit: v.number(),
  /** Events of these organizations only (absent: of every one; never empty). */
  organizations: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
  /** The organizations the reader may see, when limited: cursors must name their events. */
  visible: v.optional(v.array(v.string())),
  range_start: v.optional(v.string()),
  range_end: v.optional(v.string()),
});
export type FeedQuery = v.InferOutput<typeof FeedQuery>;

/** A page of the feed (each event as its JSON text), or which cursor named no event it holds. */
export type FeedPage = { data: string[]; after: string | null } | { invalidCursor: "after" | "before" };

/** Where the feed stands, for /admin/status. */
export const FeedHead = v.object({
  /** Events held (within retention), and the newest one. */
  events: v.number(),
  position: v.number(),
  lastEventId: v.nullable(v.string()),
  lastEventAt: v.nullable(v.string()),
});
export type FeedHead = v.InferOutput<typeof FeedHead>;

/** An event of the change feed as GET /events serves it (WorkOS's EventSchema). */
export const FeedEvent = v.object({
  object: v.literal("event"),
  id: v.string(),
  event: v.string(),
  data: v.record(v.string(), v.unknown()),
  created_at: v.string(),
});

export const FeedEventList = v.object({
  object: v.literal("list"),
  data: v.array(FeedEvent),
  /** The last event of the page (follow it with `after`); null on an empty page. */
  list_metadata: v.object({ after: v.nullable(v.string()) }),
});
