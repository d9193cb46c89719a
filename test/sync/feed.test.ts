import { describe, expect, it } from "vitest";
import { standin } from "../support/standin-client";
import { get, json, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitForSync } from "./helpers";

type FeedEvent = { id: string; event: string; data: { id?: string; user?: { id: string } } };
type Page = { data: FeedEvent[]; list_metadata: { after: string | null } };

async function feed(org: string, after?: string): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await json<Page>(
      await get(`/events?limit=100&organization_id=${org}${cursor ? `&after=${cursor}` : ""}`),
    );
    out.push(...page.data);
    if (!page.list_metadata.after) return out;
    cursor = page.list_metadata.after;
  }
}

describe("the change feed of pulled data", () => {
  it("records a backfill as creations, and a reconcile as only what it changed, deletions included", async () => {
    const d = upstreamDirectory("directory_01FEEDPULL", 10, 2, "org_FEEDPULL");
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete(1));
    await settle(d.dir.id);
    const backfill = await feed("org_FEEDPULL");
    const count = (events: FeedEvent[], name: string) => events.filter((e) => e.event === name).length;
    expect(count(backfill, "dsync.activated")).toBe(1);
    expect(count(backfill, "dsync.group.created")).toBe(2);
    expect(count(backfill, "dsync.user.created")).toBe(10);
    expect(count(backfill, "dsync.group.user_added")).toBe(d.memberships.length);
    expect(backfill).toHaveLength(1 + 2 + 10 + d.memberships.length);
    for (const e of backfill) expect(e.id).toMatch(/^event_[0-9A-HJKMNP-TV-Z]{26}$/);

    // A user deleted at WorkOS with no webhook: the reconcile finds it, and that is all it records.
    await standin.remove({ users: [d.uid(3)] });
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete(2));
    await settle(d.dir.id);
    const reconciled = await feed("org_FEEDPULL", backfill.at(-1)?.id);
    // The sweep removes the user's membership (user 3 is in one group), then the user.
    expect(reconciled.map((e) => [e.event, e.data.user?.id ?? e.data.id])).toEqual([
      ["dsync.group.user_removed", d.uid(3)],
      ["dsync.user.deleted", d.uid(3)],
    ]);
  });
});
