import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { iso, T0 } from "../support/events";
import { READ_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { deliver, get, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitForSync } from "./helpers";

const json = async <T>(res: Response) => (await res.json()) as T;
type User = { id: string; first_name: string; groups: { id: string }[] };
type List = { data: { id: string }[] };

describe("Events API catch-up", () => {
  it("applies dsync events after its cursor through the webhook path, duplicates included, and advances", async () => {
    const d = upstreamDirectory("directory_01EVENTS", 5, 2);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete());

    const renamed = { ...d.users[0], first_name: "Renamed", updated_at: iso(Date.now()) };
    const added = {
      ...d.users[1],
      id: "directory_user_EVENTS_new",
      email: "new@example.com",
      created_at: iso(T0 + 9e8),
      updated_at: iso(Date.now()),
    };
    await standin.put({ users: [renamed, added], memberships: [[added.id, d.gid(0)]] });
    await standin.remove({ users: [d.uid(2)] });
    const e1 = await standin.emit("dsync.user.updated", renamed);
    await standin.emit("dsync.user.created", added);
    await standin.emit("dsync.group.user_added", { directory_id: d.dir.id, user: added, group: d.groups[0] });
    const last = await standin.emit("dsync.user.deleted", { ...d.users[2], updated_at: iso(Date.now()) });
    // The same event also arrived by webhook: its id is shared, so it applies once.
    const { object: _o, ...webhookBody } = e1;
    expect(await json<{ status: string }>(await deliver(webhookBody as never))).toMatchObject({ status: "applied" });

    const report = await json<{ applied: number; cursor: string }>(await admin("/events/catch-up", "POST"));
    expect(report.cursor >= last.id).toBe(true);
    expect(report.applied).toBeGreaterThanOrEqual(3);
    await settle(d.dir.id);
    expect(await json<User>(await get(`/directory_users/${d.uid(0)}`))).toMatchObject({ first_name: "Renamed" });
    expect((await json<User>(await get(`/directory_users/${added.id}`))).groups.map((g) => g.id)).toEqual([d.gid(0)]);
    expect((await get(`/directory_users/${d.uid(2)}`)).status).toBe(404);

    const again = await json<{ applied: number; pages: number }>(await admin("/events/catch-up", "POST"));
    expect(again).toMatchObject({ applied: 0 });
  });

  it("runs from the cron trigger", async () => {
    const d = upstreamDirectory("directory_01CRON", 2, 1);
    await publish(d);
    await standin.emit("dsync.activated", { ...d.dir, state: "active", domains: [] });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    // dsync.activated from the feed started this directory's backfill.
    await waitForSync(d.dir.id, complete());
  });
});

describe("directories list and reconcile", () => {
  it("answers the directory list from WorkOS until a reconcile has listed them all, then from KV", async () => {
    const d = upstreamDirectory("directory_01LISTED", 1, 1, "org_01LISTED");
    await publish(d);
    const upstream = await json<List>(await get("/directories?organization_id=org_01LISTED"));
    expect(upstream.data.map((x) => x.id)).toEqual([d.dir.id]);

    const gone = upstreamDirectory("directory_01VANISHED", 1, 1, "org_01LISTED");
    await publish(gone);
    const r = await admin("/reconcile", "POST");
    expect(r.status).toBe(200);
    await waitForSync(gone.dir.id, complete());
    await standin.remove({ directories: [gone.dir.id] });
    expect(await json<{ removed: number }>(await admin("/reconcile", "POST"))).toMatchObject({ removed: 1 });
    await settle(d.dir.id, gone.dir.id);
    const before = (await standin.stats("", "org_01LISTED")).requests;
    const cached = await json<List>(await get("/directories?organization_id=org_01LISTED"));
    expect(cached.data.map((x) => x.id)).toEqual([d.dir.id]);
    expect((await standin.stats("", "org_01LISTED")).requests).toBe(before);
    expect((await get(`/directories/${gone.dir.id}`)).status).toBe(404);
  });
});

describe("DELETE /directories/{id}", () => {
  it("forwards to WorkOS with the configured key, purges the cache and relays the status", async () => {
    const d = upstreamDirectory("directory_01DELETE", 3, 1);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete());
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(0)}`)).status).toBe(200);

    const asReader = await fetchDelete(d.dir.id, READ_KEY);
    expect(asReader.status).toBe(403);
    const res = await fetchDelete(d.dir.id);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({});
    await settle(d.dir.id);
    expect((await get(`/directories/${d.dir.id}`)).status).toBe(404);
    expect((await get(`/directory_users/${d.uid(0)}`)).status).toBe(404);

    const missing = await fetchDelete("directory_01NEVER");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/json");
    expect(await missing.json()).toMatchObject({ code: "entity_not_found" });
  });
});

function fetchDelete(id: string, key = "sk_test_admin") {
  return worker.fetch(
    new Request(`http://cache/directories/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${key}` } }),
    env,
    createExecutionContext(),
  );
}
