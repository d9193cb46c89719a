import { beforeAll, describe, expect, it } from "vitest";
import { directory, event, group, iso, membership, T0, user } from "../support/events";
import { READ_KEY } from "../support/settings";
import { applyAll, get, metered, settle } from "../support/worker";

const D1 = "directory_01READ";
const D2 = "directory_02READ";
const N = 250;
const uid = (i: number) => `directory_user_r${String(i).padStart(4, "0")}`;
const gid = (i: number) => `directory_group_r${i}`;

type List = {
  object: string;
  data: { id: string; [k: string]: unknown }[];
  list_metadata: { before: string | null; after: string | null };
};

beforeAll(async () => {
  const groups = [0, 1, 2].map((i) =>
    group(gid(i), D1, { created_at: iso(T0 + i * 10), updated_at: iso(T0 + i * 10) }),
  );
  const events = [event("dsync.activated", directory(D1, { organization_id: "org_A", name: "First Corp" }))];
  for (let i = 0; i < N; i++) {
    const u = user(uid(i), D1, {
      organization_id: "org_A",
      email: `User${i}@Example.com`,
      state: i % 10 === 0 ? "inactive" : "active",
      created_at: iso(T0 + i * 1000),
      updated_at: iso(T0 + i * 1000),
    });
    events.push(membership("dsync.group.user_added", u, groups[i % 3] as ReturnType<typeof group>, T0 + i));
    if (i === 0) for (const g of groups.slice(1)) events.push(membership("dsync.group.user_added", u, g, T0 + 1));
  }
  await applyAll(D1, events);
  await applyAll(D2, [
    event(
      "dsync.activated",
      directory(D2, { organization_id: "org_B", name: "Second Ltd", created_at: iso(T0 + 5000) }),
    ),
  ]);
  await settle(D1, D2);
});

async function list(path: string) {
  const { res, ops } = await metered(path);
  expect(res.status).toBe(200);
  return { body: (await res.json()) as List, ops };
}

describe("cold reads (nothing in the isolate's memory)", () => {
  it("wait for one KV round trip by id, for a user's groups, a lookup and a small list; any list page for at most two", async () => {
    const trips = async (path: string) => {
      const { res } = await metered(path);
      expect(res.status, path).toBe(200);
      return Number(res.headers.get("X-KV-Round-Trips"));
    };
    for (const path of [
      `/directories/${D1}`,
      `/directory_users/${uid(5)}`,
      `/directory_groups/${gid(1)}`,
      `/directories/${D1}/users/${uid(5)}`,
      `/directory_groups?user=${uid(0)}`,
      `/directory_users?directory=${D1}&email=user7@example.com`,
      `/directory_users?directory=${D1}&idp_id=idp_${uid(8)}`,
      `/directory_users?directory=${D1}&email=user7@example.com&after=${uid(9)}`,
      // Lists of at most 100 entries: their manifest carries the records, cursor or not.
      `/directory_groups?directory=${D1}`,
      `/directory_groups?directory=${D1}&order=asc&after=${gid(0)}`,
      `/directories/${D1}/groups?limit=1&before=${gid(2)}`,
      `/directories`,
      `/directories?organization_id=org_A`,
      `/directories?order=asc&after=${D1}`,
      `/directory_users?group=${gid(1)}&after=${uid(40)}`,
      `/directory_users?group=${gid(0)}&order=normal&before=${uid(3)}&limit=50`,
    ])
      expect(await trips(path), path).toBe(1);
    for (const path of [
      `/directory_users?directory=${D1}&limit=100`,
      `/directory_users?directory=${D1}&order=asc&after=${uid(120)}&limit=100`,
      `/directories/${D1}/users?limit=10&before=${uid(100)}`,
    ])
      expect(await trips(path), path).toBe(2);
    // A name search is answered by the registry, which holds the directories as served.
    expect(await trips("/directories?search=First")).toBe(0);
  });
});

describe("GET by id", () => {
  it("serves a directory with REST state and current counts in one KV read", async () => {
    const { res, ops } = await metered(`/directories/${D1}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(ops).toBe(1);
    expect(await res.json()).toMatchObject({
      object: "directory",
      id: D1,
      state: "linked",
      domain: "example.com",
      metadata: { users: { active: 225, inactive: 25 }, groups: 3 },
    });
  });

  it("serves a user with its groups embedded in one KV read", async () => {
    const { res, ops } = await metered(`/directory_users/${uid(5)}`);
    expect(ops).toBe(1);
    const body = (await res.json()) as { id: string; email: string; groups: { id: string; object: string }[] };
    expect(body.id).toBe(uid(5));
    expect(body.email).toBe("User5@Example.com");
    expect(body.groups.map((g) => g.id)).toEqual([gid(2)]);
    expect(body.groups[0]?.object).toBe("directory_group");
    const first = (await (await get(`/directory_users/${uid(0)}`)).json()) as { groups: { id: string }[] };
    expect(first.groups.map((g) => g.id)).toEqual([gid(0), gid(1), gid(2)]);
  });

  it("answers unknown ids with 404 in the WorkOS shape", async () => {
    for (const [path, what] of [
      ["/directories/directory_nope", "Directory"],
      ["/directory_users/directory_user_nope", "Directory User"],
      ["/directory_groups/directory_group_nope", "Directory Group"],
    ] as const) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/json");
      const id = path.split("/")[2];
      expect(await res.json()).toEqual({
        message: `${what} not found: '${id}'.`,
        code: "entity_not_found",
        entity_id: id,
      });
    }
  });
});

describe("lists", () => {
  it("pages through directory users newest first, following list_metadata.after, in <= 3 KV ops a page", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: List[] = [];
    do {
      const { body, ops } = await list(`/directory_users?directory=${D1}&limit=100${after ? `&after=${after}` : ""}`);
      expect(ops).toBeLessThanOrEqual(3);
      pages.push(body);
      seen.push(...body.data.map((u) => u.id));
      after = body.list_metadata.after;
    } while (after);
    expect(pages.map((p) => p.data.length)).toEqual([100, 100, 50]);
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => uid(N - 1 - i)));
    expect(pages[0]?.list_metadata.before).toBeNull();
    expect(pages[1]?.list_metadata.before).toBe(uid(149));
    expect(pages[2]?.list_metadata.after).toBeNull();
    expect(pages.every((p) => p.data.every((u) => Array.isArray(u.groups)))).toBe(true);
  });

  it("defaults to 10 items, and honours asc, before and normal", async () => {
    expect((await list(`/directory_users?directory=${D1}`)).body.data).toHaveLength(10);
    const asc = (await list(`/directory_users?directory=${D1}&order=asc&limit=3`)).body;
    expect(asc.data.map((u) => u.id)).toEqual([uid(0), uid(1), uid(2)]);
    expect(asc.list_metadata).toEqual({ before: null, after: uid(2) });
    const back = (await list(`/directory_users?directory=${D1}&limit=2&before=${uid(5)}`)).body;
    expect(back.data.map((u) => u.id)).toEqual([uid(7), uid(6)]);
    const normal = (await list(`/directory_users?directory=${D1}&order=normal&limit=2&before=${uid(5)}`)).body;
    expect(normal.data.map((u) => u.id)).toEqual([uid(4), uid(3)]);
  });

  it("lists group members, a user's groups and a directory's groups", async () => {
    const members = (await list(`/directory_users?group=${gid(1)}&limit=100`)).body;
    expect(members.data.map((u) => u.id)).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => i % 3 === 1 || i === 0)
        .reverse()
        .map(uid),
    );
    const { body: mine, ops } = await list(`/directory_groups?user=${uid(0)}&order=asc`);
    expect(ops).toBe(1);
    expect(mine.data.map((g) => g.id)).toEqual([gid(0), gid(1), gid(2)]);
    expect((await list(`/directory_groups?directory=${D1}`)).body.data.map((g) => g.id)).toEqual([
      gid(2),
      gid(1),
      gid(0),
    ]);
    expect((await list(`/directory_users?group=${gid(1)}&directory=${D2}`)).body.data).toEqual([]);
  });

  it("finds users by email (case-insensitive) and IdP id within a directory", async () => {
    const { body, ops } = await list(`/directory_users?directory=${D1}&email=user7@example.COM`);
    expect(ops).toBeLessThanOrEqual(3);
    expect(body.data.map((u) => u.id)).toEqual([uid(7)]);
    expect((await list(`/directory_users?directory=${D1}&idp_id=idp_${uid(8)}`)).body.data.map((u) => u.id)).toEqual([
      uid(8),
    ]);
    expect((await list(`/directory_users?directory=${D1}&email=nobody@example.com`)).body.data).toEqual([]);
    expect((await list(`/directory_users?directory=${D1}&email=user7@example.com&group=${gid(0)}`)).body.data).toEqual(
      [],
    );
  });

  it("lists directories, by organization and by name search", async () => {
    expect((await list("/directories")).body.data.map((d) => d.id)).toEqual([D2, D1]);
    expect((await list("/directories?organization_id=org_B")).body.data.map((d) => d.id)).toEqual([D2]);
    expect((await list("/directories?search=second")).body.data.map((d) => d.id)).toEqual([D2]);
    expect((await list("/directories?organization_id=org_none")).body.data).toEqual([]);
    // Listed as served by id, current counts included (lists carry the writer's latest report).
    for (const path of ["/directories", "/directories?search=corp", `/directories?organization_id=org_A`])
      for (const d of (await list(path)).body.data)
        expect(d, path).toEqual(await (await get(`/directories/${d.id}`)).json());
    // A directory's counts change after its registry entry was written: its list entry follows.
    const D3 = "directory_03READ";
    await applyAll(D3, [event("dsync.activated", directory(D3, { organization_id: "org_C" }))]);
    await settle(D3);
    await applyAll(D3, [event("dsync.user.created", user("directory_user_r3", D3, { organization_id: "org_C" }))]);
    await settle(D3);
    const [listed] = (await list("/directories?organization_id=org_C")).body.data;
    expect(listed).toMatchObject({ id: D3, metadata: { users: { active: 1, inactive: 0 }, groups: 0 } });
  });
});

describe("errors", () => {
  it("refuses missing and wrong keys with 401 JSON, and accepts every configured key", async () => {
    for (const key of [null, "sk_wrong", `${READ_KEY}x`]) {
      const res = await get(`/directories/${D1}`, key);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      expect(await res.json()).toEqual({ message: "Unauthorized", code: "unauthorized" });
    }
    // A malformed header is a 401 too (the WorkOS SDKs map 401 to UnauthorizedException), never a 400.
    for (const header of ["Basic c2s6", "Bearer", `Bearer ${READ_KEY} extra`, "Bearer sk_\u00e4"]) {
      const res = await get(`/directories/${D1}`, null, { Authorization: header });
      expect(res.status, header).toBe(401);
      expect(await res.json()).toEqual({ message: "Unauthorized", code: "unauthorized" });
    }
    expect((await get(`/directories/${D1}`, "sk_test_reader_two")).status).toBe(200);
  });

  it("answers bad parameters with 422 naming the field", async () => {
    const cases: [string, string][] = [
      [`/directory_users?directory=${D1}&limit=0`, "limit"],
      [`/directory_users?directory=${D1}&limit=101`, "limit"],
      [`/directory_users?directory=${D1}&limit=ten`, "limit"],
      [`/directory_users?directory=${D1}&order=sideways`, "order"],
      ["/directory_users?email=a@b.c", "directory"],
      ["/directory_users?idp_id=x", "directory"],
      ["/directory_users", "directory"],
      ["/directory_groups", "directory"],
      [`/directory_users?directory=${D1}&after=directory_user_unknown`, "after"],
      [`/directory_users?directory=${D1}&before=${gid(0)}`, "before"],
    ];
    for (const [path, field] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(422);
      const body = (await res.json()) as { code: string; message: string; errors: { field: string }[] };
      expect(body.code).toBe("invalid_request_parameters");
      expect(body.errors.map((e) => e.field)).toContain(field);
    }
  });

  it("echoes a caller's X-Request-ID", async () => {
    const res = await get(`/directories/${D1}`, READ_KEY, { "X-Request-ID": "trace-123" });
    expect(res.headers.get("x-request-id")).toBe("trace-123");
  });
});

describe("bounded cost at size", () => {
  const BIG = "directory_03BIG";
  const M = 3000;
  beforeAll(async () => {
    const events = [event("dsync.activated", directory(BIG))];
    for (let i = 0; i < M; i++) {
      events.push(
        event(
          "dsync.user.created",
          user(`directory_user_b${String(i).padStart(5, "0")}`, BIG, {
            created_at: iso(T0 + i),
            updated_at: iso(T0 + i),
          }),
        ),
      );
    }
    await applyAll(BIG, events);
    await settle(BIG);
  });

  it("any page costs <= 3 KV operations, whatever the limit and position", async () => {
    const id = (i: number) => `directory_user_b${String(i).padStart(5, "0")}`;
    for (const q of [
      "limit=100",
      "limit=1",
      `limit=100&after=${id(1500)}`,
      `limit=100&before=${id(1500)}`,
      `limit=100&order=asc&after=${id(2950)}`,
      `limit=100&order=normal&after=${id(10)}`,
      `limit=100&after=${id(2000)}&before=${id(1000)}`,
    ]) {
      const { body, ops } = await list(`/directory_users?directory=${BIG}&${q}`);
      expect(ops, q).toBeLessThanOrEqual(3);
      expect(body.data.length, q).toBeGreaterThan(0);
    }
    const { body } = await list(`/directory_users?directory=${BIG}&limit=100&after=${id(1500)}`);
    expect(body.data.map((u) => u.id)).toEqual(Array.from({ length: 100 }, (_, k) => id(1499 - k)));
  });
});

describe("HTTP caching", () => {
  it("tags every read with an ETag and answers If-None-Match with 304", async () => {
    for (const path of [
      `/directories/${D1}`,
      `/directory_users?directory=${D1}&limit=5`,
      `/directory_groups?user=${uid(0)}`,
    ]) {
      const res = await get(path);
      const etag = res.headers.get("etag");
      expect(etag, path).toMatch(/^"[0-9a-f]{16}"$/);
      expect(res.headers.get("cache-control")).toBe("private, no-cache");
      const again = await get(path, READ_KEY, { "If-None-Match": etag as string });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      expect((await get(path, READ_KEY, { "If-None-Match": '"0000000000000000"' })).status).toBe(200);
    }
  });

  it("serves repeated reads from the isolate's memory without KV operations", async () => {
    const first = await get(`/directory_users/${uid(9)}`);
    expect(Number(first.headers.get("x-kv-operations"))).toBeLessThanOrEqual(1);
    const second = await get(`/directory_users/${uid(9)}`);
    expect(second.headers.get("x-kv-operations")).toBe("0");
    const list = await get(`/directory_users?directory=${D1}&limit=100`);
    expect(Number(list.headers.get("x-kv-operations"))).toBeLessThanOrEqual(3);
    const listAgain = await get(`/directory_users?directory=${D1}&limit=100`);
    expect(listAgain.headers.get("x-kv-operations")).toBe("0");
  });
});
