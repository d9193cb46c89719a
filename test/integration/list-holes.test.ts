/**
 * A list page is never served with a hole in it. KV is eventually consistent and caches misses,
 * and so does the isolate's memory tier: a record read as missing just before its directory's
 * index was published (for instance by the read-through that first met the directory) must not
 * drop out of pages built from that index. Chunks and lookups carry their records, so they never
 * meet such a miss; an index written before chunks carried records reads them by key, and asks
 * the writer for any KV does not show.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { type Manifest, parseChunk } from "../../src/kv/chunks";
import { kvKeys } from "../../src/kv/keys";
import { directory, event, group, iso, membership, T0, user } from "../support/events";
import { READ_KEY } from "../support/settings";
import { applyAll, flushWriters, forgetReads, get, settle } from "../support/worker";

const D = "directory_01HOLES";
const N = 40;
const uid = (i: number) => `directory_user_hole${String(i).padStart(3, "0")}`;
const G = "directory_group_hole";
const team = group(G, D);

type List = { data: { id: string }[] };

const users = Array.from({ length: N }, (_, i) =>
  user(uid(i), D, { created_at: iso(T0 + i * 1000), updated_at: iso(T0 + i * 1000) }),
);

/** KV as seen from a location that has not seen `hidden` yet (or cached a miss of it). */
function kvWithout(hidden: Set<string>): KVNamespace {
  const kv = env.CACHE;
  return new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop !== "get") return Reflect.get(target, prop, receiver);
      return async (key: string | string[], type?: unknown) => {
        const value = await target.get(key as string[], type as "text");
        if (typeof key === "string") return hidden.has(key) ? null : value;
        const map = value as unknown as Map<string, string | null>;
        for (const k of hidden) if (map.has(k)) map.set(k, null);
        return map;
      };
    },
  });
}

async function listThrough(kv: KVNamespace, path: string) {
  forgetReads();
  const res = await app.request(path, { headers: { Authorization: `Bearer ${READ_KEY}` } }, { ...env, CACHE: kv });
  expect(res.status, path).toBe(200);
  return ((await res.json()) as List).data.map((u) => u.id);
}

beforeAll(async () => {
  await applyAll(D, [
    event("dsync.activated", directory(D)),
    event("dsync.group.created", team),
    ...users.map((u, i) => membership("dsync.group.user_added", u, team, T0 + i)),
  ]);
  await settle(D);
});

describe("a record the index names but this location's KV does not show", () => {
  const hiddenUser = uid(17);
  const lagging = kvWithout(new Set([kvKeys.user(hiddenUser)]));

  it("cannot leave a hole: chunks and lookups carry their records, no record key is read", async () => {
    const blind = kvWithout(new Set(users.map((u) => kvKeys.user(u.id))));
    const all = users.map((u) => u.id).reverse();
    expect(await listThrough(blind, `/directory_users?directory=${D}&limit=100`)).toEqual(all);
    expect(await listThrough(blind, `/directories/${D}/users?limit=100`)).toEqual(all);
    expect(await listThrough(blind, `/directory_users?group=${G}&limit=100`)).toEqual(all);
    expect(await listThrough(blind, `/directory_users?directory=${D}&email=${hiddenUser}@example.com`)).toEqual([
      hiddenUser,
    ]);
  });

  it("is read from the directory's writer when the index predates records in chunks", async () => {
    // The index as it was written before chunks carried records: chunks of bare sort keys.
    const key = kvKeys.directoryUsers(D);
    const m = JSON.parse((await env.CACHE.get(key)) as string) as Manifest;
    const c: Manifest["c"] = [];
    for (const [hash, count, first] of m.c) {
      const keys = parseChunk((await env.CACHE.get(kvKeys.chunk(key, hash))) as string).k;
      await env.CACHE.put(kvKeys.chunk(key, `old${hash}`), JSON.stringify(keys));
      c.push([`old${hash}`, count, first]);
    }
    await env.CACHE.put(key, JSON.stringify({ n: m.n, c }));
    const all = users.map((u) => u.id).reverse();
    expect(await listThrough(lagging, `/directory_users?directory=${D}&limit=100`)).toEqual(all);
    expect(await listThrough(lagging, `/directories/${D}/users?limit=100`)).toEqual(all);
    await settle(D);
  });

  it("serves the record exactly as KV would", async () => {
    forgetReads();
    const fromKv = (await (await get(`/directory_users?directory=${D}&limit=100`)).json()) as List;
    forgetReads();
    const res = await app.request(
      `/directory_users?directory=${D}&limit=100`,
      { headers: { Authorization: `Bearer ${READ_KEY}` } },
      { ...env, CACHE: lagging },
    );
    expect(await res.json()).toEqual(fromKv);
  });
});

describe("a miss the memory tier remembers from before the record existed", () => {
  it("does not drop the record from the first pages built after it is published", async () => {
    const D2 = "directory_02HOLES";
    const first = user("directory_user_hole_first", D2, { created_at: iso(T0), updated_at: iso(T0) });
    forgetReads();
    // Read before the writer has it: this isolate remembers the miss.
    expect((await get(`/directory_users/${first.id}`)).status).toBe(404);
    const rest = Array.from({ length: 9 }, (_, i) =>
      user(`directory_user_hole_next${i}`, D2, { created_at: iso(T0 + (i + 1) * 1000) }),
    );
    await applyAll(D2, [
      event("dsync.activated", directory(D2)),
      ...[first, ...rest].map((u) => event("dsync.user.created", u)),
    ]);
    await flushWriters(D2);
    const page = (await (await get(`/directory_users?directory=${D2}&limit=100`)).json()) as List;
    expect(page.data.map((u) => u.id)).toContain(first.id);
    expect(page.data).toHaveLength(10);
  });
});
