import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyEvent } from "../../src/directory/apply";
import type { DsyncEvent } from "../../src/schemas/events";
import { decoded, directory, event, group, iso, membership, T0, user } from "../support/events";
import { MemoryStore } from "../support/memory-store";

const D = "directory_01PURE";
const at = (s: number) => T0 + s * 1000;

function run(events: DsyncEvent[]) {
  const store = new MemoryStore();
  const outcomes = events.map((e) => applyEvent(store, e));
  return { store, outcomes, state: store.visible() };
}

describe("applyEvent", () => {
  it("upserts a user and maps the directory state to the REST enum", () => {
    const { state } = run([
      decoded(event("dsync.activated", directory(D, { state: "active" }))),
      decoded(event("dsync.user.created", user("u1", D))),
    ]);
    expect(state.directory?.state).toBe("linked");
    expect(state.directory?.domain).toBe("example.com");
    expect(state.users.map((u) => u?.id)).toEqual(["u1"]);
  });

  it("ignores a change older than what is stored", () => {
    const newer = decoded(
      event("dsync.user.updated", user("u1", D, { first_name: "New", updated_at: iso(at(5)) }), at(5)),
    );
    const older = decoded(
      event("dsync.user.updated", user("u1", D, { first_name: "Old", updated_at: iso(at(3)) }), at(6)),
    );
    const { state, outcomes } = run([newer, older]);
    expect(outcomes).toEqual(["applied", "stale"]);
    expect(state.users[0]?.first_name).toBe("New");
  });

  it("keeps a deleted user deleted against late updates, memberships and equal-time creates", () => {
    const u = user("u1", D, { updated_at: iso(at(2)) });
    const g = group("g1", D);
    const { state } = run([
      decoded(event("dsync.user.deleted", u, at(3))),
      decoded(event("dsync.user.updated", u, at(1))),
      decoded(membership("dsync.group.user_added", u, g, at(4))),
      decoded(event("dsync.user.created", u, at(5))),
    ]);
    expect(state.users).toEqual([]);
    expect(state.groups.map((x) => x?.id)).toEqual(["g1"]);
    expect(state.memberships).toEqual([]);
  });

  it("lets a strictly newer create lift a tombstone, without reviving older memberships", () => {
    const g = group("g1", D);
    const u1 = user("u1", D, { updated_at: iso(at(1)) });
    const { state } = run([
      decoded(membership("dsync.group.user_added", u1, g, at(1))),
      decoded(event("dsync.user.deleted", u1, at(2))),
      decoded(event("dsync.user.created", user("u1", D, { updated_at: iso(at(3)) }), at(3))),
    ]);
    expect(state.users.map((u) => u?.id)).toEqual(["u1"]);
    expect(state.memberships).toEqual([]);
  });

  it("keeps memberships void after a delete that arrives behind a newer re-create (regression)", () => {
    const u = user("u1", D);
    const g = group("g1", D, { updated_at: iso(at(2)) });
    const recreated = { ...g, updated_at: iso(at(7)) };
    const { state } = run([
      decoded(event("dsync.group.created", recreated, at(7))),
      decoded(event("dsync.group.deleted", { ...g, updated_at: iso(at(4)) }, at(4))),
      decoded(membership("dsync.group.user_added", u, g, at(3))),
    ]);
    expect(state.groups.map((x) => x?.id)).toEqual(["g1"]);
    expect(state.memberships).toEqual([]);
  });

  it("upserts the user and group embedded in a membership event", () => {
    const { state } = run([decoded(membership("dsync.group.user_added", user("u1", D), group("g1", D)))]);
    expect(state.users.map((u) => u?.id)).toEqual(["u1"]);
    expect(state.groups.map((g) => g?.id)).toEqual(["g1"]);
    expect(state.memberships).toEqual(["u1 g1"]);
  });

  it("never creates records from a removal", () => {
    const { state, outcomes } = run([decoded(membership("dsync.group.user_removed", user("u1", D), group("g1", D)))]);
    expect(outcomes).toEqual(["applied"]);
    expect(state).toMatchObject({ users: [], groups: [], memberships: [] });
  });

  it("orders memberships by event time, not updated_at", () => {
    const u = user("u1", D);
    const g = group("g1", D);
    const added = decoded(membership("dsync.group.user_added", u, g, at(1)));
    const removed = decoded(membership("dsync.group.user_removed", u, g, at(2)));
    expect(run([removed, added]).state.memberships).toEqual([]);
    expect(run([added, removed]).state.memberships).toEqual([]);
  });

  it("takes a deleted group off every member and marks the members for rewrite", () => {
    const g = group("g1", D);
    const { store, state } = run([
      decoded(membership("dsync.group.user_added", user("u1", D), g, at(1))),
      decoded(membership("dsync.group.user_added", user("u2", D), g, at(1))),
      decoded(event("dsync.group.deleted", g, at(2))),
    ]);
    expect(state.groups).toEqual([]);
    expect(state.memberships).toEqual([]);
    expect([...store.edges.values()].every((e) => !e.present)).toBe(true);
    expect(store.dirty).toContain("user:u1");
    expect(store.dirty).toContain("idx:gu:g1");
  });

  it("rewrites every member when a group is renamed (they embed it)", () => {
    const g = group("g1", D);
    const store = new MemoryStore();
    applyEvent(store, decoded(membership("dsync.group.user_added", user("u1", D), g, at(1))));
    store.dirty.clear();
    applyEvent(store, decoded(event("dsync.group.updated", { ...g, name: "Renamed", updated_at: iso(at(2)) }, at(2))));
    expect([...store.dirty].sort()).toEqual(["group:g1", "user:u1"]);
  });

  it("removes the whole directory on dsync.deleted and ignores its late events", () => {
    const u = user("u1", D);
    const { state, store } = run([
      decoded(event("dsync.activated", directory(D), at(0))),
      decoded(membership("dsync.group.user_added", u, group("g1", D), at(1))),
      decoded(event("dsync.deleted", directory(D, { state: "deleting", updated_at: iso(at(5)) }), at(5))),
      decoded(event("dsync.user.updated", { ...u, updated_at: iso(at(6)) }, at(4))),
      decoded(event("dsync.activated", directory(D), at(0))),
    ]);
    expect(state).toEqual({ directory: null, users: [], groups: [], memberships: [] });
    expect(store.dirty).toContain("user:u1");
    expect(store.dirty).toContain("group:g1");
  });
});

// --- property: any shuffle with duplicates converges to the ordered stream's state ---

type Op =
  | { k: "user"; id: number; del: boolean; name: string; stale: boolean }
  | { k: "group"; id: number; del: boolean; name: string; stale: boolean }
  | { k: "member"; u: number; g: number; add: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("user" as const),
    id: fc.nat(2),
    del: fc.boolean(),
    name: fc.constantFrom("a", "b"),
    stale: fc.boolean(),
  }),
  fc.record({
    k: fc.constant("group" as const),
    id: fc.nat(1),
    del: fc.boolean(),
    name: fc.constantFrom("x", "y"),
    stale: fc.boolean(),
  }),
  fc.record({ k: fc.constant("member" as const), u: fc.nat(2), g: fc.nat(1), add: fc.boolean() }),
);

/** Turns operations into the ordered event stream WorkOS would send, and the state it means. */
function history(ops: Op[], deleteDirectory: boolean) {
  const events: DsyncEvent[] = [decoded(event("dsync.activated", directory(D), at(0)))];
  const users = new Map<number, ReturnType<typeof user>>();
  const groups = new Map<number, ReturnType<typeof group>>();
  const members = new Set<string>();
  ops.forEach((op, i) => {
    const t = at(i + 1);
    if (op.k === "user" || op.k === "group") {
      const live = op.k === "user" ? users : groups;
      const id = `${op.k === "user" ? "u" : "g"}${op.id}`;
      const prev = live.get(op.id);
      if (op.del) {
        if (!prev) return;
        live.delete(op.id);
        for (const m of [...members]) if (m.split(" ").includes(id)) members.delete(m);
        // A delete usually carries the record's last snapshot: same updated_at as its last change.
        events.push(decoded(event(`dsync.${op.k}.deleted`, op.stale ? prev : { ...prev, updated_at: iso(t) }, t)));
        return;
      }
      const base = op.k === "user" ? user(id, D, { first_name: op.name }) : group(id, D, { name: op.name });
      const next = { ...base, created_at: prev?.created_at ?? iso(t), updated_at: iso(t) };
      live.set(op.id, next as never);
      events.push(decoded(event(`dsync.${op.k}.${prev ? "updated" : "created"}`, next, t)));
      return;
    }
    const u = users.get(op.u);
    const g = groups.get(op.g);
    if (!u || !g) return;
    const key = `${u.id} ${g.id}`;
    if (op.add) members.add(key);
    else members.delete(key);
    events.push(decoded(membership(op.add ? "dsync.group.user_added" : "dsync.group.user_removed", u, g, t)));
  });
  if (deleteDirectory) {
    events.push(
      decoded(event("dsync.deleted", directory(D, { state: "deleting", updated_at: iso(at(1e4)) }), at(1e4))),
    );
  }
  const sortById = <T extends { id: string }>(xs: T[]) => xs.sort((a, b) => (a.id < b.id ? -1 : 1));
  const truth = deleteDirectory
    ? { users: [], groups: [], memberships: [] }
    : {
        users: sortById([...users.values()]).map((u) => u.id),
        groups: sortById([...groups.values()]).map((g) => g.id),
        memberships: [...members].sort(),
      };
  return { events, truth };
}

const ids = (s: ReturnType<MemoryStore["visible"]>) => ({
  users: s.users.map((u) => u?.id),
  groups: s.groups.map((g) => g?.id),
  memberships: s.memberships,
});

describe("applyEvent convergence (property)", () => {
  it("ends any shuffle with duplicates of a stream in the ordered stream's state, which is the truth", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 5, maxLength: 60 }),
        fc.boolean(),
        fc.infiniteStream(fc.nat()),
        (ops, deleteDirectory, randoms) => {
          const { events, truth } = history(ops, deleteDirectory);
          const ordered = run(events).state;
          expect(ids(ordered)).toEqual(truth);
          const r = randoms[Symbol.iterator]();
          const rand = () => r.next().value as number;
          const delivered = [...events, ...events.filter(() => rand() % 3 === 0)];
          for (let i = delivered.length - 1; i > 0; i--) {
            const j = rand() % (i + 1);
            [delivered[i], delivered[j]] = [delivered[j] as DsyncEvent, delivered[i] as DsyncEvent];
          }
          expect(run(delivered).state).toEqual(ordered);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
