import { describe, expect, it } from "vitest";
import { event, membership } from "../support/events";
import { READ_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { deliver, flushWriters, forgetReads, get, json, settle } from "../support/worker";
import { complete, publish, upstreamDirectory, waitForSync } from "./helpers";

type List = { data: { id: string }[] };

describe("read-through", () => {
  it("serves a miss from WorkOS, keeps it, then serves it from the cache", async () => {
    const d = upstreamDirectory("directory_01READTHRU", 30, 3);
    await publish(d);
    const id = d.uid(7);
    const first = await get(`/directory_users/${id}`);
    expect(first.status).toBe(200);
    expect(await json<{ id: string; groups: unknown[] }>(first)).toMatchObject({ id, groups: [] });

    // The directory was first met here: its backfill started, and lists wait for it.
    await waitForSync(d.dir.id, complete());
    await settle(d.dir.id);
    const before = (await standin.stats()).byPath[`/directory_users/${id}`] ?? 0;
    const again = await json<{ id: string; groups: { id: string }[] }>(await get(`/directory_users/${id}`));
    expect(again.id).toBe(id);
    const expected = d.memberships.filter(([u]) => u === id).map(([, g]) => g);
    expect(again.groups.map((g) => g.id).sort()).toEqual(expected.sort());
    expect((await standin.stats()).byPath[`/directory_users/${id}`] ?? 0).toBe(before);
  });

  it("never lists a directory first met through a read-through without that user", async () => {
    // Reproduced black-box: after the backfill, for about a second the published list lacked the
    // user read through first (this isolate remembered its KV miss from before it was kept).
    const d = upstreamDirectory("directory_01FIRSTMET", 40, 2);
    await publish(d);
    expect((await get(`/directory_users/${d.uid(0)}`)).status).toBe(200);
    await waitForSync(d.dir.id, complete());
    const listed = `/directory_users?directory=${d.dir.id}&limit=100`;
    const counts: number[] = [];
    let fromCache = 0;
    const deadline = Date.now() + 30_000;
    while (fromCache < 5 && Date.now() < deadline) {
      const before = (await standin.stats("", `directory=${d.dir.id}&limit=100`)).requests;
      counts.push((await json<List>(await get(listed))).data.length);
      const after = (await standin.stats("", `directory=${d.dir.id}&limit=100`)).requests;
      if (after === before) fromCache += 1;
      else await flushWriters(d.dir.id);
    }
    expect(fromCache).toBe(5);
    expect(counts).toEqual(counts.map(() => 40));
  });

  it("answers 404 for ids WorkOS does not know, and remembers them briefly", async () => {
    const path = "/directory_users/directory_user_nowhere";
    expect((await get(path)).status).toBe(404);
    const calls = (await standin.stats()).byPath[path];
    const again = await get(path);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ code: "entity_not_found", entity_id: "directory_user_nowhere" });
    expect((await standin.stats()).byPath[path]).toBe(calls);
    expect((await get("/directory_groups/directory_group_nowhere")).status).toBe(404);
    expect((await get("/directories/directory_nowhere")).status).toBe(404);
  });

  it("answers 503 JSON (never 500) when WorkOS is unreachable and nothing is cached", async () => {
    await standin.fault({ match: "directory_user_unreachable", mode: "reset" });
    const res = await get("/directory_users/directory_user_unreachable");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toMatchObject({ code: "upstream_unavailable" });
    await standin.clearFaults("directory_user_unreachable");

    await standin.fault({ match: "directory_group_slow", mode: "hang" });
    expect((await get("/directory_groups/directory_group_slow")).status).toBe(503);
    await standin.clearFaults("directory_group_slow");
  });

  it("keeps serving cached data while WorkOS is down, without calling it", async () => {
    const d = upstreamDirectory("directory_01OUTAGE", 20, 2);
    await publish(d);
    expect((await get(`/directory_users?directory=${d.dir.id}`)).status).toBe(200); // from WorkOS; starts the backfill
    await waitForSync(d.dir.id, complete());
    await settle(d.dir.id);
    // WorkOS fails everything about this directory (its ids all contain "OUTAGE").
    await standin.fault({ match: "OUTAGE", mode: "status", status: 500 });
    try {
      const before = (await standin.stats("", "OUTAGE")).requests;
      const list = await json<List>(await get(`/directory_users?directory=${d.dir.id}&limit=100`));
      expect(list.data).toHaveLength(20);
      expect((await get(`/directory_users/${d.uid(3)}`)).status).toBe(200);
      expect((await get(`/directories/${d.dir.id}`)).status).toBe(200);
      expect((await get(`/directory_groups?user=${d.uid(3)}`)).status).toBe(200);
      expect((await standin.stats("", "OUTAGE")).requests).toBe(before);
    } finally {
      await standin.clearFaults("OUTAGE");
    }
  });

  it("answers lists of a directory it does not hold fully from WorkOS, never from a partial cache", async () => {
    const d = upstreamDirectory("directory_01PARTIAL", 15, 2);
    await publish(d);
    // One user reaches the cache by read-through: the directory is now only partly held.
    await standin.fault({ match: `directory=${d.dir.id}`, mode: "status", status: 503 });
    await standin.fault({ match: "/directories/directory_01PARTIAL", mode: "status", status: 503 });
    try {
      expect((await get(`/directory_users/${d.uid(1)}`)).status).toBe(200);
      // Lists and counts go to WorkOS, which is failing: a 503, not the one cached user.
      expect((await get(`/directory_users?directory=${d.dir.id}`)).status).toBe(503);
    } finally {
      await standin.clearFaults(`directory=${d.dir.id}`);
      await standin.clearFaults("/directories/directory_01PARTIAL");
    }
    const list = await json<List>(await get(`/directory_users?directory=${d.dir.id}&limit=100`));
    expect(list.data).toHaveLength(15);
    await waitForSync(d.dir.id, complete());
  });

  it("answers a user of a directory it does not hold with all its groups, never the ones it happens to know", async () => {
    const d = upstreamDirectory("directory_01PARTIALG", 3, 2);
    // An older team: WorkOS still embeds `groups` on users.
    await standin.put({ directories: [d.dir], groups: d.groups, users: d.users, memberships: d.memberships });
    const u = d.users[0] as (typeof d.users)[number];
    const mine = d.memberships.filter(([id]) => id === u.id).map(([, g]) => g);
    expect(mine).toHaveLength(2);
    // The cache has heard of one of its two memberships.
    const g0 = d.groups.find((g) => g.id === mine[0]) as (typeof d.groups)[number];
    expect((await deliver(membership("dsync.group.user_added", u, g0))).status).toBe(200);
    // Another user, all of whose memberships it hears of: the crawl will find nothing new on it.
    const v = d.users[1] as (typeof d.users)[number];
    const g1 = d.groups.find((g) => d.memberships.some(([id, gid]) => id === v.id && gid === g.id));
    expect((await deliver(event("dsync.user.created", v))).status).toBe(200);
    expect((await deliver(membership("dsync.group.user_added", v, g1 as (typeof d.groups)[number]))).status).toBe(200);
    await settle(d.dir.id);

    const first = await json<{ id: string; groups: { id: string }[] }>(await get(`/directory_users/${u.id}`));
    expect(first.groups.map((g) => g.id).sort()).toEqual([...mine].sort());
    // The directory-scoped route (no `groups`) is served from what the cache keeps, as WorkOS shapes it.
    const scoped = await json<Record<string, unknown>>(await get(`/directories/${d.dir.id}/users/${u.id}`));
    expect(Object.keys(scoped).sort()).toEqual(
      Object.keys(first)
        .filter((k) => k !== "groups")
        .sort(),
    );

    // Once held, the cache answers by itself, complete.
    await waitForSync(d.dir.id, complete());
    await settle(d.dir.id);
    const calls = (await standin.stats()).byPath[`/directory_users/${u.id}`];
    const held = await json<{ groups: { id: string }[] }>(await get(`/directory_users/${u.id}`));
    expect(held.groups.map((g) => g.id).sort()).toEqual([...mine].sort());
    expect((await standin.stats()).byPath[`/directory_users/${u.id}`]).toBe(calls);
    // On a cold isolate, each in one KV round trip: the record says it is whole, including one
    // kept before the directory was held that nothing changed since.
    const before = await standin.stats();
    for (const path of [`/directory_users/${u.id}`, `/directory_groups?user=${u.id}`, `/directory_users/${v.id}`]) {
      forgetReads();
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("X-KV-Round-Trips"), path).toBe("1");
    }
    expect((await standin.stats()).byPath).toEqual(before.byPath);
  });

  it("answers a strong read of a user it holds only in part from WorkOS, never with the groups it happens to know", async () => {
    const d = upstreamDirectory("directory_01PARTIALSTRONG", 3, 2);
    await standin.put({ directories: [d.dir], groups: d.groups, users: d.users, memberships: d.memberships });
    // WorkOS holds the crawl's listings of the directory: the cache cannot hold it fully meanwhile.
    const listings = `directory=${d.dir.id}`;
    await standin.fault({ match: listings, mode: "hold" });
    try {
      const u = d.users[0] as (typeof d.users)[number];
      const mine = d.memberships.filter(([id]) => id === u.id).map(([, g]) => g);
      expect(mine).toHaveLength(2);
      const g0 = d.groups.find((g) => g.id === mine[0]) as (typeof d.groups)[number];
      expect((await deliver(membership("dsync.group.user_added", u, g0))).status).toBe(200);
      await flushWriters(d.dir.id);
      const strong = { "Cache-Control": "no-cache" };
      const res = await get(`/directory_users/${u.id}`, READ_KEY, strong);
      expect(res.status).toBe(200);
      const body = await json<Record<string, unknown> & { groups: { id: string }[] }>(res);
      expect(body.groups.map((g) => g.id).sort()).toEqual([...mine].sort());
      expect(body).not.toHaveProperty("partial");
      const list = await json<List>(await get(`/directory_groups?user=${u.id}`, READ_KEY, strong));
      expect(list.data.map((g) => g.id).sort()).toEqual([...mine].sort());
    } finally {
      await standin.clearFaults(listings);
      await standin.unhold();
    }
  });
});
