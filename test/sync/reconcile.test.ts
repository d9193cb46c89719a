import { describe, expect, it } from "vitest";
import { iso, T0 } from "../support/events";
import { ADMIN_KEY, READ_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { get, json, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitForSync } from "./helpers";

type User = { id: string; groups: { id: string; name: string }[] };
type List = { data: User[] };

/** "Sync now": a new generation, or the running one resumed at once; returns its number. */
async function resync(id: string) {
  const res = await admin(`/directories/${id}/sync`, "POST");
  expect(res.status).toBe(202);
  return ((await res.json()) as { generation: number }).generation;
}

describe("reconcile", () => {
  it("repairs drift: updates, additions, and deletions of users, groups and memberships", async () => {
    const d = upstreamDirectory("directory_01DRIFT", 40, 4);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete(1));

    // Drift at WorkOS that no webhook told the cache about.
    const renamed = { ...d.groups[1], name: "Renamed", updated_at: iso(T0 + 9_000_000) };
    const added = {
      ...d.users[0],
      id: "directory_user_DRIFT_added",
      email: "added@example.com",
      created_at: iso(T0 + 9_000_000),
    };
    await standin.put({ groups: [renamed], users: [added], memberships: [[added.id, d.gid(2)]] });
    await standin.remove({ users: [d.uid(5)], groups: [d.gid(3)], memberships: [[d.uid(2), d.gid(2)]] });

    const gen = await resync(d.dir.id);
    const s = await waitForSync(d.dir.id, complete(gen));
    expect(s.counts.removed).toBeGreaterThanOrEqual(3);
    await settle(d.dir.id);

    expect((await get(`/directory_users/${d.uid(5)}`)).status).toBe(404);
    expect((await get(`/directory_groups/${d.gid(3)}`)).status).toBe(404);
    expect((await json<User>(await get(`/directory_users/${added.id}`))).groups.map((g) => g.id)).toEqual([d.gid(2)]);
    expect((await json<User>(await get(`/directory_users/${d.uid(2)}`))).groups).toEqual([]);
    const member = await json<User>(await get(`/directory_users/${d.uid(1)}`));
    expect(member.groups.map((g) => g.name)).toEqual(["Renamed"]);
    const members = await json<List>(await get(`/directory_users?group=${d.gid(3)}`));
    expect(members.data).toEqual([]);
    const all = await json<List>(await get(`/directory_users?directory=${d.dir.id}&limit=100`));
    expect(all.data).toHaveLength(40);
  });

  it("deletes nothing when a listing fails part-way, and sweeps once a complete listing succeeds", async () => {
    const d = upstreamDirectory("directory_01GUARD", 30, 3);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete(1));

    await standin.remove({ users: [d.uid(1), d.uid(2)] });
    // Member listings of one group keep failing: the crawl cannot complete.
    await standin.fault({ match: `group=${d.gid(2)}`, mode: "status", status: 500 });
    const gen = await resync(d.dir.id);
    const failing = await waitForSync(d.dir.id, (s) => s.generation === gen && s.failures > 0);
    expect(failing.state).toBe("running");
    expect(failing.lastError).toContain("500");
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(1)}`)).status).toBe(200);
    expect((await json<List>(await get(`/directory_users?directory=${d.dir.id}&limit=100`))).data).toHaveLength(30);

    await standin.clearFaults(`group=${d.gid(2)}`);
    const again = await resync(d.dir.id);
    await waitForSync(d.dir.id, complete(again));
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(1)}`)).status).toBe(404);
    expect((await json<List>(await get(`/directory_users?directory=${d.dir.id}&limit=100`))).data).toHaveLength(28);
  });

  it("refuses admin calls without an admin key", async () => {
    expect((await admin("/directories/directory_x/sync", "GET", READ_KEY)).status).toBe(403);
    expect((await admin("/directories/directory_x/sync", "GET", "sk_nobody")).status).toBe(401);
    expect((await admin("/directories/directory_x/sync", "GET", ADMIN_KEY)).status).toBe(200);
  });
});
