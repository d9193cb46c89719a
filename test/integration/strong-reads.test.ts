import { describe, expect, it } from "vitest";
import { directory, event, group, iso, membership, T0, user } from "../support/events";
import { deliverAll, get, json, settle } from "../support/worker";

const D = "directory_01STRONG";
const strong = { "Cache-Control": "no-cache" };
const u1 = user("directory_user_strong1", D, { created_at: iso(T0 + 1) });
const u2 = user("directory_user_strong2", D, { created_at: iso(T0 + 2) });
const g1 = group("directory_group_strong1", D, { created_at: iso(T0 + 1) });
const g2 = group("directory_group_strong2", D, { created_at: iso(T0 + 2) });

type Groups = { data: { id: string }[]; list_metadata: { after: string | null } };

describe("strong reads (Cache-Control: no-cache)", () => {
  it("see a change as soon as the webhook's 200, before KV does, and say they are strong", async () => {
    await deliverAll([
      event("dsync.activated", directory(D)),
      event("dsync.user.created", u1),
      event("dsync.user.created", u2),
      event("dsync.group.created", g1),
      event("dsync.group.created", g2),
      membership("dsync.group.user_added", u1, g1, T0 + 10),
      membership("dsync.group.user_added", u1, g2, T0 + 11),
    ]);
    await settle(D);
    // Read once by default, so KV and this isolate's memory hold the user as it was.
    const before = await get(`/directory_users/${u1.id}`);
    expect(before.status).toBe(200);
    expect(before.headers.get("X-Read-Consistency")).toBeNull();
    expect((await json<Groups>(await get(`/directory_groups?user=${u1.id}`))).data).toHaveLength(2);

    // Changes acknowledged by their webhooks' 200; KV is not flushed in between.
    await deliverAll([
      membership("dsync.group.user_removed", u1, g2, T0 + 20),
      event("dsync.user.deleted", { ...u2, updated_at: iso(T0 + 30) }, T0 + 30),
    ]);

    const groups = await get(`/directory_groups?user=${u1.id}`, undefined, strong);
    expect(groups.headers.get("X-Read-Consistency")).toBe("strong");
    expect((await json<Groups>(groups)).data.map((g) => g.id)).toEqual([g1.id]);
    const user1 = await get(`/directory_users/${u1.id}`, undefined, strong);
    expect(user1.headers.get("X-Read-Consistency")).toBe("strong");
    expect((await json<{ groups: { id: string }[] }>(user1)).groups.map((g) => g.id)).toEqual([g1.id]);
    // The deleted user: a 404 at once, in WorkOS's shape, on both route families.
    for (const path of [`/directory_users/${u2.id}`, `/directories/${D}/users/${u2.id}`]) {
      const gone = await get(path, undefined, strong);
      expect(gone.status, path).toBe(404);
      expect(gone.headers.get("X-Read-Consistency")).toBe("strong");
      expect(await json(gone)).toMatchObject({ code: "entity_not_found" });
    }
    // The directory's counts, as the writer holds them.
    const dir = await get(`/directories/${D}`, undefined, strong);
    expect(dir.headers.get("X-Read-Consistency")).toBe("strong");
    expect(await json(dir)).toMatchObject({ id: D, metadata: { users: { active: 1, inactive: 0 }, groups: 2 } });
    // A group by id, on both route families; the scoped one without a user's groups.
    expect(await json(await get(`/directory_groups/${g2.id}`, undefined, strong))).toMatchObject({ id: g2.id });
    const scoped = await json<Record<string, unknown>>(
      await get(`/directories/${D}/users/${u1.id}`, undefined, strong),
    );
    expect(scoped).toMatchObject({ id: u1.id });
    expect(scoped).not.toHaveProperty("groups");

    // Strong answers are the writer's, never kept for default reads; once KV has the changes,
    // default reads agree with them, byte for byte.
    await settle(D);
    for (const path of [`/directory_users/${u1.id}`, `/directories/${D}`, `/directory_groups?user=${u1.id}`]) {
      const [a, b] = [await get(path, undefined, strong), await get(path)];
      expect(await a.text(), path).toBe(await b.text());
    }
    expect((await get(`/directory_users/${u2.id}`)).status).toBe(404);
  });

  it("page a user's groups with cursors, and answer unknown ids as default reads do", async () => {
    const page = await json<Groups>(await get(`/directory_groups?user=${u1.id}&limit=1&order=asc`, undefined, strong));
    expect(page.data.map((g) => g.id)).toEqual([g1.id]);
    const unknown = await get("/directory_users/directory_user_strong_nobody", undefined, strong);
    expect(unknown.status).toBe(404);
    // No writer was asked: KV knows no such user.
    expect(unknown.headers.get("X-Read-Consistency")).toBeNull();
    expect((await get("/directories/directory_01NOSUCHSTRONG", undefined, strong)).status).toBe(404);
  });
});
