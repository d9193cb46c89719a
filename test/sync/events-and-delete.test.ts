import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { CatchUpReport } from "../../src/schemas/ops";
import { iso, T0 } from "../support/events";
import { READ_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { deliver, get, json, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitForSync } from "./helpers";

type User = { id: string; first_name: string; groups: { id: string }[] };
type List = { data: { id: string }[] };
const catchUp = async () => json<CatchUpReport>(await admin("/events/catch-up", "POST"));
/** WorkOS has also sent event times as `2023-04-28 20:05:31.093` (no zone: UTC). */
const spaced = (ms: number) => iso(ms).replace("T", " ").replace("Z", "");

describe("Events API catch-up", () => {
  it("applies dsync events after its cursor through the webhook path, duplicates included, and re-reads what has not settled", async () => {
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

    const report = await catchUp();
    // All four were created just now, inside the settling window: the stored cursor stays before them.
    expect(report.cursor === null || report.cursor < e1.id).toBe(true);
    expect(report.read).toBeGreaterThanOrEqual(4);
    expect(report.applied).toBeGreaterThanOrEqual(3);
    await settle(d.dir.id);
    expect(await json<User>(await get(`/directory_users/${d.uid(0)}`))).toMatchObject({ first_name: "Renamed" });
    expect((await json<User>(await get(`/directory_users/${added.id}`))).groups.map((g) => g.id)).toEqual([d.gid(0)]);
    expect((await get(`/directory_users/${d.uid(2)}`)).status).toBe(404);

    // The next run re-reads the window up to the last of them; each comes back as a duplicate.
    const again = await catchUp();
    expect(again).toMatchObject({ applied: 0, cursor: report.cursor });
    expect(again.duplicates).toBeGreaterThanOrEqual(4);
    expect(again.unsettled).toBeGreaterThanOrEqual(4);
    expect(last.id > e1.id).toBe(true);
  });

  it("applies an event WorkOS lists only after a later one: the stored cursor waits out the settling window", async () => {
    const d = upstreamDirectory("directory_01HELD", 3, 1);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete());

    const renamed = (i: number, first_name: string) => ({ ...d.users[i], first_name, updated_at: iso(Date.now()) });
    const e1 = await standin.emit("dsync.user.updated", renamed(0, "First"));
    await standin.remove({ users: [d.uid(1)] });
    const deleted = { ...d.users[1], updated_at: iso(Date.now()) };
    // Created between E1 and E3, but WorkOS holds it back from listings until after E3 shows.
    const e2 = await standin.emit("dsync.user.deleted", deleted, undefined, { held: true });
    const e3 = await standin.emit("dsync.user.updated", renamed(2, "Third"));
    expect(e1.id < e2.id && e2.id < e3.id).toBe(true);

    const first = await catchUp();
    await settle(d.dir.id);
    expect(await json<User>(await get(`/directory_users/${d.uid(2)}`))).toMatchObject({ first_name: "Third" });
    expect((await get(`/directory_users/${d.uid(1)}`)).status).toBe(200);

    expect(await standin.release([e2.id])).toEqual({ released: 1 });
    const second = await catchUp();
    await settle(d.dir.id);
    expect((await get(`/directory_users/${d.uid(1)}`)).status).toBe(404);
    const listed = await json<List>(await get(`/directory_users?directory=${d.dir.id}&limit=100`));
    expect(listed.data.map((u) => u.id).sort()).toEqual([d.uid(0), d.uid(2)]);

    // Nothing had settled, so neither run stored a cursor at or past E1; the second re-read E1 and E3.
    for (const r of [first, second]) expect(r.cursor === null || r.cursor < e1.id).toBe(true);
    expect(first.unsettled).toBeGreaterThanOrEqual(2);
    expect(second.applied).toBeGreaterThanOrEqual(1);
    expect(second.duplicates).toBeGreaterThanOrEqual(2);
  });

  it("moves the stored cursor to the last settled event only, and re-reads the window without applying twice", async () => {
    const d = upstreamDirectory("directory_01SETTLE", 3, 1);
    await publish(d);
    await admin(`/directories/${d.dir.id}/sync`, "POST");
    await waitForSync(d.dir.id, complete());

    const at = (ms: number, i: number, first_name: string) => ({ ...d.users[i], first_name, updated_at: iso(ms) });
    const tenMinutesAgo = Date.now() - 10 * 60_000;
    const fiveMinutesAgo = Date.now() - 5 * 60_000;
    const tenSecondsAgo = Date.now() - 10_000;
    await standin.emit("dsync.user.updated", at(tenMinutesAgo, 0, "Settled"), iso(tenMinutesAgo));
    const lastSettled = await standin.emit(
      "dsync.user.updated",
      at(fiveMinutesAgo, 1, "Settled too"),
      spaced(fiveMinutesAgo),
    );
    // Inside the default 60 s window: read and applied, but the cursor must not move to it yet.
    const recent = await standin.emit("dsync.user.updated", at(tenSecondsAgo, 2, "Recent"), iso(tenSecondsAgo));

    const first = await catchUp();
    expect(first.cursor).toBe(lastSettled.id);
    expect(first.unsettled).toBeGreaterThanOrEqual(1);
    expect(await json<{ eventsCursor: string | null }>(await admin("/status"))).toMatchObject({
      eventsCursor: lastSettled.id,
    });
    await settle(d.dir.id);
    const names = await Promise.all(
      [0, 1, 2].map(async (i) => (await json<User>(await get(`/directory_users/${d.uid(i)}`))).first_name),
    );
    expect(names).toEqual(["Settled", "Settled too", "Recent"]);

    // The next run starts at the stored cursor: it re-reads the recent event and applies nothing twice.
    const second = await catchUp();
    expect(second).toMatchObject({ cursor: lastSettled.id, applied: 0, stale: 0 });
    expect(second.read).toBeGreaterThanOrEqual(1);
    expect(second.duplicates).toBe(second.read - second.skipped);
    expect(recent.id > lastSettled.id).toBe(true);
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
