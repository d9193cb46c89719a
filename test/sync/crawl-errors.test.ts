import { describe, expect, it } from "vitest";
import { directory, event } from "../support/events";
import { standin } from "../support/standin-client";
import { deliver, get, settle } from "../support/worker";
import { admin, complete, publish, syncStatus, upstreamDirectory, waitForSync } from "./helpers";

/** A crawl that meets an error retrying cannot fix must still end (issue 13, item 3). */
describe("a crawl meeting a permanent error", () => {
  it("skips a group WorkOS no longer has, and completes", async () => {
    const d = upstreamDirectory("directory_01GROUPGONE", 12, 3);
    await publish(d);
    const members = `/directory_users?group=${d.gid(1)}`;
    await standin.fault({ match: members, mode: "status", status: 404 });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    const s = await waitForSync(d.dir.id, complete(), 30_000);
    expect(s).toMatchObject({ held: true, counts: { groups: 3, users: 12 } });
    expect((await syncStatus(d.dir.id)).lastError).toContain("404");
    await standin.clearFaults(members);
  });

  it("starts a new generation when WorkOS no longer knows its cursor, and completes", async () => {
    const d = upstreamDirectory("directory_01CURSORGONE", 150, 2);
    await publish(d);
    const next = `/directory_users?directory=${d.dir.id}&limit=100&order=asc&after=`;
    await standin.fault({ match: next, mode: "status", status: 422, times: 1 });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    const s = await waitForSync(d.dir.id, complete(2), 30_000);
    expect(s).toMatchObject({ held: true, generation: 2, counts: { users: 150, removed: 0 } });
    expect((await standin.stats("", next)).requests).toBe(2);
  });
});

/** One record WorkOS sends in a shape the cache cannot read must neither stop a crawl nor be removed. */
describe("a crawl meeting a record it cannot read", () => {
  type Status = Awaited<ReturnType<typeof syncStatus>> & { invalid: { records: number; unidentified: number } };
  const page = (data: object[]) => ({ object: "list", data, list_metadata: { before: null, after: null } });
  const usersPage = (id: string) => `/directory_users?directory=${id}&limit=100&order=asc`;

  it("sets the record aside, completes, and serves the rest", async () => {
    const d = upstreamDirectory("directory_01UNREADABLE", 12, 2);
    await publish(d);
    const users = d.users.map((u, i) => ({ ...u, groups: [], ...(i === 3 ? { emails: "not a list" } : {}) }));
    await standin.fault({ match: usersPage(d.dir.id), mode: "status", status: 200, body: page(users), times: 1 });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    const s = (await waitForSync(d.dir.id, complete(), 30_000)) as Status;
    expect(s).toMatchObject({ held: true, counts: { users: 11 }, invalid: { records: 1, unidentified: 0 } });
    expect(s.lastError).toContain(d.uid(3));
    expect(s.lastError).toContain("emails");
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(4)}`)).status).toBe(200);
  });

  it("removes no record it could not read, and nothing at all when one had no readable id", async () => {
    const d = upstreamDirectory("directory_01UNREADABLE2", 20, 2);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete(1), 30_000);
    await standin.remove({ users: [d.uid(7)] });
    // User 3 changed at WorkOS into a shape the cache cannot read; one more record has no id at all.
    const users = d.users
      .filter((u) => u.id !== d.uid(7))
      .map((u) => ({ ...u, groups: [], ...(u.id === d.uid(3) ? { state: 42 } : {}) }));
    const anonymous = { object: "directory_user", id: 42 };
    await standin.fault({
      match: usersPage(d.dir.id),
      mode: "status",
      status: 200,
      body: page([...users, anonymous]),
      times: 1,
    });
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    const s = (await waitForSync(d.dir.id, complete(2), 30_000)) as Status;
    expect(s).toMatchObject({ counts: { removed: 0 }, invalid: { records: 2, unidentified: 1 } });
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(3)}`)).status).toBe(200);
    expect((await get(`/directory_users/${d.uid(7)}`)).status).toBe(200);

    // The next generation reads every record again: the deleted user goes, the other stays.
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    const after = (await waitForSync(d.dir.id, complete(3), 30_000)) as Status;
    // The user and its two memberships (user 7 is in both groups).
    expect(after).toMatchObject({ counts: { removed: 3 }, invalid: { records: 0, unidentified: 0 } });
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(7)}`)).status).toBe(404);
    expect((await get(`/directory_users/${d.uid(3)}`)).status).toBe(200);
  });

  it("fails a crawl whose directory record it cannot read, instead of retrying it for ever", async () => {
    const d = upstreamDirectory("directory_01UNREADABLEDIR", 3, 1);
    await publish(d);
    await standin.fault({
      match: `/directories/${d.dir.id}`,
      mode: "status",
      status: 200,
      body: { ...d.dir, state: 42 },
    });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    const s = await waitForSync(d.dir.id, (x) => x.state === "failed", 30_000);
    expect(s.lastError).toContain("unexpected shape");
    expect(s.held).toBe(false);
    await standin.clearFaults(`/directories/${d.dir.id}`);
  });
});
