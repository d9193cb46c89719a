/**
 * The directory-scoped routes WorkOS added in 2026 (`@workos-inc/node` 12): the same data as the
 * flat routes, users without `groups`, and a record of another directory answered as not found.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { directory, event, group, iso, membership, T0, user } from "../support/events";
import { applyAll, metered, settle } from "../support/worker";

const D = "directory_01SCOPED";
const OTHER = "directory_02SCOPED";
const N = 150;
const uid = (i: number) => `directory_user_sc${String(i).padStart(4, "0")}`;
const gid = (i: number) => `directory_group_sc${i}`;
const OTHER_USER = "directory_user_sc_other";
const OTHER_GROUP = "directory_group_sc_other";

type Item = { id: string; object: string; directory_id: string; groups?: unknown };
type List = { object: string; data: Item[]; list_metadata: { before: string | null; after: string | null } };

beforeAll(async () => {
  const groups = [0, 1].map((i) => group(gid(i), D, { created_at: iso(T0 + i), updated_at: iso(T0 + i) }));
  const events = [event("dsync.activated", directory(D))];
  for (let i = 0; i < N; i++) {
    const u = user(uid(i), D, { created_at: iso(T0 + i * 1000), updated_at: iso(T0 + i * 1000) });
    events.push(membership("dsync.group.user_added", u, groups[i % 2] as ReturnType<typeof group>, T0 + i));
  }
  await applyAll(D, events);
  const otherGroup = group(OTHER_GROUP, OTHER);
  await applyAll(OTHER, [
    event("dsync.activated", directory(OTHER)),
    membership("dsync.group.user_added", user(OTHER_USER, OTHER), otherGroup, T0),
  ]);
  await settle(D, OTHER);
});

async function read(path: string) {
  const { res, ops } = await metered(path);
  return { status: res.status, body: (await res.json()) as List & Item & { code?: string }, ops };
}

describe("GET /directories/{id}/users", () => {
  it("lists the directory's users as the flat route does, without groups, in at most 3 KV operations", async () => {
    const scoped = await read(`/directories/${D}/users?limit=100&order=asc`);
    const flat = await read(`/directory_users?directory=${D}&limit=100&order=asc`);
    expect(scoped.status).toBe(200);
    expect(scoped.ops).toBeLessThanOrEqual(3);
    expect(scoped.body.data.map((u) => u.id)).toEqual(flat.body.data.map((u) => u.id));
    expect(scoped.body.list_metadata).toEqual(flat.body.list_metadata);
    expect(scoped.body.data.every((u) => !("groups" in u) && u.object === "directory_user")).toBe(true);
    const { groups: _groups, ...flatFirst } = flat.body.data[0] as Item;
    expect(scoped.body.data[0]).toEqual(flatFirst);
  });

  it("pages with after/before like WorkOS", async () => {
    const first = await read(`/directories/${D}/users?limit=10`);
    expect(first.body.data.map((u) => u.id)).toEqual(Array.from({ length: 10 }, (_, i) => uid(N - 1 - i)));
    const next = await read(`/directories/${D}/users?limit=10&after=${first.body.list_metadata.after}`);
    expect(next.body.data[0]?.id).toBe(uid(N - 11));
    expect(next.body.list_metadata.before).toBe(uid(N - 11));
  });

  it("filters by group, email and idp_id", async () => {
    const members = await read(`/directories/${D}/users?group=${gid(1)}&limit=100`);
    expect(members.body.data).toHaveLength(N / 2);
    expect(members.ops).toBeLessThanOrEqual(3);
    expect(members.body.data.every((u) => Number(u.id.slice(-4)) % 2 === 1 && !("groups" in u))).toBe(true);
    const byEmail = await read(`/directories/${D}/users?email=${uid(7)}@EXAMPLE.com`);
    expect(byEmail.body.data.map((u) => u.id)).toEqual([uid(7)]);
    expect(byEmail.body.data[0]).not.toHaveProperty("groups");
    const byIdp = await read(`/directories/${D}/users?idp_id=idp_${uid(8)}`);
    expect(byIdp.body.data.map((u) => u.id)).toEqual([uid(8)]);
    // A group of another directory has no members here.
    expect((await read(`/directories/${D}/users?group=${OTHER_GROUP}`)).body.data).toEqual([]);
  });

  it("answers an unknown directory with 404, and bad parameters with 422", async () => {
    const missing = await read("/directories/directory_nope/users");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: "entity_not_found", message: "Directory not found: 'directory_nope'." });
    const bad = await read(`/directories/${D}/users?limit=500`);
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe("invalid_request_parameters");
    expect((await read(`/directories/${D}/users?after=directory_user_nope`)).status).toBe(422);
  });
});

describe("GET /directories/{id}/users/{userId}", () => {
  it("serves the user without groups in one KV read", async () => {
    const { status, body, ops } = await read(`/directories/${D}/users/${uid(3)}`);
    expect(status).toBe(200);
    expect(ops).toBe(1);
    expect(body).toMatchObject({ object: "directory_user", id: uid(3), directory_id: D });
    expect(body).not.toHaveProperty("groups");
  });

  it("answers a user of another directory, or none, as not found", async () => {
    for (const path of [`/directories/${D}/users/${OTHER_USER}`, `/directories/${D}/users/directory_user_nope`]) {
      const { status, body } = await read(path);
      expect(status, path).toBe(404);
      expect(body.code).toBe("entity_not_found");
    }
  });
});

describe("GET /directories/{id}/groups", () => {
  it("lists the directory's groups, and a user's groups with `user`", async () => {
    const all = await read(`/directories/${D}/groups?order=asc`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((g) => g.id)).toEqual([gid(0), gid(1)]);
    const mine = await read(`/directories/${D}/groups?user=${uid(3)}`);
    expect(mine.body.data.map((g) => g.id)).toEqual([gid(1)]);
    // A user of another directory belongs to no group of this one.
    expect((await read(`/directories/${D}/groups?user=${OTHER_USER}`)).body.data).toEqual([]);
    expect((await read("/directories/directory_nope/groups")).status).toBe(404);
  });

  it("gets a group of the directory, and a group of another as not found", async () => {
    const found = await read(`/directories/${D}/groups/${gid(0)}`);
    expect(found.status).toBe(200);
    expect(found.ops).toBe(1);
    expect(found.body).toMatchObject({ object: "directory_group", id: gid(0), directory_id: D });
    const other = await read(`/directories/${D}/groups/${OTHER_GROUP}`);
    expect(other.status).toBe(404);
    expect(other.body.code).toBe("entity_not_found");
  });

  it("needs a read key", async () => {
    const { res } = await metered(`/directories/${D}/groups`, "sk_wrong");
    expect(res.status).toBe(401);
  });
});
