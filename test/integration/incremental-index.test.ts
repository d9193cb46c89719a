import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sortKeyOf } from "../../src/directory/model";
import { splitIntoChunks } from "../../src/kv/chunks";
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

/** A published index, read straight from KV: its entries, and its chunks' hashes. */
async function published(key: string): Promise<{ entries: string[]; hashes: string[] }> {
  const raw = await env.CACHE.get(key);
  if (!raw) return { entries: [], hashes: [] };
  const manifest = JSON.parse(raw) as { n: number; c: [string, number, string][] };
  const chunks = await Promise.all(manifest.c.map(([h]) => env.CACHE.get<string[]>(kvKeys.chunk(key, h), "json")));
  const entries = chunks.flatMap((c) => c ?? ["<missing chunk>"]);
  expect(manifest.n).toBe(entries.length);
  return { entries, hashes: manifest.c.map(([h]) => h) };
}

/** The chunk hashes a full rebuild of these entries gives. */
const rebuilt = (entries: string[]) => splitIntoChunks(entries).map((c) => fnv64(JSON.stringify(c)));

describe("list indexes maintained incrementally", () => {
  it("equal a full rebuild after random creates, deletes, re-creates and membership changes (property)", async () => {
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
        } else if (kind < 0.65 && gone().length) {
          // Re-created: the same id and position, a later version.
          const u = { ...pick(gone()), updated_at: iso(at) };
          users.set(u.id, { record: u, live: true });
          events.push(event("dsync.user.created", u, at));
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
      const expected: [string, string[]][] = [
        [kvKeys.directoryUsers(D), liveUsers.sort()],
        [kvKeys.directoryGroups(D), groups.map(sortKeyOf).sort()],
        ...groups.map((g): [string, string[]] => [
          kvKeys.groupMembers(g.id),
          [...(members.get(g.id) as Set<string>)].map((id) => sortKeyOf(users.get(id)?.record as U)).sort(),
        ]),
      ];
      for (const [key, entries] of expected) {
        const got = await published(key);
        expect(got.entries, `${key} after ${when}`).toEqual(entries);
        expect(got.hashes, `${key} chunks after ${when}`).toEqual(rebuilt(entries));
      }
    }
  });
});
