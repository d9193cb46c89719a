import * as v from "valibot";
import {
  ACKNOWLEDGED_EVENTS,
  type DsyncEvent,
  EVENT_DATA,
  EventEnvelope,
  isAppliedEvent,
  parseInstant,
} from "../schemas/events";

export type Decoded =
  | { kind: "apply"; event: DsyncEvent }
  | { kind: "skip"; id: string; event: string; status: "acknowledged" | "ignored" }
  | { kind: "invalid"; what: string; issues: readonly v.BaseIssue<unknown>[] };

/**
 * Turns a parsed event (webhook body or Events API item) into something to apply, skip, or
 * refuse. Shared by every path that feeds a directory writer, so they validate alike.
 */
export function decodeEvent(json: unknown): Decoded {
  const envelope = v.safeParse(EventEnvelope, json);
  if (!envelope.success) return { kind: "invalid", what: "event", issues: envelope.issues };
  const { id, event: name, created_at } = envelope.output;
  if (!isAppliedEvent(name)) {
    return { kind: "skip", id, event: name, status: ACKNOWLEDGED_EVENTS.has(name) ? "acknowledged" : "ignored" };
  }
  const data = v.safeParse(EVENT_DATA[name], envelope.output.data);
  if (!data.success) return { kind: "invalid", what: `${name} data`, issues: data.issues };
  return {
    kind: "apply",
    event: { id, event: name, createdAt: parseInstant(created_at), data: data.output } as DsyncEvent,
  };
}
