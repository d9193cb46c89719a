import * as v from "valibot";
import { ObjectId } from "./common";
import { EventDirectory } from "./directory";
import { DirectoryGroup } from "./group";
import { DirectoryUser } from "./user";

/**
 * Event envelope. Webhook bodies omit `object`; `created_at` has been seen both as ISO-8601
 * and as `2023-04-28 20:05:31.093` (space, no zone), so it is parsed leniently as UTC.
 */
export const EventEnvelope = v.looseObject({
  object: v.optional(v.literal("event")),
  id: ObjectId,
  event: v.pipe(v.string(), v.minLength(1)),
  data: v.unknown(),
  created_at: v.pipe(
    v.string(),
    v.check((s) => Number.isFinite(parseInstant(s)), "must be a timestamp"),
  ),
  context: v.optional(v.unknown()),
});
export type EventEnvelope = v.InferOutput<typeof EventEnvelope>;

/** Milliseconds since the epoch; a timestamp without a zone is read as UTC. */
export function parseInstant(s: string): number {
  const iso = s.includes("T") ? s : s.replace(" ", "T");
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  return Date.parse(zoned);
}

const Membership = v.looseObject({
  directory_id: ObjectId,
  user: DirectoryUser,
  group: DirectoryGroup,
});

/** `data` schema of every event the cache applies. */
export const EVENT_DATA = {
  "dsync.activated": EventDirectory,
  "dsync.deleted": EventDirectory,
  "dsync.user.created": DirectoryUser,
  "dsync.user.updated": DirectoryUser,
  "dsync.user.deleted": DirectoryUser,
  "dsync.group.created": DirectoryGroup,
  "dsync.group.updated": DirectoryGroup,
  "dsync.group.deleted": DirectoryGroup,
  "dsync.group.user_added": Membership,
  "dsync.group.user_removed": Membership,
} as const;

export type EventName = keyof typeof EVENT_DATA;

/** Directory Sync events that are acknowledged but change nothing the cache serves. */
export const ACKNOWLEDGED_EVENTS: ReadonlySet<string> = new Set([
  "dsync.token.created",
  "dsync.token.revoked",
  "dsync.deactivated",
]);

export function isAppliedEvent(name: string): name is EventName {
  return Object.hasOwn(EVENT_DATA, name);
}

/** An event validated and ready to apply: its typed `data`, plus ordering facts. */
export type DsyncEvent = {
  [K in EventName]: {
    id: string;
    event: K;
    /** Event creation time in ms (orders memberships, whose objects' `updated_at` does not move). */
    createdAt: number;
    data: v.InferOutput<(typeof EVENT_DATA)[K]>;
  };
}[EventName];

/** The directory an event belongs to (its writer's name). */
export function directoryOf(event: DsyncEvent): string {
  switch (event.event) {
    case "dsync.activated":
    case "dsync.deleted":
      return event.data.id;
    default:
      return event.data.directory_id;
  }
}
