import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { kvKeys } from "../../src/kv/keys";
import { isHeld } from "../../src/read/lists";
import { directory, event, user } from "../support/events";
import { ADMIN_KEY, READ_KEY } from "../support/settings";
import { waitFor } from "../support/wait";
import { deliverAll, forgetReads, get, json, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitForSync } from "./helpers";

/**
 * A key limited to organization A, over data of A and of B: some held by the cache (synced, in
 * KV), some only at WorkOS (read through, relayed). Nothing of B may show in any answer.
 */
const A = "org_01LIMITA";
const B = "org_01LIMITB";
const heldA = upstreamDirectory("directory_01LIMHA", 12, 3, A);
const heldB = upstreamDirectory("directory_01LIMHB", 6, 2, B);
const farA = upstreamDirectory("directory_01LIMFA", 3, 1, A);
const farB = upstreamDirectory("directory_01LIMFB", 3, 1, B);

type List = {
  object: string;
  data: { id: string; organization_id?: string }[];
  list_metadata: Record<string, unknown>;
};
type Key = { id: string; key: string; organization_ids: string[] | null };

const keyCall = (path: string, key: string, method = "GET", body?: unknown) =>
  exports.default.fetch(`http://cache${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function createKey(body: object): Promise<Key> {
  const res = await keyCall("/admin/keys", ADMIN_KEY, "POST", body);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Key>(res);
}

/** Every id and the organization of B: none may appear in an answer to the limited key. */
const ofB = [
  B,
  heldB.dir.id,
  farB.dir.id,
  ...[heldB, farB].flatMap((d) => [...d.users.map((u) => u.id), ...d.groups.map((g) => g.id)]),
];
/** Checks a body for B, but for what the caller itself named (a 404 names the id asked for). */
function expectNothingOfB(body: string, what: string, asked = "") {
  for (const s of ofB)
    if (!asked.includes(s)) expect(body.includes(s), `${what} shows ${s}: ${body.slice(0, 300)}`).toBe(false);
}

/** Reads a path with the limited key: its body (checked for B), status and JSON. */
async function asA(path: string, key: string) {
  const res = await get(path, key);
  const body = await res.text();
  expectNothingOfB(body, path, path);
  return { status: res.status, body, json: JSON.parse(body) as List & { code?: string; message?: string } };
}

/** Every page of a list, following `after`. */
async function everyPage(path: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await asA(`${path}${sep}limit=2${after ? `&after=${after}` : ""}`, key);
    expect(page.status, page.body).toBe(200);
    ids.push(...page.json.data.map((r) => r.id));
    after = page.json.list_metadata.after as string | null;
    if (!after) return ids;
  }
  throw new Error("no end");
}

const EMPTY = { object: "list", data: [], list_metadata: { before: null, after: null } };

describe("a key limited to organizations", () => {
  let limited: Key;

  beforeAll(async () => {
    for (const d of [heldA, heldB, farA, farB]) await publish(d);
    for (const d of [heldA, heldB]) {
      await admin(`/directories/${d.dir.id}/sync`, "POST");
      await waitForSync(d.dir.id, complete(1));
    }
    await settle(heldA.dir.id, heldB.dir.id);
    limited = await createKey({ name: "org A service", scopes: ["read", "events"], organization_ids: [A] });
    expect(limited.organization_ids).toEqual([A]);
  });

  it("reads its organization's directories, users and groups as an unrestricted key does", async () => {
    const users = await everyPage(`/directory_users?directory=${heldA.dir.id}`, limited.key);
    expect(users.sort()).toEqual(heldA.users.map((u) => u.id).sort());
    const groups = await everyPage(`/directories/${heldA.dir.id}/groups`, limited.key);
    expect(groups.sort()).toEqual(heldA.groups.map((g) => g.id).sort());
    const u = heldA.users[1];
    expect((await asA(`/directory_users/${u?.id}`, limited.key)).json).toMatchObject({ id: u?.id });
    const byEmail = await asA(`/directory_users?directory=${heldA.dir.id}&email=${u?.id}@example.com`, limited.key);
    expect(byEmail.json.data.map((r) => r.id)).toEqual([u?.id]);
    const g = heldA.groups[0];
    expect((await asA(`/directory_users?group=${g?.id}`, limited.key)).json.data.length).toBeGreaterThan(0);
    expect((await asA(`/directory_groups?user=${u?.id}`, limited.key)).json.data.length).toBeGreaterThan(0);
    // Records only WorkOS holds yet: read through and relayed, as for any key.
    const far = farA.users[0];
    expect((await asA(`/directory_users/${far?.id}`, limited.key)).json).toMatchObject({ id: far?.id });
    expect((await asA(`/directories/${farA.dir.id}`, limited.key)).json).toMatchObject({ id: farA.dir.id });
  });

  it("sees nothing of another organization on any path: lists are empty, records not found", async () => {
    const unknown = await asA("/directory_users/directory_user_01NOSUCHTHING", limited.key);
    const missing = (status: number, body: { code?: string; message?: string }, id: string) => {
      expect(status).toBe(404);
      // Exactly as an unknown id: same code, same words.
      expect(body.code).toBe(unknown.json.code);
      expect(body.message).toContain(id);
    };
    for (const d of [heldB, farB]) {
      // Lists: by directory (flat and scoped), group, user, email, idp_id.
      for (const path of [
        `/directory_users?directory=${d.dir.id}`,
        `/directory_groups?directory=${d.dir.id}`,
        `/directory_users?group=${d.gid(0)}`,
        `/directory_groups?user=${d.uid(0)}`,
        `/directory_users?directory=${d.dir.id}&email=${d.uid(0)}@example.com`,
        `/directory_users?directory=${d.dir.id}&idp_id=idp_${d.uid(0)}`,
      ]) {
        const r = await asA(path, limited.key);
        expect(r.status, path).toBe(200);
        expect(r.json, path).toEqual(EMPTY);
      }
      for (const path of [
        `/directories/${d.dir.id}/users`,
        `/directories/${d.dir.id}/groups`,
        `/directories/${d.dir.id}/users?email=${d.uid(0)}@example.com`,
        `/directories/${d.dir.id}/users?idp_id=idp_${d.uid(0)}`,
        `/directories/${d.dir.id}/users?group=${d.gid(0)}`,
        `/directories/${d.dir.id}/groups?user=${d.uid(0)}`,
      ]) {
        const r = await asA(path, limited.key);
        expect(r.status, path).toBe(404);
      }
      // Records by id, on every route family.
      for (const [path, id] of [
        [`/directories/${d.dir.id}`, d.dir.id],
        [`/directory_users/${d.uid(1)}`, d.uid(1)],
        [`/directory_groups/${d.gid(0)}`, d.gid(0)],
        [`/directories/${d.dir.id}/users/${d.uid(1)}`, d.uid(1)],
        [`/directories/${d.dir.id}/groups/${d.gid(0)}`, d.gid(0)],
      ] as const) {
        const r = await asA(path, limited.key);
        missing(r.status, r.json, id);
      }
    }
    // A cursor naming a record of B is no cursor (as one naming no record).
    const list = `/directory_users?directory=${heldA.dir.id}`;
    const noSuch = await asA(`${list}&after=directory_user_01NOSUCHTHING`, limited.key);
    expect(noSuch.status).toBe(422);
    const probe = await asA(`${list}&after=${heldB.uid(2)}`, limited.key);
    expect([probe.status, probe.json.code]).toEqual([noSuch.status, noSuch.json.code]);
    // The unrestricted key still sees B (and what it was answered is not served to the limited key).
    const all = await get(`/directory_users?directory=${heldB.dir.id}`, READ_KEY);
    expect((await json<List>(all)).data).toHaveLength(heldB.users.length);
    expect((await asA(`/directory_users?directory=${heldB.dir.id}`, limited.key)).json).toEqual(EMPTY);
  });

  it("lists only its organizations' directories, with cursors and filters to match", async () => {
    const expected = [heldA.dir.id, farA.dir.id].sort();
    const both = await createKey({ name: "both", scopes: ["read"], organization_ids: [A, B] });
    const all = (key: string) =>
      Promise.all([everyPage("/directories", key), everyPage("/directories?search=Synced", key)]);
    const check = async () => {
      for (const ids of await all(limited.key)) expect(ids.sort()).toEqual(expected);
      expect((await asA(`/directories?organization_id=${B}`, limited.key)).json).toEqual(EMPTY);
      expect((await everyPage(`/directories?organization_id=${A}`, limited.key)).sort()).toEqual(expected);
      // A key of two organizations sees both (paged one at a time, so every cursor is used).
      const seen = new Set<string>();
      let after: string | null = null;
      do {
        const page: List = await json<List>(
          await get(`/directories?limit=1${after ? `&after=${after}` : ""}`, both.key),
        );
        for (const d of page.data) seen.add(d.id);
        after = page.list_metadata.after as string | null;
      } while (after);
      expect(seen).toEqual(new Set([heldA.dir.id, farA.dir.id, heldB.dir.id, farB.dir.id]));
    };
    const registryHeld = async () => isHeld(await env.CACHE.get(kvKeys.syncMarker("registry")));
    // While WorkOS answers (the cache holds no complete listing yet: per organization for a key of several)...
    expect(await registryHeld()).toBe(false);
    await check();
    // ...and once the cache holds one, from KV and the registry.
    expect((await admin("/reconcile", "POST")).status).toBe(200);
    await settle(heldA.dir.id, heldB.dir.id, farA.dir.id, farB.dir.id);
    expect(await registryHeld()).toBe(true);
    await check();
  });

  it("reads only its organizations' events from the change feed", async () => {
    await deliverAll([
      event("dsync.user.created", user("directory_user_01LIMEVA", heldA.dir.id, { organization_id: A })),
      event("dsync.user.created", user("directory_user_01LIMEVB", heldB.dir.id, { organization_id: B })),
    ]);
    await settle(heldA.dir.id, heldB.dir.id);
    await waitFor(async () => {
      const page = await json<List>(await get(`/events?organization_id=${B}&limit=100&events=dsync.user.created`));
      return page.data.some((e) => JSON.stringify(e).includes("01LIMEVB")) ? true : undefined;
    }, "B's event in the feed");
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await asA(`/events?limit=50${after ? `&after=${after}` : ""}`, limited.key);
      expect(page.status).toBe(200);
      for (const e of page.json.data) seen.push(JSON.stringify(e));
      after = page.json.list_metadata.after as string | null;
    } while (after);
    expect(seen.some((e) => e.includes("directory_user_01LIMEVA"))).toBe(true);
    expect((await asA(`/events?organization_id=${B}`, limited.key)).json.data).toEqual([]);
    // A cursor naming B's event is no cursor (as one naming no event).
    const bPage = await json<{ data: { id: string }[] }>(await get(`/events?organization_id=${B}&limit=1`));
    const bEvent = bPage.data[0]?.id as string;
    const noSuch = await get("/events?after=event_01NOSUCHEVENT", limited.key);
    expect(noSuch.status).toBeGreaterThanOrEqual(400);
    expect((await get(`/events?after=${bEvent}`, limited.key)).status).toBe(noSuch.status);
  });

  it("makes push subscriptions that deliver only its organizations' events, and manages only its own", async () => {
    const url = (name: string) => `${inject("subscriberUrl")}/${name}`;
    const refused = await keyCall("/subscriptions", limited.key, "POST", { url: url("limB"), organization_ids: [B] });
    expect(refused.status).toBe(422);
    const res = await keyCall("/subscriptions", limited.key, "POST", { url: url("limA") });
    expect(res.status, await res.clone().text()).toBe(201);
    const sub = await json<{ id: string; organization_ids: string[]; created_by: string }>(res);
    expect(sub).toMatchObject({ organization_ids: [A], created_by: limited.id });
    const mine = await json<List>(await keyCall("/subscriptions", limited.key));
    expect(mine.data.map((s) => s.id)).toEqual([sub.id]);
    // An administrator's subscription is not this key's to see.
    const adminSub = await json<{ id: string }>(
      await keyCall("/admin/subscriptions", ADMIN_KEY, "POST", { url: url("limAdmin") }),
    );
    expect((await keyCall(`/subscriptions/${adminSub.id}`, limited.key)).status).toBe(404);
    expect((await keyCall(`/subscriptions/${adminSub.id}`, limited.key, "DELETE")).status).toBe(404);

    await deliverAll([
      event("dsync.user.created", user("directory_user_01LIMPSB", heldB.dir.id, { organization_id: B })),
      event("dsync.user.created", user("directory_user_01LIMPSA", heldA.dir.id, { organization_id: A })),
    ]);
    await settle(heldA.dir.id, heldB.dir.id);
    const got = await waitFor(async () => {
      const r = (await (await fetch(`${inject("subscriberUrl")}/_subscriber/received?name=limA`)).json()) as {
        body: string;
      }[];
      return r.some((d) => d.body.includes("01LIMPSA")) ? r : undefined;
    }, "the limited key's delivery");
    for (const d of got) expectNothingOfB(d.body, "a delivery");
    // Revoking the key stops what it made.
    expect((await keyCall(`/admin/keys/${limited.id}`, ADMIN_KEY, "DELETE")).status).toBe(200);
    const after = await json<{ state: string }>(await keyCall(`/admin/subscriptions/${sub.id}`, ADMIN_KEY));
    expect(after.state).toBe("paused");
    expect((await get("/directories", limited.key)).status).toBe(401);
  });

  it("counts refused requests by reason in /admin/status", async () => {
    const reader = await createKey({ name: "reader", scopes: ["read"] });
    const revoked = await createKey({ name: "gone", scopes: ["read"] });
    await keyCall(`/admin/keys/${revoked.id}`, ADMIN_KEY, "DELETE");
    forgetReads();
    const before = (await json<{ refusedRequests: Record<string, number> }>(await admin("/status"))).refusedRequests;
    expect((await get("/directories", null)).status).toBe(401);
    expect((await get("/directories", "sk_cache_not_a_key")).status).toBe(401);
    expect((await get("/directories", revoked.key)).status).toBe(401);
    expect((await get("/directories", "", { Authorization: "Basic abc" })).status).toBe(401);
    expect((await get("/events", reader.key)).status).toBe(403);
    expect((await get("/subscriptions", reader.key)).status).toBe(403);
    expect((await get("/subscriptions", null)).status).toBe(401);
    const grew = (now: Record<string, number>, reason: string) => (now[reason] ?? 0) > (before[reason] ?? 0);
    const now = await waitFor(async () => {
      const s = (await json<{ refusedRequests: Record<string, number> }>(await admin("/status"))).refusedRequests;
      return ["missing_key", "unknown_key", "revoked_key", "malformed_header", "missing_scope"].every((r) => grew(s, r))
        ? s
        : undefined;
    }, "the refusal counts");
    // Counts, never keys.
    expect(JSON.stringify(now)).not.toContain("sk_");
  });
});

describe("a directory event of another organization", () => {
  it("is not in the limited key's directory list once the cache holds it", async () => {
    const key = await createKey({ name: "A only", scopes: ["read"], organization_ids: [A] });
    await deliverAll([event("dsync.activated", directory("directory_01LIMEVD", { organization_id: B }))]);
    await settle("directory_01LIMEVD");
    const r = await asA("/directory_users?directory=directory_01LIMEVD", key.key);
    expect(r.json).toEqual(EMPTY);
    expect((await asA("/directories/directory_01LIMEVD", key.key)).status).toBe(404);
  });
});
