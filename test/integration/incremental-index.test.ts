import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { idOfSortKey, sortKeyOf } from "../../src/directory/model";
import { DirectoryObject } from "../../src/directory/object";
import { INLINE_MAX, type Manifest, parseChunk, splitIntoChunks } from "../../src/kv/chunks";
import { fnv64, kvKeys } from "../../src/kv/keys";
import { directory, event, group, iso, membership, T0, user, type WebhookEvent } from "../support/events";
import { applyAll, settle } from "../support/worker";

/** A seeded generator, so a failing case can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A published index, read straight from KV: its entries, its chunks' entries, and each entry's
 * record as the chunk holds it beside the record KV holds under its own key.
 */
async function published(key: string, recordKey: (id: string) => string) {
  const raw = await env.CACHE.get(key);
  if (!raw) return { entries: [], chunks: [], records: [], own: [] };
  const manifest = JSON.parse(raw) as Manifest;
  const bodies = await Promise.all(
    manifest.c.map(async ([h]) => parseChunk((await env.CACHE.get(kvKeys.chunk(key, h))) ?? '["<missing chunk>"]')),
  );
  // A list small enough carries its one chunk in the manifest too: the same body.
  if (manifest.c.length === 1 && manifest.n <= INLINE_MAX) expect(manifest.b).toEqual(bodies[0]);
  else expect(manifest.b).toBeUndefined();
  const entries = bodies.flatMap((b) => b.k);
  expect(manifest.n).toBe(entries.length);
  const own: (string | null)[] = [];
  for (let i = 0; i < entries.length; i += 100) {
    const keys = entries.slice(i, i + 100).map((k) => recordKey(idOfSortKey(k)));
    const values = await env.CACHE.get(keys, "text");
    for (const k of keys) own.push(values.get(k) ?? null);
  }
  return { entries, chunks: bodies.map((b) => b.k), records: bodies.flatMap((b) => b.r ?? []), own };
}

describe("list indexes maintained incrementally", () => {
  it("equal a full rebuild after random creates, updates, deletes, re-creates and membership changes (property)", async () => {
    const D = "directory_01INCRIDX";
    const rnd = random(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    const groups = [0, 1, 2].map((i) => group(`directory_group_incr${i}`, D, { created_at: iso(T0 + i) }));
    type U = ReturnType<typeof user>;
    const users = new Map<string, { record: U; live: boolean }>();
    const members = new Map(groups.map((g) => [g.id, new Set<string>()]));
    let n = 0;
    const newUser = (at: number) => {
      const id = `directory_user_incr${String(n++).padStart(5, "0")}`;
      // Created at a random point of the list's range: new entries land between old ones.
      const created = T0 + Math.floor(rnd() * 10_000_000);
      return user(id, D, { created_at: iso(created), updated_at: iso(at) });
    };

    const first: WebhookEvent[] = [event("dsync.activated", directory(D))];
    for (const g of groups) first.push(event("dsync.group.created", g));
    for (let i = 0; i < 700; i++) {
      const u = newUser(T0);
      users.set(u.id, { record: u, live: true });
      first.push(event("dsync.user.created", u));
      for (const g of groups)
        if (rnd() < 0.4) {
          first.push(membership("dsync.group.user_added", u, g, T0 + 1));
          members.get(g.id)?.add(u.id);
        }
    }
    await applyAll(D, first);
    await settle(D);
    await expectIndexesMatch();

    for (let round = 1; round <= 8; round++) {
      // Each change a moment after the one before (a later version wins, as WorkOS orders them).
      let at = T0 + 20_000_000 * round;
      const events: WebhookEvent[] = [];
      const live = () => [...users.values()].filter((u) => u.live).map((u) => u.record);
      const gone = () => [...users.values()].filter((u) => !u.live).map((u) => u.record);
      // A round is a few changes, or (every third) a burst of hundreds.
      const size = round % 3 === 0 ? 300 : 1 + Math.floor(rnd() * 12);
      for (let i = 0; i < size; i++) {
        const kind = rnd();
        at += 10;
        if (kind < 0.3) {
          const u = newUser(at);
          users.set(u.id, { record: u, live: true });
          events.push(event("dsync.user.created", u, at));
        } else if (kind < 0.55 && live().length) {
          const u = pick(live());
          users.set(u.id, { record: u, live: false });
          for (const m of members.values()) m.delete(u.id);
          events.push(event("dsync.user.deleted", { ...u, updated_at: iso(at) }, at));
        } else if (kind < 0.62 && gone().length) {
          // Re-created: the same id and position, a later version.
          const u = { ...pick(gone()), updated_at: iso(at) };
          users.set(u.id, { record: u, live: true });
          events.push(event("dsync.user.created", u, at));
        } else if (kind < 0.72 && live().length) {
          // Renamed: its position stays, its record in every list it is in changes.
          const u = { ...pick(live()), first_name: `Renamed ${at}`, updated_at: iso(at) };
          users.set(u.id, { record: u, live: true });
          events.push(event("dsync.user.updated", u, at));
        } else if (kind < 0.76) {
          // A group renamed: the records of its members (their `groups`) change in every list.
          const i = Math.floor(rnd() * groups.length);
          const g = { ...(groups[i] as (typeof groups)[number]), name: `Group ${at}`, updated_at: iso(at) };
          groups[i] = g;
          events.push(event("dsync.group.updated", g, at));
        } else if (live().length) {
          const u = pick(live());
          const g = pick(groups);
          const set = members.get(g.id) as Set<string>;
          const adding = !set.has(u.id);
          if (adding) set.add(u.id);
          else set.delete(u.id);
          events.push(membership(adding ? "dsync.group.user_added" : "dsync.group.user_removed", u, g, at));
        }
      }
      await applyAll(D, events);
      await settle(D);
      await expectIndexesMatch(`round ${round}`);
    }

    async function expectIndexesMatch(when = "first load") {
      const liveUsers = [...users.values()].filter((u) => u.live).map((u) => sortKeyOf(u.record));
      const expected: [string, string[], (id: string) => string][] = [
        [kvKeys.directoryUsers(D), liveUsers.sort(), kvKeys.user],
        [kvKeys.directoryGroups(D), groups.map(sortKeyOf).sort(), kvKeys.group],
        ...groups.map((g): [string, string[], (id: string) => string] => [
          kvKeys.groupMembers(g.id),
          [...(members.get(g.id) as Set<string>)].map((id) => sortKeyOf(users.get(id)?.record as U)).sort(),
          kvKeys.user,
        ]),
      ];
      for (const [key, entries, recordKey] of expected) {
        const got = await published(key, recordKey);
        expect(got.entries, `${key} after ${when}`).toEqual(entries);
        expect(got.chunks, `${key} chunks after ${when}`).toEqual(splitIntoChunks(entries));
        // Each record in a chunk is the record as served by id now: no chunk kept an old one.
        expect(got.records, `${key} records after ${when}`).toEqual(got.own);
      }
      // And that record is the truth: each user's name and groups as the events left them.
      const listed = (await published(kvKeys.directoryUsers(D), kvKeys.user)).records;
      const truth = (id: string) => {
        const u = users.get(id)?.record as U;
        const mine = groups.filter((g) => members.get(g.id)?.has(id)).map((g) => [g.id, g.name]);
        return [u.first_name, mine.sort()];
      };
      for (const json of listed) {
        const u = JSON.parse(json as string) as {
          id: string;
          first_name: string;
          groups: { id: string; name: string }[];
        };
        const got = [u.first_name, u.groups.map((g) => [g.id, g.name]).sort()];
        expect(got, `${u.id} after ${when}`).toEqual(truth(u.id));
      }
    }
  });

  it("are cut afresh, records included, when a writer starts on an index written before chunks carried them", async () => {
    const D = "directory_01OLDFORMAT";
    const people = [0, 1, 2].map((i) => user(`directory_user_oldfmt${i}`, D, { created_at: iso(T0 + i) }));
    await applyAll(D, [event("dsync.activated", directory(D)), ...people.map((u) => event("dsync.user.created", u))]);
    await settle(D);
    // The index as the previous release left it: a chunk of bare sort keys, and a writer that
    // records that layout and no index format.
    const key = kvKeys.directoryUsers(D);
    const keys = people.map(sortKeyOf);
    const chunk = JSON.stringify(keys);
    const manifest = JSON.stringify({ n: keys.length, c: [[fnv64(chunk), keys.length, keys[0]]] });
    await env.CACHE.put(kvKeys.chunk(key, fnv64(chunk)), chunk);
    await env.CACHE.put(key, manifest);
    const stub = env.DIRECTORY.getByName(D);
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("UPDATE index_layout SET hash = ? WHERE index_key = ?", fnv64(chunk), key);
      sql.exec("DELETE FROM outbox_chunks WHERE index_key = ?", key);
      sql.exec("INSERT INTO outbox_chunks (index_key, chunk_key) VALUES (?, ?)", key, kvKeys.chunk(key, fnv64(chunk)));
      sql.exec("UPDATE outbox_written SET hash = ? WHERE key = ?", fnv64(manifest), key);
      sql.exec("DELETE FROM meta WHERE key = 'index_format'");
      new DirectoryObject(state, env);
    });
    await settle(D);
    const published = JSON.parse((await env.CACHE.get(key)) as string) as Manifest;
    expect(published.b?.k).toEqual(keys);
    expect(published.b?.r).toEqual(await Promise.all(people.map((u) => env.CACHE.get(kvKeys.user(u.id)))));
  });
});
