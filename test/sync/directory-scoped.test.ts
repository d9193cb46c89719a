/** The directory-scoped routes while pulling: WorkOS's own scoped routes answer what the cache does not hold. */
import { describe, expect, it } from "vitest";
import { standin } from "../support/standin-client";
import { get, json, settle } from "../support/worker";
import { complete, publish, upstreamDirectory, waitForSync } from "./helpers";

type Item = { id: string; groups?: unknown };
type List = { data: Item[]; list_metadata: { after: string | null } };

describe("directory-scoped routes while pulling", () => {
  it("relays a list the cache does not hold to WorkOS's scoped route, then serves the same from KV", async () => {
    const d = upstreamDirectory("directory_01SCOPEPULL", 25, 2);
    await publish(d);
    const path = `/directories/${d.dir.id}/users?limit=10&order=asc`;
    const relayed = await get(path);
    expect(relayed.status).toBe(200);
    const fromWorkOS = await json<List>(relayed);
    expect(fromWorkOS.data.map((u) => u.id)).toEqual(d.users.slice(0, 10).map((u) => u.id));
    expect(fromWorkOS.data.every((u) => !("groups" in u))).toBe(true);
    expect((await standin.stats("", `/directories/${d.dir.id}/users?`)).requests).toBeGreaterThan(0);

    await waitForSync(d.dir.id, complete());
    await settle(d.dir.id);
    const before = (await standin.stats("", `/directories/${d.dir.id}/users?`)).requests;
    const held = await json<List>(await get(path));
    expect(held).toEqual(fromWorkOS);
    const groups = await json<List>(await get(`/directories/${d.dir.id}/groups?user=${d.uid(7)}`));
    const expected = d.memberships.filter(([u]) => u === d.uid(7)).map(([, g]) => g);
    expect(groups.data.map((g) => g.id).sort()).toEqual(expected.sort());
    expect((await standin.stats("", `/directories/${d.dir.id}/users?`)).requests).toBe(before);
  });

  it("relays WorkOS's 404 for a directory it does not know", async () => {
    const res = await get("/directories/directory_01SCOPENONE/users");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "entity_not_found" });
  });

  it("reads a missing user through WorkOS's scoped route, and a user of another directory is not found", async () => {
    const a = upstreamDirectory("directory_01SCOPEA", 5, 1);
    const b = upstreamDirectory("directory_01SCOPEB", 5, 1);
    await publish(a);
    await publish(b);
    const res = await get(`/directories/${a.dir.id}/users/${a.uid(2)}`);
    expect(res.status).toBe(200);
    const body = await json<Item & { directory_id: string }>(res);
    expect(body).toMatchObject({ id: a.uid(2), directory_id: a.dir.id });
    expect(body).not.toHaveProperty("groups");
    expect((await standin.stats("", `/directories/${a.dir.id}/users/${a.uid(2)}`)).requests).toBe(1);

    expect((await get(`/directories/${b.dir.id}/users/${a.uid(3)}`)).status).toBe(404);
    expect((await get(`/directories/${b.dir.id}/groups/${a.gid(0)}`)).status).toBe(404);
    // Kept by the read-through: served from the cache now, and still scoped.
    await settle(a.dir.id);
    expect((await get(`/directories/${b.dir.id}/users/${a.uid(2)}`)).status).toBe(404);
    expect((await get(`/directories/${a.dir.id}/users/${a.uid(2)}`)).status).toBe(200);
  });
});
