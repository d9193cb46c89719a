import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FeedLog } from "../../src/feed/log";
import { directory, event, group, iso, membership, T0, user, type WebhookEvent } from "../support/events";
import { deliver, deliverAll, get, json, settle } from "../support/worker";

type FeedEvent = { object: "event"; id: string; event: string; data: Record<string, unknown>; created_at: string };
type Page = { object: "list"; data: FeedEvent[]; list_metadata: { after: string | null } };

/** Follows the feed from `after` to its end, as a consumer would. */
async function follow(query: string, after?: string): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  let cursor = after;
  for (;;) {
    const res = await get(`/events?limit=100&${query}${cursor ? `&after=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    const page = await json<Page>(res);
    out.push(...page.data);
    if (!page.list_metadata.after) return out;
    cursor = page.list_metadata.after;
  }
}

describe("the change feed (GET /events)", () => {
  it("records every applied change once, in order, keeping WorkOS's ids, and nothing for duplicates or stale ones", async () => {
    const org = "org_FEED_1";
    const D = "directory_01FEED1";
    const u = (i: number, over = {}) => user(`directory_user_feed1_${i}`, D, { organization_id: org, ...over });
    const g = group("directory_group_feed1", D, { organization_id: org });
    const activated = event("dsync.activated", directory(D, { organization_id: org }));
    const created = [0, 1, 2].map((i) => event("dsync.user.created", u(i)));
    const grouped = event("dsync.group.created", g);
    const added = membership("dsync.group.user_added", u(0), g, T0 + 10);
    const renamed = event("dsync.user.updated", u(1, { first_name: "Renamed", updated_at: iso(T0 + 5000) }), T0 + 5000);
    const stale = event("dsync.user.updated", u(1, { first_name: "Old", updated_at: iso(T0 + 1000) }), T0 + 1000);
    const deleted = event("dsync.user.deleted", u(0, { updated_at: iso(T0 + 9000) }), T0 + 9000);
    const all: WebhookEvent[] = [activated, ...created, grouped, added, renamed, stale, deleted];
    await deliverAll(all);
    // WorkOS retries: the same deliveries again change nothing.
    for (const e of [created[0], added, renamed] as WebhookEvent[]) expect((await deliver(e)).status).toBe(200);
    await settle(D);

    const feed = await follow(`organization_id=${org}`);
    expect(feed.map((e) => [e.id, e.event])).toEqual([
      [activated.id, "dsync.activated"],
      ...created.map((e) => [e.id, "dsync.user.created"]),
      [grouped.id, "dsync.group.created"],
      [added.id, "dsync.group.user_added"],
      [renamed.id, "dsync.user.updated"],
      [deleted.id, "dsync.user.deleted"],
    ]);
    for (const e of feed) expect(e).toMatchObject({ object: "event", created_at: expect.any(String) });
    // `data` is the record as the cache serves it: a user with its groups; a deletion its last state.
    const byId = new Map(feed.map((e) => [e.id, e]));
    expect(byId.get(added.id)?.data).toMatchObject({
      directory_id: D,
      user: { id: u(0).id, groups: [{ id: g.id }] },
      group: { id: g.id, name: g.name },
    });
    expect(byId.get(renamed.id)?.data).toMatchObject({ id: u(1).id, first_name: "Renamed", groups: [] });
    expect(byId.get(deleted.id)?.data).toMatchObject({ id: u(0).id, groups: [{ id: g.id }] });
    expect(byId.get(activated.id)?.created_at).toBe(activated.created_at);
    // A directory event carries the directory as WorkOS's events do (event state, `domains`).
    expect(byId.get(activated.id)?.data).toEqual({ ...activated.data, organization_id: org });
    // ...while the REST read keeps serving the REST shape.
    const served = await json<Record<string, unknown>>(await get(`/directories/${D}`));
    expect(served).toMatchObject({ state: "linked", domain: "example.com" });
    expect(served).not.toHaveProperty("domains");
  });

  it("records a deleted directory, then each user and group it took with it, under new ids", async () => {
    const org = "org_FEED_2";
    const D = "directory_01FEED2";
    const users = [0, 1].map((i) => user(`directory_user_feed2_${i}`, D, { organization_id: org }));
    const g = group("directory_group_feed2", D, { organization_id: org });
    await deliverAll([
      event("dsync.activated", directory(D, { organization_id: org })),
      ...users.map((x) => event("dsync.user.created", x)),
      membership("dsync.group.user_added", users[0] as (typeof users)[number], g),
    ]);
    await settle(D);
    const before = await follow(`organization_id=${org}`);
    const gone = event(
      "dsync.deleted",
      directory(D, { organization_id: org, updated_at: iso(T0 + 60_000) }),
      T0 + 60_000,
    );
    await deliver(gone);
    await settle(D);
    const after = await follow(`organization_id=${org}`, before.at(-1)?.id);
    expect(after[0]).toMatchObject({ id: gone.id, event: "dsync.deleted", data: { id: D } });
    const cascade = after.slice(1);
    expect(cascade.map((e) => e.event).sort()).toEqual([
      "dsync.group.deleted",
      "dsync.user.deleted",
      "dsync.user.deleted",
    ]);
    expect(cascade.map((e) => (e.data as { id: string }).id).sort()).toEqual([g.id, ...users.map((x) => x.id)].sort());
    for (const e of cascade) expect(e.id).toMatch(/^event_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length);
  });

  it("never lets a follower skip or repeat an event while many writers hand theirs over", async () => {
    const org = "org_FEED_3";
    const dirs = Array.from({ length: 6 }, (_, i) => `directory_01FEED3_${i}`);
    const seen: FeedEvent[] = [];
    let cursor: string | undefined;
    const poll = async () => {
      const page = await follow(`organization_id=${org}`, cursor);
      seen.push(...page);
      cursor = page.at(-1)?.id ?? cursor;
    };
    for (let round = 0; round < 4; round++) {
      // Every writer gets changes at once; they hand them to the feed in their own time,
      // in an order that differs from round to round, while the follower reads in between.
      await Promise.all(
        dirs.map((D, d) =>
          deliverAll([
            ...(round === 0 ? [event("dsync.activated", directory(D, { organization_id: org }))] : []),
            ...[0, 1, 2].map((i) =>
              event("dsync.user.created", user(`directory_user_feed3_${d}_${round}_${i}`, D, { organization_id: org })),
            ),
          ]),
        ),
      );
      const order = round % 2 === 0 ? dirs : [...dirs].reverse();
      for (const [i, D] of order.entries()) {
        await settle(D);
        if (i % 2 === 1) await poll();
      }
      await poll();
    }
    const everything = await follow(`organization_id=${org}`);
    expect(everything).toHaveLength(6 + 6 * 4 * 3);
    expect(seen.map((e) => e.id)).toEqual(everything.map((e) => e.id));
  });

  it("filters by event type in every encoding, by organization and by time, and pages with limit", async () => {
    const org = "org_FEED_4";
    const D = "directory_01FEED4";
    const users = [0, 1, 2, 3].map((i) => user(`directory_user_feed4_${i}`, D, { organization_id: org }));
    await deliverAll([
      event("dsync.activated", directory(D, { organization_id: org }), T0),
      ...users.map((x, i) => event("dsync.user.created", x, T0 + (i + 1) * 60_000)),
    ]);
    await settle(D);
    const ids = async (query: string) =>
      (await json<Page>(await get(`/events?organization_id=${org}&${query}`))).data.map((e) => e.event);
    expect(await ids("events=dsync.activated")).toEqual(["dsync.activated"]);
    for (const q of [
      "events=dsync.user.created,dsync.activated",
      "events=dsync.user.created&events=dsync.activated",
      "events[]=dsync.user.created&events[]=dsync.activated",
    ])
      expect(await ids(q), q).toHaveLength(5);
    expect(await ids("events=dsync.user.deleted")).toEqual([]);
    expect(await ids(`range_start=${iso(T0 + 2 * 60_000)}&range_end=${iso(T0 + 4 * 60_000)}`)).toEqual([
      "dsync.user.created",
      "dsync.user.created",
    ]);
    const first = await json<Page>(await get(`/events?organization_id=${org}&limit=2`));
    expect(first.data).toHaveLength(2);
    const rest = await follow(`organization_id=${org}`, first.list_metadata.after ?? undefined);
    expect(rest).toHaveLength(3);
    // Bad input: WorkOS's 422 naming the field.
    for (const [q, field] of [
      ["limit=0", "limit"],
      ["range_start=yesterday", "range_start"],
      ["after=event_unknown", "after"],
    ]) {
      const res = await get(`/events?${q}`);
      expect(res.status, q).toBe(422);
      expect(await res.json()).toMatchObject({ code: "invalid_request_parameters", errors: [{ field }] });
    }
    expect((await get("/events", null)).status).toBe(401);
  });
});

describe("the feed's retention", () => {
  it("trims old events in bounded steps, and a reader with no cursor starts at the oldest kept", async () => {
    await runInDurableObject(env.FEED.getByName("feed-retention-test"), async (_instance, state) => {
      const log = new FeedLog(state.storage.sql);
      const events = Array.from({ length: 12_000 }, (_, i) => ({
        seq: i + 1,
        id: `event_retention_${String(i).padStart(5, "0")}`,
        event: "dsync.user.created",
        organization_id: "org_R",
        created_at: new Date(0).toISOString(),
        data: "{}",
      }));
      // The first 11,000 recorded long ago, the rest now.
      log.append("directory_R", events.slice(0, 11_000), 1_000);
      log.append("directory_R", events.slice(11_000), 10_000_000);
      let rounds = 0;
      while (log.trim(5_000_000)) rounds += 1;
      expect(rounds).toBeGreaterThan(0);
      expect(log.head()).toMatchObject({ events: 1_000, lastEventId: "event_retention_11999" });
      const page = log.list({ limit: 5 });
      expect("data" in page && page.data.map((e) => JSON.parse(e).id)).toEqual(
        events.slice(11_000, 11_005).map((e) => e.id),
      );
    });
  });

  it("pages a reader limited to organizations past others' events without ever naming one of them", async () => {
    await runInDurableObject(env.FEED.getByName("feed-limited-test"), async (_instance, state) => {
      const log = new FeedLog(state.storage.sql);
      const of = (org: string, n: number, from: number) =>
        Array.from({ length: n }, (_, i) => ({
          seq: from + i,
          id: `event_${org}_${String(from + i).padStart(5, "0")}`,
          event: "dsync.user.created",
          organization_id: org,
          created_at: new Date(0).toISOString(),
          data: "{}",
        }));
      // Far more of B's events than one page scan covers, between A's.
      log.append("directory_A", of("org_A", 2, 1), 1);
      log.append("directory_B", of("org_B", 25_000, 1), 1);
      log.append("directory_A", of("org_A", 3, 3), 1);
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = log.list({ limit: 2, after, organizations: ["org_A"], visible: ["org_A"] });
        if (!("data" in page)) throw new Error(`invalid cursor ${page.invalidCursor}`);
        seen.push(...page.data.map((e) => JSON.parse(e).id as string));
        if (page.after) expect(page.after).toMatch(/^event_org_A_/);
        if (!page.after) break;
        after = page.after;
      }
      expect(seen).toEqual([
        "event_org_A_00001",
        "event_org_A_00002",
        "event_org_A_00003",
        "event_org_A_00004",
        "event_org_A_00005",
      ]);
      // Its cursors name only its organizations' events.
      expect(log.list({ limit: 2, after: "event_org_B_00007", visible: ["org_A"] })).toEqual({
        invalidCursor: "after",
      });
    });
  });
});
