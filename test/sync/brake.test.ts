import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../src/schemas/errors";
import type { DirectoryStatus, SyncReport } from "../../src/schemas/ops";
import { event, iso } from "../support/events";
import { ADMIN_KEY, READ_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { applyAll, deliver, get, json, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitForSync } from "./helpers";

type List = { data: { id: string }[] };

/** POST /admin/directories/{id}/brake with a raw or JSON body. */
function brake(id: string, body: unknown, key = ADMIN_KEY) {
  return exports.default.fetch(`http://cache/admin/directories/${id}/brake`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const report = async (id: string) => json<SyncReport>(await admin(`/directories/${id}/sync`));

/** The crawl of `generation` has stopped running: complete, braked or failed. */
const settled = (generation: number) => (s: { generation: number; state: string }) =>
  s.generation >= generation && s.state !== "running";

/** A directory at WorkOS, crawled once into the cache (held), and its first generation. */
async function cached(id: string, users: number, groups: number) {
  const d = upstreamDirectory(id, users, groups);
  await publish(d);
  await admin(`/directories/${id}/sync`, "POST");
  await waitForSync(id, complete(1));
  await settle(id);
  return d;
}

/** "Sync now" (what the scheduled reconcile does), waited out; returns where the crawl stopped. */
async function reconcile(id: string) {
  const res = await admin(`/directories/${id}/sync`, "POST");
  expect(res.status).toBe(202);
  const { generation } = await json<{ generation: number }>(res);
  await waitForSync(id, settled(generation));
  return report(id);
}

const listed = async (path: string) => (await json<List>(await get(path))).data.length;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("deletion brake on the reconcile sweep", () => {
  it("holds a sweep that would remove 40 of 50 users, reports it, and removes them once applied", async () => {
    const d = await cached("directory_01BRAKEU", 50, 4);
    const gone = range(10, 50).map(d.uid);
    await standin.remove({ users: gone });

    const s = await reconcile(d.dir.id);
    expect(s).toMatchObject({ state: "braked", phase: "sweep", held: true, counts: { removed: 0 } });
    expect(s.brake).toMatchObject({
      generation: s.generation,
      users: 40,
      groups: 0,
      liveUsers: 50,
      liveGroups: 4,
      decision: null,
      decidedAt: null,
    });
    expect(s.brake?.memberships).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(s.brake?.at ?? ""))).toBe(false);

    // Nothing was deleted: reads still serve every user.
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(12)}`)).status).toBe(200);
    expect(await listed(`/directory_users?directory=${d.dir.id}&limit=100`)).toBe(50);

    const status = await json<{ directories: DirectoryStatus[] }>(await admin("/status"));
    const mine = status.directories.find((x) => x.directoryId === d.dir.id);
    expect(mine?.sync).toMatchObject({ state: "braked", brake: { users: 40, generation: s.generation } });
    expect(mine?.counts).toMatchObject({ active: 45, inactive: 5 });

    // Waiting does not spin the writer's alarm: it runs out once KV is flushed, the crawl untouched.
    const stub = env.DIRECTORY.getByName(d.dir.id);
    for (let runs = 0; await runDurableObjectAlarm(stub); runs++) {
      if (runs > 10) throw new Error("the writer's alarm keeps firing while braked");
    }
    expect(await report(d.dir.id)).toMatchObject({ state: "braked", generation: s.generation, pages: s.pages });

    // A decision for another generation is refused, and leaves the brake in place.
    expect((await brake(d.dir.id, { decision: "apply", generation: s.generation - 1 })).status).toBe(409);
    expect((await report(d.dir.id)).state).toBe("braked");

    const applied = await brake(d.dir.id, { decision: "apply", generation: s.generation });
    expect(applied.status).toBe(200);
    const after = await json<SyncReport>(applied);
    expect(after).toMatchObject({ state: "complete", phase: "done", generation: s.generation, held: true });
    expect(after.brake).toMatchObject({ users: 40, decision: "apply" });
    expect(after.brake?.decidedAt).not.toBeNull();
    expect(after.counts.removed).toBe(40 + (s.brake?.memberships ?? 0));
    expect(await report(d.dir.id)).toMatchObject({ state: "complete", brake: { decision: "apply" } });

    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(12)}`)).status).toBe(404);
    expect((await get(`/directory_users/${d.uid(3)}`)).status).toBe(200);
    expect(await listed(`/directory_users?directory=${d.dir.id}&limit=100`)).toBe(10);
    // Decided once: nothing is braked any more.
    expect((await brake(d.dir.id, { decision: "apply" })).status).toBe(409);
  });

  it("brakes on groups alone; a new generation supersedes the brake, and discard completes removing nothing", async () => {
    const d = await cached("directory_01BRAKEG", 30, 15);
    // 12 of 15 groups would go (braking), and 5 users (at most the minimum: not braking by itself).
    await standin.remove({ groups: range(3, 15).map(d.gid), users: range(0, 5).map(d.uid) });

    const first = await reconcile(d.dir.id);
    expect(first.state).toBe("braked");
    expect(first.brake).toMatchObject({ users: 5, groups: 12, liveUsers: 30, liveGroups: 15 });

    // The scheduled reconcile (a forced crawl) supersedes the pending brake with its own.
    const second = await reconcile(d.dir.id);
    expect(second.generation).toBeGreaterThan(first.generation);
    expect(second).toMatchObject({ state: "braked", brake: { generation: second.generation, groups: 12 } });
    expect((await brake(d.dir.id, { decision: "discard", generation: first.generation })).status).toBe(409);

    const res = await brake(d.dir.id, { decision: "discard" });
    expect(res.status).toBe(200);
    expect(await json<SyncReport>(res)).toMatchObject({
      state: "complete",
      phase: "done",
      generation: second.generation,
      counts: { removed: 0 },
      brake: { groups: 12, decision: "discard" },
    });

    await settle(d.dir.id);
    expect((await get(`/directory_groups/${d.gid(7)}`)).status).toBe(200);
    expect((await get(`/directory_users/${d.uid(1)}`)).status).toBe(200);
    expect(await listed(`/directory_groups?directory=${d.dir.id}&limit=100`)).toBe(15);
    expect(await listed(`/directory_users?directory=${d.dir.id}&limit=100`)).toBe(30);
  });

  it("does not brake removals at the minimum, under the share, or of memberships alone", async () => {
    // 10 of 12 users: most of the directory, but not more than RECONCILE_BRAKE_MIN (10).
    const small = await cached("directory_01BRAKES", 12, 2);
    await standin.remove({ users: range(2, 12).map(small.uid) });
    // 11 of 60 users: more than the minimum, but under 20%; and 20 memberships of users who stay.
    const large = await cached("directory_01BRAKEL", 60, 4);
    const kept = range(11, 31).map(large.uid);
    const edges = large.memberships.filter(([u]) => kept.includes(u)).slice(0, 20);
    expect(edges).toHaveLength(20);
    await standin.remove({ users: range(0, 11).map(large.uid), memberships: edges });

    for (const [d, users, left] of [
      [small, 10, 2],
      [large, 11, 49],
    ] as const) {
      const s = await reconcile(d.dir.id);
      expect(s).toMatchObject({ state: "complete", brake: null });
      expect(s.counts.removed).toBeGreaterThanOrEqual(users);
      await settle(d.dir.id);
      expect(await listed(`/directory_users?directory=${d.dir.id}&limit=100`)).toBe(left);
    }
    expect((await get(`/directory_users/${large.uid(3)}`)).status).toBe(404);
    const [u, g] = edges[0] as [string, string];
    const member = await json<{ groups: { id: string }[] }>(await get(`/directory_users/${u}`));
    expect(member.groups.map((x) => x.id)).not.toContain(g);
  });

  it("still applies an explicit dsync.user.deleted webhook while braked; apply then removes only what is left", async () => {
    const d = await cached("directory_01BRAKEW", 50, 2);
    await standin.remove({ users: range(10, 50).map(d.uid) });
    const s = await reconcile(d.dir.id);
    expect(s).toMatchObject({ state: "braked", brake: { users: 40 } });

    const deleted = event("dsync.user.deleted", { ...d.users[15], updated_at: iso(Date.now()) });
    expect(await json<{ status: string }>(await deliver(deleted))).toMatchObject({ status: "applied" });
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(15)}`)).status).toBe(404);
    expect((await get(`/directory_users/${d.uid(16)}`)).status).toBe(200);
    expect(await report(d.dir.id)).toMatchObject({ state: "braked", generation: s.generation });

    const applied = await json<SyncReport>(await brake(d.dir.id, { decision: "apply" }));
    expect(applied).toMatchObject({ state: "complete", brake: { users: 40, decision: "apply" } });
    // The removals were recomputed: the webhook already took one of the 40.
    expect(applied.counts.removed).toBeLessThan(40 + (s.brake?.memberships ?? 0));
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(16)}`)).status).toBe(404);
    expect(await listed(`/directory_users?directory=${d.dir.id}&limit=100`)).toBe(10);
  });

  it("keeps a braked first crawl waiting: requests that start a backfill neither restart it nor hold the directory", async () => {
    const d = upstreamDirectory("directory_01BRAKEF", 40, 2);
    await publish(d);
    // Webhooks told the cache of 40 users before any crawl; WorkOS now lists 10.
    await applyAll(
      d.dir.id,
      d.users.map((u) => event("dsync.user.created", u)),
    );
    await standin.remove({ users: range(10, 40).map(d.uid) });
    const stub = env.DIRECTORY.getByName(d.dir.id);
    const started = await stub.requestSync(d.dir.id, "list");
    await waitForSync(d.dir.id, settled(started?.generation ?? 0));
    const s = await report(d.dir.id);
    expect(s).toMatchObject({ state: "braked", held: false, brake: { users: 30, liveUsers: 40 } });

    // What a list request or read-through asks for: the braked crawl stays as it is.
    expect(await stub.requestSync(d.dir.id, "list")).toMatchObject({ state: "braked", generation: s.generation });
    // Not held, so lists are still answered by WorkOS.
    expect(await listed(`/directory_users?directory=${d.dir.id}&limit=100`)).toBe(10);
    expect(await report(d.dir.id)).toMatchObject({ state: "braked", generation: s.generation, held: false });
  });

  it("answers a bad body with 422, nothing braked with 409, and a read key with 403", async () => {
    const d = await cached("directory_01BRAKEA", 3, 1);
    for (const body of ["not json", {}, { decision: "maybe" }, { decision: "apply", generation: "1" }]) {
      const res = await brake(d.dir.id, body);
      expect(res.status).toBe(422);
      expect(await json<ErrorBody>(res)).toMatchObject({ code: "invalid_request_parameters" });
    }
    const bad = await json<ErrorBody>(await brake(d.dir.id, { decision: "maybe" }));
    expect(bad.errors?.map((e) => e.field)).toEqual(["decision"]);

    const none = await brake(d.dir.id, { decision: "apply" });
    expect(none.status).toBe(409);
    expect(await json<ErrorBody>(none)).toMatchObject({ code: "nothing_braked" });
    expect((await report(d.dir.id)).state).toBe("complete");
    expect((await brake("directory_01NEVERSEEN", { decision: "discard" })).status).toBe(409);

    expect((await brake(d.dir.id, { decision: "apply" }, READ_KEY)).status).toBe(403);
  });
});
