import type { Config } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import { type DsyncEvent, directoryOf, EVENT_DATA, type EventEnvelope, parseInstant } from "../schemas/events";
import type { CatchUpReport } from "../schemas/ops";
import type { WorkOSClient } from "../upstream/client";
import { decodeEvent } from "../webhooks/decode";
import type { RegistryStore } from "./store";

/** Events the Events API catch-up asks for: the ones the cache applies. */
const APPLIED_EVENTS = Object.keys(EVENT_DATA);
const MAX_EVENT_PAGES = 20;
/** With no cursor yet, the first catch-up starts this far back. */
const FIRST_LOOKBACK_MS = 60 * 60 * 1000;

/**
 * Pulls `dsync.*` events after the stored cursor and applies them through each directory's
 * writer (the same idempotent path as webhooks: ids are shared). WorkOS shows a new event to
 * ascending reads only seconds after creating it, possibly after later ones, so the stored
 * cursor stays behind a settling window while reading goes on past it: every run re-reads the
 * window, and what it re-applies comes back as a duplicate. The cursor moves only after a page
 * is applied; it never moves on ids seen via webhooks.
 */
export async function catchUp(
  env: Env,
  store: RegistryStore,
  client: WorkOSClient | null,
  config: Config | null,
): Promise<CatchUpReport> {
  const report: CatchUpReport = {
    pages: 0,
    read: 0,
    applied: 0,
    stale: 0,
    duplicates: 0,
    skipped: 0,
    unsettled: 0,
    cursor: store.meta("events_cursor"),
  };
  if (!client || !config) return report;
  let position = report.cursor;
  for (let i = 0; i < MAX_EVENT_PAGES; i++) {
    // Taken before the request: an event settled by then was visible to it.
    const readAt = Date.now();
    const page = await client.listEvents({
      events: APPLIED_EVENTS.join(","),
      limit: 100,
      order: "asc",
      ...(position ? { after: position } : { range_start: new Date(readAt - FIRST_LOOKBACK_MS).toISOString() }),
    });
    if (page.data.length === 0) break;
    await applyEvents(env, page.data, report);
    settleCursor(store, page.data, readAt - config.eventsSettleMs, report);
    position = page.data.at(-1)?.id ?? position;
    report.pages += 1;
    if (!page.list_metadata.after) break;
  }
  return report;
}

/** Applies one page of the feed through the directories' writers, counting outcomes. */
async function applyEvents(env: Env, items: EventEnvelope[], report: CatchUpReport): Promise<void> {
  const byDirectory = new Map<string, DsyncEvent[]>();
  for (const item of items) {
    report.read += 1;
    const decoded = decodeEvent(item);
    if (decoded.kind !== "apply") {
      report.skipped += 1;
      if (decoded.kind === "invalid")
        log.warn("events api: invalid event skipped", { eventId: item.id, event: item.event });
      continue;
    }
    const dir = directoryOf(decoded.event);
    byDirectory.set(dir, [...(byDirectory.get(dir) ?? []), decoded.event]);
  }
  for (const [dir, events] of byDirectory) {
    for (const outcome of await env.DIRECTORY.getByName(dir).applyBatch(events)) {
      if (outcome === "applied") report.applied += 1;
      else if (outcome === "stale") report.stale += 1;
      else report.duplicates += 1;
    }
  }
}

/**
 * Stores as the cursor the last event of a page created by `settledBy`. Event ids are
 * time-ordered, so every event before a settled one was already visible when it was read.
 */
function settleCursor(store: RegistryStore, items: EventEnvelope[], settledBy: number, report: CatchUpReport): void {
  const stored = report.cursor;
  for (const item of items) {
    if (parseInstant(item.created_at) <= settledBy) {
      report.cursor = item.id;
      report.unsettled = 0;
    } else report.unsettled += 1;
  }
  if (report.cursor && report.cursor !== stored) store.setMeta("events_cursor", report.cursor);
}
