import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyEvent } from "../../src/directory/apply";
import type { DirtyKey } from "../../src/directory/model";
import { materialize } from "../../src/directory/projection";
import { SqliteStore } from "../../src/directory/sqlite-store";
import { scheduleAlarm } from "../../src/kv/alarm";
import { KvBudget } from "../../src/kv/budget";
import { GarbageCollector } from "../../src/kv/garbage";
import { CHUNK_GRACE_MS } from "../../src/kv/index-writer";
import { kvKeys } from "../../src/kv/keys";
import { SAME_KEY_INTERVAL_MS } from "../../src/kv/ledger";
import { type KvWrite, Outbox } from "../../src/kv/outbox";
import { readSorted } from "../../src/kv/rechunk";
import { decoded, directory, event, group, iso, membership, T0, user } from "../support/events";
import { waitFor } from "../support/wait";
import { applyAll, deliver, deliverAll, forgetReads, get, json, settle } from "../support/worker";

type List = { data: { id: string }[]; list_metadata: { before: string | null; after: string | null } };

describe("one writer per directory", () => {
  it("loses no membership when many arrive for one user at once", async () => {
    const D = "directory_01CONCURRENT";
    const u = user("directory_user_c1", D);
    const groups = Array.from({ length: 60 }, (_, i) =>
      group(`directory_group_c${String(i).padStart(2, "0")}`, D, { created_at: iso(T0 + i), updated_at: iso(T0 + i) }),
    );
    const responses = await Promise.all(
      groups.map((g, i) => deliver(membership("dsync.group.user_added", u, g, T0 + i))),
    );
    expect(responses.map((r) => r.status)).toEqual(groups.map(() => 200));
    await settle(D);
    const served = await json<{ groups: { id: string }[] }>(await get(`/directory_users/${u.id}`));
    expect(served.groups.map((g) => g.id)).toEqual(groups.map((g) => g.id));
    const lists = await Promise.all(groups.map((g) => get(`/directory_users?group=${g.id}`).then(json<List>)));
    expect(lists.every((l) => l.data.length === 1 && l.data[0]?.id === u.id)).toBe(true);
    const dir = env.DIRECTORY.getByName(D);
    expect((await dir.status()).counts).toEqual({ active: 1, inactive: 0, groups: 60 });
  });

  it("keeps a directory's counts equal to a recount of its rows, whatever the events and their order (property)", async () => {
    type Op =
      | { k: "user"; id: number; state: string; at: number }
      | { k: "user_deleted"; id: number; at: number }
      | { k: "group" | "group_deleted"; id: number; at: number }
      | { k: "member"; id: number; group: number; at: number }
      | { k: "directory_deleted" | "reactivated"; at: number };
    const at = fc.nat(40);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constant("user" as const),
        id: fc.nat(4),
        state: fc.constantFrom("active", "inactive", "suspended"),
        at,
      }),
      fc.record({ k: fc.constant("user_deleted" as const), id: fc.nat(4), at }),
      fc.record({ k: fc.constantFrom("group" as const, "group_deleted" as const), id: fc.nat(2), at }),
      fc.record({ k: fc.constant("member" as const), id: fc.nat(4), group: fc.nat(2), at }),
      fc.record({ k: fc.constantFrom("directory_deleted" as const, "reactivated" as const), at }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const D = `directory_01COUNTS${++run}`;
        const stamp = (t: number) => ({ updated_at: iso(T0 + t * 1000) });
        const u = (id: number, over = {}) => user(`directory_user_n${id}`, D, over);
        const g = (id: number, t: number) => group(`directory_group_n${id}`, D, stamp(t));
        const events = [event("dsync.activated", directory(D))];
        for (const o of ops) {
          const when = T0 + o.at * 1000;
          if (o.k === "user")
            events.push(event("dsync.user.updated", u(o.id, { state: o.state, ...stamp(o.at) }), when));
          if (o.k === "user_deleted") events.push(event("dsync.user.deleted", u(o.id, stamp(o.at)), when));
          if (o.k === "group") events.push(event("dsync.group.created", g(o.id, o.at), when));
          if (o.k === "group_deleted") events.push(event("dsync.group.deleted", g(o.id, o.at), when));
          if (o.k === "member")
            events.push(membership("dsync.group.user_added", u(o.id, stamp(o.at)), g(o.group, o.at), when));
          if (o.k === "directory_deleted")
            events.push(event("dsync.deleted", directory(D, { state: "deleting", ...stamp(o.at) }), when));
          if (o.k === "reactivated") events.push(event("dsync.activated", directory(D, stamp(o.at)), when));
        }
        await applyAll(D, events);
        const stub = env.DIRECTORY.getByName(D);
        const recount = await runInDurableObject(stub, (_, state) => {
          const sql = state.storage.sql;
          const users = sql
            .exec<{ a: number; i: number }>(
              "SELECT IFNULL(SUM(state = 'active'), 0) AS a, IFNULL(SUM(state != 'active'), 0) AS i FROM dir_users WHERE deleted = 0",
            )
            .one();
          const groups = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM dir_groups WHERE deleted = 0").one();
          return { active: users.a, inactive: users.i, groups: groups.n };
        });
        expect((await stub.status()).counts).toEqual(recount);
      }),
      { numRuns: 80 },
    );
  });

  it("counts a directory stored before the counters existed once, when its writer starts", async () => {
    const D = "directory_01PRECOUNT";
    const users = ["active", "active", "inactive"].map((state, i) => user(`directory_user_pc${i}`, D, { state }));
    await applyAll(D, [
      event("dsync.activated", directory(D)),
      ...users.map((u) => event("dsync.user.created", u)),
      event("dsync.group.created", group("directory_group_pc", D)),
    ]);
    const stub = env.DIRECTORY.getByName(D);
    const counts = await runInDurableObject(stub, (_, state) => {
      const sql = state.storage.sql;
      for (const table of ["users", "groups"])
        for (const op of ["insert", "update", "delete"]) sql.exec(`DROP TRIGGER dir_${table}_count_${op}`);
      sql.exec("DROP TABLE dir_counts");
      return new SqliteStore(sql, () => undefined).counts();
    });
    expect(counts).toEqual({ active: 2, inactive: 1, groups: 1 });
  });

  it("does per-event work that does not grow with the directory: an event and its KV values read few rows", async () => {
    const D = "directory_01ROWS";
    const g = group("directory_group_rows", D);
    const users = Array.from({ length: 3000 }, (_, i) => user(`directory_user_r${String(i).padStart(4, "0")}`, D));
    await applyAll(D, [
      event("dsync.activated", directory(D)),
      ...users.map((u, i) =>
        i % 1000 === 0 ? membership("dsync.group.user_added", u, g) : event("dsync.user.created", u),
      ),
    ]);
    const joining = user("directory_user_r9999", D, { email: "r0001@example.com" });
    const { marks, rowsRead } = await runInDurableObject(env.DIRECTORY.getByName(D), (_, state) => {
      // The real database, with every statement's cursor kept to count the rows SQLite read.
      const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
      const sql = {
        exec: (query: string, ...params: SqlStorageValue[]) => {
          const cursor = state.storage.sql.exec(query, ...params);
          cursors.push(cursor);
          return cursor;
        },
      } as unknown as SqlStorage;
      const marks: DirtyKey[] = [];
      const store = new SqliteStore(sql, (m) => marks.push(m));
      const schema = cursors.length;
      applyEvent(store, decoded(membership("dsync.group.user_added", joining, g, T0 + 1000)));
      // What the flush would write for it (an index reads its list only when planned, around the
      // change: see rechunk's own test).
      for (const m of marks) materialize(store, D, m, true, async () => undefined);
      return { marks, rowsRead: cursors.slice(schema).reduce((n, c) => n + c.rowsRead, 0) };
    });
    expect(marks).toEqual(
      expect.arrayContaining(["dir", `user:${joining.id}`, "email:r0001@example.com", `idx:gu:${g.id}`]),
    );
    // The user with its groups, its lookups (which hold it), the group, the directory's counts.
    expect(rowsRead).toBeLessThan(80);
  });

  it("schedules alarms a whole millisecond after now, and sets again one the runtime no longer holds", async () => {
    await runInDurableObject(env.DIRECTORY.getByName("directory_01ALARMS"), async (_, state) => {
      const storage = state.storage;
      // A simulated clock an hour ahead, so no alarm set here fires during the test.
      const now = Date.now() + 3_600_000;
      // Never the millisecond an alarm handler was itself scheduled for (the runtime would clear it).
      await scheduleAlarm(storage, now, now);
      expect(await storage.getAlarm()).toBe(now + 1);
      await scheduleAlarm(storage, now + 1000.5, now);
      expect(await storage.getAlarm()).toBe(now + 1);
      // The remembered alarm is gone from storage and its time has passed: it is set again.
      await storage.deleteAlarm();
      await scheduleAlarm(storage, now + 10, now + 10);
      expect(await storage.getAlarm()).toBe(now + 11);
      await storage.deleteAlarm();
    });
  });

  it("keeps the newest of a flood of concurrent updates, writing each KV key at most once a second", async () => {
    const D = "directory_01FLOOD";
    const u = user("directory_user_fl", D);
    const updates = Array.from({ length: 80 }, (_, i) =>
      event("dsync.user.updated", { ...u, first_name: `v${i}`, updated_at: iso(T0 + i * 1000) }, T0 + i),
    );
    const shuffled = [...updates].sort((a, b) => (a.id < b.id ? 1 : -1));
    const responses = await Promise.all(shuffled.map((e) => deliver(e)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await settle(D);
    expect(await json<{ first_name: string }>(await get(`/directory_users/${u.id}`))).toMatchObject({
      first_name: "v79",
    });
    expect((await env.DIRECTORY.getByName(D).status()).kvSameKeyWritesUnderOneSecond).toBe(0);
  });

  it("spaces writes of one key a second apart on the real clock, however often flushes run", async () => {
    const D = "directory_01REALCLOCK";
    const u = user("directory_user_rc", D);
    const stub = env.DIRECTORY.getByName(D);
    // Changes and flushes back to back, on the real clock (as a busy writer's alarm would).
    for (let i = 0; i < 30; i++) {
      const e = event("dsync.user.updated", { ...u, first_name: `v${i}`, updated_at: iso(T0 + i * 1000) }, T0 + i);
      expect((await deliver(e)).status).toBe(200);
      await stub.flushKv(Date.now());
    }
    // Measured from when each write was sent to when the one before it finished.
    expect((await stub.status()).kvSameKeyWritesUnderOneSecond).toBe(0);
    await settle(D);
    expect(await json<{ first_name: string }>(await get(`/directory_users/${u.id}`))).toMatchObject({
      first_name: "v29",
    });
  });

  it("projects through the real alarm: a delivery arms it, it writes KV, a too-soon rewrite re-arms it", async () => {
    const D = "directory_01REALALARM";
    const stub = env.DIRECTORY.getByName(D);
    const alarmOf = (s: DurableObjectStub) => runInDurableObject(s, (_i, state) => state.storage.getAlarm());
    /**
     * Runs the writer's alarm (or lets the runtime fire it) until nothing is pending. Never
     * flushes by hand: pending writes with no alarm armed would fail here.
     */
    const alarmsFlush = async () => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        await runDurableObjectAlarm(stub);
        if ((await stub.status()).pendingKvWrites === 0) break;
        // Pending writes always have an alarm armed, unless the runtime is running the alarm
        // itself at this moment (then it re-arms or finishes): a state that lasts is a lost alarm.
        await waitFor(
          async () =>
            (await alarmOf(stub)) !== null || (await stub.status()).pendingKvWrites === 0 ? true : undefined,
          "an alarm for the pending writes",
          5_000,
        );
        if (Date.now() > deadline) throw new Error("the alarm did not flush the writer");
        await new Promise((r) => setTimeout(r, 100));
      }
      await runDurableObjectAlarm(env.REGISTRY.getByName("registry"));
      forgetReads();
    };
    const users = Array.from({ length: 5 }, (_, i) => user(`directory_user_ra${i}`, D));
    const g = group("directory_group_ra", D);
    await deliverAll([
      event("dsync.activated", directory(D)),
      ...users.map((u) => event("dsync.user.created", u)),
      membership("dsync.group.user_added", users[0] as (typeof users)[number], g),
    ]);
    await alarmsFlush();
    for (const u of users) expect((await get(`/directory_users/${u.id}`)).status).toBe(200);
    const listed = await json<List>(await get(`/directory_users?directory=${D}`));
    expect(listed.data.map((u) => u.id).sort()).toEqual(users.map((u) => u.id).sort());

    // A second change to a key written under a second ago waits for its turn, then is written.
    const renamed = { ...(users[1] as (typeof users)[number]), first_name: "Renamed", updated_at: iso(T0 + 5000) };
    expect((await deliver(event("dsync.user.updated", renamed, T0 + 5000))).status).toBe(200);
    await alarmsFlush();
    expect(await json<{ first_name: string }>(await get(`/directory_users/${renamed.id}`))).toMatchObject({
      first_name: "Renamed",
    });
    expect((await stub.status()).kvSameKeyWritesUnderOneSecond).toBe(0);
  });

  it("removes a deleted directory with all its users and groups, and stays deleted", async () => {
    const D = "directory_01GONE";
    const u = user("directory_user_g1", D);
    const g = group("directory_group_g1", D);
    for (const e of [event("dsync.activated", directory(D)), membership("dsync.group.user_added", u, g)])
      await deliver(e);
    await settle(D);
    expect((await get(`/directories/${D}`)).status).toBe(200);
    expect((await json<List>(await get("/directories"))).data.map((d) => d.id)).toContain(D);

    const gone = event("dsync.deleted", directory(D, { state: "deleting", updated_at: iso(T0 + 60_000) }), T0 + 60_000);
    expect((await deliver(gone)).status).toBe(200);
    const late = event("dsync.user.updated", { ...u, updated_at: iso(T0 + 1000) }, T0 + 1000);
    expect(await json<{ status: string }>(await deliver(late))).toMatchObject({ status: "stale" });
    await settle(D);
    for (const path of [`/directories/${D}`, `/directory_users/${u.id}`, `/directory_groups/${g.id}`]) {
      expect((await get(path)).status, path).toBe(404);
    }
    expect((await json<List>(await get(`/directory_users?directory=${D}`))).data).toEqual([]);
    expect((await json<List>(await get(`/directory_users?group=${g.id}`))).data).toEqual([]);
    expect((await json<List>(await get("/directories"))).data.map((d) => d.id)).not.toContain(D);
    expect((await env.DIRECTORY.getByName(D).status()).counts).toEqual({ active: 0, inactive: 0, groups: 0 });
  });

  it("writes a user whose IdP id and email are long multibyte values, and the rest of its directory", async () => {
    const D = "directory_01LONGDN";
    // An LDAP DN as an IdP sends it: under 200 characters, but over 512 bytes in UTF-8.
    const dn = `CN=${"山田太郎".repeat(40)},OU=開発,DC=例え,DC=日本`;
    expect(new TextEncoder().encode(dn).length).toBeGreaterThan(512);
    const email = `${"山".repeat(180)}@example.com`;
    const long = user("directory_user_longdn", D, { idp_id: dn, email, emails: [{ primary: true, value: email }] });
    const others = Array.from({ length: 30 }, (_, i) => user(`directory_user_ldn${i}`, D));
    await deliverAll([
      event("dsync.activated", directory(D)),
      ...[long, ...others].map((u) => event("dsync.user.created", u)),
    ]);
    await settle(D);

    const status = await env.DIRECTORY.getByName(D).status();
    expect(status.pendingKvWrites).toBe(0);
    expect(status.failedKvWrites).toMatchObject({ retrying: 0, parked: 0 });
    for (const u of [long, ...others]) expect((await get(`/directory_users/${u.id}`)).status, u.id).toBe(200);
    const byDn = await json<List>(await get(`/directory_users?directory=${D}&idp_id=${encodeURIComponent(dn)}`));
    expect(byDn.data.map((u) => u.id)).toEqual([long.id]);
    const byEmail = await json<List>(await get(`/directory_users?directory=${D}&email=${encodeURIComponent(email)}`));
    expect(byEmail.data.map((u) => u.id)).toEqual([long.id]);
  });

  it("lets a directory purged for missing from a listing come back with a newer activation", async () => {
    const D = "directory_01PURGEDBACK";
    const u = user("directory_user_pb1", D);
    await deliverAll([event("dsync.activated", directory(D)), event("dsync.user.created", u)]);
    // What a reconcile does with a directory missing from WorkOS's listing.
    await env.DIRECTORY.getByName(D).purge(D);
    await settle(D);
    expect((await get(`/directories/${D}`)).status).toBe(404);
    // A late event from before the purge changes nothing...
    const late = event("dsync.user.updated", { ...u, first_name: "Late" }, T0 + 1000);
    expect(await json<{ status: string }>(await deliver(late))).toMatchObject({ status: "stale" });

    // ...but WorkOS saying it is back (newer than what the cache knew) wins, and so does what follows.
    const back = event("dsync.activated", directory(D, { updated_at: iso(T0 + 60_000) }), T0 + 60_000);
    expect(await json<{ status: string }>(await deliver(back))).toMatchObject({ status: "applied" });
    const v = user("directory_user_pb2", D, { created_at: iso(T0 + 61_000), updated_at: iso(T0 + 61_000) });
    expect(await json<{ status: string }>(await deliver(event("dsync.user.created", v, T0 + 61_000)))).toMatchObject({
      status: "applied",
    });
    await settle(D);
    expect((await get(`/directories/${D}`)).status).toBe(200);
    expect((await get(`/directory_users/${v.id}`)).status).toBe(200);
    expect((await json<List>(await get("/directories"))).data.map((d) => d.id)).toContain(D);
  });

  it("keeps a deleted user's cursor usable while paginating", async () => {
    const D = "directory_01CURSOR";
    const users = Array.from({ length: 5 }, (_, i) =>
      user(`directory_user_k${i}`, D, { created_at: iso(T0 + i * 1000), updated_at: iso(T0 + i * 1000) }),
    );
    for (const u of users) await deliver(event("dsync.user.created", u));
    await settle(D);
    const first = await json<List>(await get(`/directory_users?directory=${D}&limit=2`));
    expect(first.data.map((u) => u.id)).toEqual(["directory_user_k4", "directory_user_k3"]);
    await deliver(event("dsync.user.deleted", users[3] as ReturnType<typeof user>, T0 + 10_000));
    await settle(D);
    const next = await json<List>(
      await get(`/directory_users?directory=${D}&limit=2&after=${first.list_metadata.after}`),
    );
    expect(next.data.map((u) => u.id)).toEqual(["directory_user_k2", "directory_user_k1"]);
  });
});

describe("outbox", () => {
  /** Real KV, recording every put and delete with the simulated time it happened at. */
  function recordingKv(clock: { now: number }) {
    const log: { op: string; key: string; at: number; value?: string }[] = [];
    const kv = {
      put: async (key: string, value: string, opts?: KVNamespacePutOptions) => {
        log.push({ op: "put", key, at: clock.now, value });
        await env.CACHE.put(key, value, opts);
      },
      delete: async (key: string) => {
        log.push({ op: "delete", key, at: clock.now });
        await env.CACHE.delete(key);
      },
    } as unknown as KVNamespace;
    return { kv, log };
  }

  it("keeps a key marked again and again in line: a flood of other marks never starves it", async () => {
    const stub = env.DIRECTORY.getByName("outbox-starve");
    await runInDurableObject(stub, async (_instance, state) => {
      const clock = { now: Date.now() };
      const { kv, log } = recordingKv(clock);
      const outbox = new Outbox(state.storage.sql, kv);
      const keyOf = (m: string) => `test:starve:${m}`;
      const materialize = (m: string): KvWrite => ({ kind: "put", key: keyOf(m), value: `${m}@${clock.now}` });
      // A list's mark, then before every flush a flood of new records (more than a flush takes),
      // each marking the list again.
      let n = 0;
      outbox.mark("list");
      for (let flush = 0; flush < 4; flush++) {
        for (let i = 0; i < 300; i++) {
          outbox.mark(`record:${n++}`);
          outbox.mark("list");
        }
        await outbox.flush(clock.now, keyOf, materialize);
        clock.now += SAME_KEY_INTERVAL_MS + 100;
      }
      // Written as its turn comes (first marked, first written), not pushed behind every newer
      // mark for as long as the flood lasts.
      const writes = log.filter((l) => l.key === keyOf("list"));
      expect(writes.length).toBeGreaterThanOrEqual(2);
    });
  });

  it("serialises concurrent flushes, so two callers never write one key twice within a second", async () => {
    const stub = env.DIRECTORY.getByName("outbox-concurrent");
    await runInDurableObject(stub, async (_instance, state) => {
      const clock = { now: Date.now() };
      const { kv, log } = recordingKv(clock);
      const outbox = new Outbox(state.storage.sql, kv);
      for (let i = 0; i < 40; i++) outbox.mark(`k${i}`);
      const write = (m: string): KvWrite => ({ kind: "put", key: `test:concurrent:${m}`, value: m });
      // As an alarm and an explicit flush might: both start before either has written.
      await Promise.all([
        outbox.flush(clock.now, (m) => `test:concurrent:${m}`, write),
        outbox.flush(clock.now + 10, (m) => `test:concurrent:${m}`, write),
      ]);
      expect(log.filter((l) => l.op === "put")).toHaveLength(40);
      expect(outbox.tooSoonTotal).toBe(0);
    });
  });

  it("retries a write KV refuses on its own backoff, parks it, and writes everything else", async () => {
    const stub = env.DIRECTORY.getByName("outbox-failing-key");
    await runInDurableObject(stub, async (_instance, state) => {
      const clock = { now: Date.now() };
      const { kv: real } = recordingKv(clock);
      let refuse = true;
      const attempts: number[] = [];
      // Real KV, except one key it refuses (as it would a key over 512 bytes, or a value too large).
      const kv = {
        put: async (key: string, value: string) => {
          if (key === "test:failing:bad" && refuse) {
            attempts.push(clock.now);
            throw new Error("KV PUT failed: 414 key too long");
          }
          await real.put(key, value);
        },
        delete: real.delete.bind(real),
      } as unknown as KVNamespace;
      const outbox = new Outbox(state.storage.sql, kv);
      let version = 0;
      const keyOf = (m: string) => `test:failing:${m}`;
      const write = (m: string): KvWrite => ({ kind: "put", key: keyOf(m), value: `${m}@${version}` });
      const marks = ["a", "bad", ...Array.from({ length: 60 }, (_, i) => `k${i}`)];
      for (const m of marks) outbox.mark(m);

      const first = await outbox.flush(clock.now, keyOf, write);
      expect(first.pending).toBe(1);
      for (const m of marks.filter((m) => m !== "bad")) expect(await env.CACHE.get(keyOf(m)), m).toBe(`${m}@0`);
      expect(outbox.failures()).toMatchObject({ retrying: 1, parked: 0, oldest: [{ write: "bad", attempts: 1 }] });

      // Later changes to other records keep flowing while the failing one waits out its backoff.
      let parkedAt: number | null = null;
      for (let step = 0; step < 400 && parkedAt === null; step++) {
        clock.now += 1100;
        version += 1;
        outbox.mark("a");
        const report = await outbox.flush(clock.now, keyOf, write);
        expect(await env.CACHE.get(keyOf("a"))).toBe(`a@${version}`);
        expect(report.next).not.toBeNull();
        if (outbox.failures().parked === 1) parkedAt = clock.now;
      }
      // Backed off exponentially: each wait at least twice the one before, then parked.
      const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
      expect(attempts.length).toBe(6);
      for (let i = 1; i < gaps.length; i++)
        expect(gaps[i] as number).toBeGreaterThanOrEqual(2 * (gaps[i - 1] as number) - 1100);
      expect(outbox.failures().oldest[0]).toMatchObject({ write: "bad", parked: true, attempts: 6 });
      expect(outbox.pending()).toBe(1);

      // Parked: not retried on every flush...
      clock.now += 60_000;
      await outbox.flush(clock.now, keyOf, write);
      expect(attempts.length).toBe(6);
      // ...but at once when its record changes, and then it is written and forgotten.
      refuse = false;
      version += 1;
      outbox.mark("bad");
      clock.now += 1100;
      const done = await outbox.flush(clock.now, keyOf, write);
      expect(done.pending).toBe(0);
      expect(await env.CACHE.get(keyOf("bad"))).toBe(`bad@${version}`);
      expect(outbox.failures()).toEqual({ retrying: 0, parked: 0, oldest: [] });
    });
  });

  it("keeps each invocation under KV's 1,000 operations, however big the indexes, and resumes them", async () => {
    const stub = env.DIRECTORY.getByName("outbox-budget");
    await runInDurableObject(stub, async (_instance, state) => {
      const clock = { now: Date.now() };
      const { kv, log } = recordingKv(clock);
      const outbox = new Outbox(state.storage.sql, kv);
      // 30 indexes of 15,000 entries (about 45 chunks each): one parallel batch of them alone
      // would take more than 1,000 operations, as would the two flushes of one alarm.
      const sortKeys = (i: number) =>
        Array.from({ length: 15_000 }, (_, j) => `${String(j).padStart(15, "0")}:i${i}u${j}`);
      const marks = Array.from({ length: 30 }, (_, i) => `idx${i}`);
      for (const m of marks) outbox.mark(m);
      const keyOf = (m: string) => `test:budget:${m}`;
      const write = (m: string): KvWrite => ({
        kind: "index",
        key: keyOf(m),
        read: readSorted(sortKeys(Number(m.slice(3)))),
      });

      let invocations = 0;
      let pending = marks.length;
      while (pending > 0) {
        invocations += 1;
        expect(invocations).toBeLessThan(10);
        const before = log.length;
        // As an alarm runs them: two flushes sharing the invocation's budget.
        const budget = new KvBudget();
        await outbox.flush(clock.now, keyOf, write, budget);
        const report = await outbox.flush(clock.now, keyOf, write, budget);
        expect(log.length - before).toBeLessThanOrEqual(1000);
        pending = report.pending;
        if (pending > 0) expect(report.next).toBe(clock.now);
        clock.now += 1;
      }
      expect(invocations).toBeGreaterThan(1);
      // Every index whole: its manifest names chunks holding exactly its entries, none written twice.
      for (const m of marks) {
        const manifest = JSON.parse((await env.CACHE.get(keyOf(m))) as string) as { n: number; c: [string][] };
        const chunks = await Promise.all(manifest.c.map(([h]) => env.CACHE.get(kvKeys.chunk(keyOf(m), h), "json")));
        expect((chunks as string[][]).flat()).toEqual(sortKeys(Number(m.slice(3))));
      }
      const chunkPuts = log.filter((l) => l.key.includes(":chunk:")).map((l) => l.key);
      expect(new Set(chunkPuts).size).toBe(chunkPuts.length);
    });
  });

  it("coalesces a hot key to one write a second, keeps the latest value, and chunks immutable", async () => {
    const stub = env.DIRECTORY.getByName("outbox-test");
    await runInDurableObject(stub, async (_instance, state) => {
      const clock = { now: Date.now() };
      const { kv, log } = recordingKv(clock);
      const outbox = new Outbox(state.storage.sql, kv);
      let value = 0;
      const index: string[] = [];
      const materialize = (mark: string): KvWrite =>
        mark === "hot"
          ? { kind: "put", key: "test:hot", value: String(value) }
          : { kind: "index", key: "test:index", read: readSorted([...index]) };
      for (let step = 0; step < 50; step++) {
        value = step;
        index.push(`${String(step).padStart(15, "0")}:o${step}`);
        outbox.mark("hot");
        outbox.mark("idx");
        await outbox.flush(clock.now, (m) => (m === "hot" ? "test:hot" : "test:index"), materialize);
        clock.now += 150;
      }
      clock.now += SAME_KEY_INTERVAL_MS;
      const last = await outbox.flush(clock.now, (m) => (m === "hot" ? "test:hot" : "test:index"), materialize);
      expect(last.pending).toBe(0);

      for (const key of ["test:hot", "test:index"]) {
        const times = log.filter((l) => l.key === key && l.op === "put").map((l) => l.at);
        expect(times.length).toBeLessThan(12);
        for (let i = 1; i < times.length; i++)
          expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(1000);
      }
      expect(await env.CACHE.get("test:hot")).toBe("49");
      const chunkPuts = log.filter((l) => l.key.includes(":chunk:") && l.op === "put").map((l) => l.key);
      expect(new Set(chunkPuts).size).toBe(chunkPuts.length);
      const manifest = JSON.parse((await env.CACHE.get("test:index")) as string) as { n: number; c: [string][] };
      expect(manifest.n).toBe(50);
      const chunk = await env.CACHE.get(kvKeys.chunk("test:index", manifest.c[0]?.[0] as string), "json");
      expect(chunk).toHaveLength(50);

      // Superseded chunks are deleted only after the grace period.
      const superseded = chunkPuts.slice(0, -1);
      expect(log.some((l) => l.op === "delete")).toBe(false);
      clock.now += CHUNK_GRACE_MS + 1;
      await outbox.flush(clock.now, (m) => m, materialize);
      expect(
        log
          .filter((l) => l.op === "delete")
          .map((l) => l.key)
          .sort(),
      ).toEqual([...superseded].sort());
    });
  });
});

describe("superseded chunks", () => {
  it("are collected a bounded share at a time, so a backlog never holds a flush back", async () => {
    const stub = env.DIRECTORY.getByName("garbage-test");
    await runInDurableObject(stub, async (_instance, state) => {
      const garbage = new GarbageCollector(state.storage.sql, env.CACHE);
      const keys = Array.from({ length: 60 }, (_, i) => `test:garbage:chunk:${i}`);
      for (const key of keys) {
        await env.CACHE.put(key, "x");
        garbage.schedule(key, 1_000);
      }
      const rounds: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { deleted, next } = await garbage.collect(2_000, new KvBudget());
        rounds.push(deleted);
        if (deleted === 25) expect(next).toBeLessThanOrEqual(2_000);
      }
      expect(rounds).toEqual([25, 25, 10, 0]);
      const left = await env.CACHE.get(keys, "text");
      expect([...left.values()].filter((v) => v !== null)).toEqual([]);
    });
  });
});
