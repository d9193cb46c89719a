/**
 * End to end: the deployable bundle on workerd, listening on localhost, fed only by signed
 * webhooks over HTTP, read by the official @workos-inc/node SDK pointed at it — both 11.0.0 and
 * 12.3.0 (npm `latest`, installed under the alias `workos-node-12`), whose getters take an
 * options object and which adds the directory-scoped methods.
 */
import * as sdk11 from "@workos-inc/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sdk12 from "workos-node-12";
import { directory, event, group, iso, membership, T0, user, type WebhookEvent } from "../support/events";
import { assertConforms, schemaForPath } from "../support/openapi";
import { postWebhook, type RunningWorker, startWorker } from "../support/server";
import { ADMIN_KEY, READ_KEY, TEST_SETTINGS } from "../support/settings";

const D = "directory_01E2ESDK";
const D2 = "directory_02E2ESDK";
/** Another organization's directory: a key limited to org_E2E must see nothing of it. */
const OTHER = "directory_03E2EOTHER";
const otherGroup = group("directory_group_other", OTHER, { organization_id: "org_E2E_OTHER", name: "Other team" });
const otherUsers = [0, 1, 2].map((i) => user(`directory_user_other${i}`, OTHER, { organization_id: "org_E2E_OTHER" }));
const N = 230;
const uid = (i: number) => `directory_user_e${String(i).padStart(4, "0")}`;
const groups = [0, 1, 2].map((i) =>
  group(`directory_group_e${i}`, D, { name: `Team ${i}`, created_at: iso(T0 + i), updated_at: iso(T0 + i) }),
);

type List = { data: { groups: unknown[] }[]; list_metadata: { after: string | null } };

/** The two SDK majors, behind the few calls whose signature changed. */
const SDKS = [
  { version: "11.0.0", sdk: sdk11 as unknown as typeof sdk12, byId: (id: string) => id as unknown as { id: string } },
  { version: "12.3.0", sdk: sdk12, byId: (id: string) => ({ id }) },
];

let worker: RunningWorker;
const delivered: WebhookEvent[] = [];
/** A key made through the admin API, limited to org_E2E. */
let limitedKey: string;

async function post(e: WebhookEvent) {
  const res = await postWebhook(worker, e);
  if (res.status !== 200) throw new Error(`${e.event}: ${res.status} ${await res.text()}`);
  delivered.push(e);
}

async function raw(path: string, key = READ_KEY) {
  return fetch(new URL(path, worker.url), { headers: { Authorization: `Bearer ${key}` } });
}

/** Polls a condition (not a fixed sleep): the cache is eventually consistent by design. */
async function eventually<T>(probe: () => Promise<T>, done: (t: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reflected: ${what}: ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  worker = await startWorker({ ...TEST_SETTINGS, ADMIN_API_KEYS: ADMIN_KEY });
  await post(event("dsync.activated", directory(OTHER, { organization_id: "org_E2E_OTHER", name: "Other Inc" })));
  await post(event("dsync.group.created", otherGroup));
  for (const u of otherUsers) {
    await post(event("dsync.user.created", u));
    await post(membership("dsync.group.user_added", u, otherGroup));
  }
  await post(event("dsync.activated", directory(D, { organization_id: "org_E2E", name: "E2E Corp" })));
  await post(
    event("dsync.activated", directory(D2, { organization_id: "org_E2E", name: "Other", created_at: iso(T0 + 10) })),
  );
  for (const g of groups) await post(event("dsync.group.created", g));
  const events: WebhookEvent[] = [];
  for (let i = 0; i < N; i++) {
    const u = user(uid(i), D, {
      organization_id: "org_E2E",
      created_at: iso(T0 + i * 1000),
      updated_at: iso(T0 + i * 1000),
    });
    events.push(event("dsync.user.created", u, T0 + i));
    events.push(membership("dsync.group.user_added", u, groups[i % 3] as (typeof groups)[number], T0 + N + i));
  }
  // Deliveries arrive concurrently, as WorkOS sends them during an initial sync.
  for (let i = 0; i < events.length; i += 20) await Promise.all(events.slice(i, i + 20).map(post));
  // Ready when everything the tests read shows the whole feed: counts, every user (listed
  // with its group), and every group's members.
  await eventually(
    async () => (await (await raw(`/directories/${D}`)).json()) as { metadata?: { users: { active: number } } },
    (d) => d.metadata?.users.active === N,
    "directory counts",
  );
  await eventually(
    async () => {
      const users: { groups: unknown[] }[] = [];
      let after = "";
      do {
        const page = (await (await raw(`/directory_users?directory=${D}&limit=100${after}`)).json()) as List;
        users.push(...page.data);
        after = page.list_metadata.after ? `&after=${page.list_metadata.after}` : "";
      } while (after);
      const members = await Promise.all(
        groups.map(
          async (g) => ((await (await raw(`/directory_users?group=${g.id}&limit=100`)).json()) as List).data.length,
        ),
      );
      return { users: users.length, grouped: users.filter((u) => u.groups.length === 1).length, members };
    },
    (s) => s.users === N && s.grouped === N && s.members.reduce((a, b) => a + b, 0) === N,
    "users, memberships and group members",
  );
  await eventually(
    async () => (await (await raw(`/directory_users?group=${otherGroup.id}`)).json()) as List,
    (l) => l.data?.length === otherUsers.length,
    "the other organization's members",
  );
  const created = await fetch(new URL("/admin/keys", worker.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "e2e service", scopes: ["read", "events"], organization_ids: ["org_E2E"] }),
  });
  limitedKey = ((await created.json()) as { key: string }).key;
}, 120_000);

afterAll(async () => {
  await worker?.dispose();
});

describe.each(SDKS)("the official SDK $version against the cache", ({ sdk, byId }) => {
  const client = (key = READ_KEY) =>
    new sdk.WorkOS(key, { apiHostname: worker.url.hostname, port: Number(worker.url.port), https: false });
  const { NotFoundException, UnauthorizedException, UnprocessableEntityException } = sdk;

  it("gets a directory, a user with its groups, and a group", async () => {
    const workos = client();
    const dir = await workos.directorySync.getDirectory(byId(D));
    expect(dir).toMatchObject({
      id: D,
      organizationId: "org_E2E",
      name: "E2E Corp",
      state: "active",
      domain: "example.com",
    });
    const u = await workos.directorySync.getUser(byId(uid(4)));
    expect(u).toMatchObject({ id: uid(4), directoryId: D, email: `${uid(4)}@example.com`, state: "active" });
    expect(u.groups.map((g) => g.id)).toEqual([groups[1]?.id]);
    expect(await workos.directorySync.getGroup(byId(groups[0]?.id as string))).toMatchObject({
      id: groups[0]?.id,
      name: "Team 0",
    });
  });

  it("lists one page when given a limit, and walks every page with autoPagination", async () => {
    const workos = client();
    const page = await workos.directorySync.listUsers({ directory: D, limit: 5 });
    expect(page.data.map((u) => u.id)).toEqual([uid(N - 1), uid(N - 2), uid(N - 3), uid(N - 4), uid(N - 5)]);
    expect(page.listMetadata).toEqual({ before: null, after: uid(N - 5) });

    const all = await (await workos.directorySync.listUsers({ directory: D })).autoPagination();
    expect(all).toHaveLength(N);
    expect(all.map((u) => u.id)).toEqual(Array.from({ length: N }, (_, i) => uid(N - 1 - i)));

    const members = await (await workos.directorySync.listUsers({ group: groups[0]?.id })).autoPagination();
    expect(members.map((u) => u.id).sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => i % 3 === 0)
        .map(uid),
    );
  });

  it("lists groups by directory and by user, and directories by organization", async () => {
    const workos = client();
    const dirGroups = await workos.directorySync.listGroups({ directory: D, order: "asc" });
    expect(dirGroups.data.map((g) => g.id)).toEqual(groups.map((g) => g.id));
    const mine = await workos.directorySync.listGroups({ user: uid(2) });
    expect(mine.data.map((g) => g.id)).toEqual([groups[2]?.id]);
    const dirs = await workos.directorySync.listDirectories({ organizationId: "org_E2E" });
    expect(dirs.data.map((d) => d.id)).toEqual([D2, D]);
    const found = await workos.directorySync.listDirectories({ search: "e2e" });
    expect(found.data.map((d) => d.id)).toEqual([D]);
  });

  it("pages the change feed to its end with listEvents: every delivered change once, under its id", async () => {
    const workos = client();
    const names = ["dsync.activated", "dsync.user.created", "dsync.group.created", "dsync.group.user_added"];
    const follow = async () => {
      const seen: { id: string; event: string; createdAt: Date; data: unknown }[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await workos.events.listEvents({
          events: names as never,
          organizationId: "org_E2E",
          limit: 100,
          after,
        });
        seen.push(...page.data);
        if (!page.listMetadata.after) return seen;
        after = page.listMetadata.after;
      }
    };
    // Deliveries ran concurrently: a user first met in a membership event was created by it (the
    // side change under a new id), and its own user.created, arriving after, changed nothing.
    const seen = await eventually(
      follow,
      (s) => s.filter((e) => e.event === "dsync.group.user_added").length >= N,
      "the whole feed",
    );
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    const count = (name: string) => seen.filter((e) => e.event === name).length;
    expect([count("dsync.activated"), count("dsync.group.created")]).toEqual([2, 3]);
    expect([count("dsync.user.created"), count("dsync.group.user_added")]).toEqual([N, N]);
    const created = seen.filter((e) => e.event === "dsync.user.created").map((e) => (e.data as { id: string }).id);
    expect(new Set(created).size).toBe(N);
    const byId = new Map(delivered.map((e) => [e.id, e]));
    for (const e of seen) {
      const cause = byId.get(e.id);
      if (!cause) continue;
      expect(e.event).toBe(cause.event);
      // SDK 11 keeps `createdAt` as the string, 12 makes it a Date.
      expect(new Date(e.createdAt).toISOString()).toBe(cause.created_at);
    }
    // Every membership was delivered as itself: those keep WorkOS's ids.
    expect(seen.filter((e) => e.event === "dsync.group.user_added").every((e) => byId.has(e.id))).toBe(true);
  });

  it("with a key limited to one organization, sees all of it and nothing of another", async () => {
    const workos = client(limitedKey);
    const ds = workos.directorySync;
    const dirs = await (await ds.listDirectories()).autoPagination();
    expect(dirs.map((d) => d.id)).toEqual([D2, D]);
    expect((await ds.listDirectories({ organizationId: "org_E2E_OTHER" })).data).toEqual([]);
    const all = await (await ds.listUsers({ directory: D })).autoPagination();
    expect(all).toHaveLength(N);
    expect((await ds.listUsers({ directory: OTHER })).data).toEqual([]);
    expect((await ds.listUsers({ group: otherGroup.id })).data).toEqual([]);
    expect((await ds.listGroups({ user: otherUsers[0]?.id as string })).data).toEqual([]);
    expect((await ds.listGroups({ directory: OTHER })).data).toEqual([]);
    for (const lookup of [
      () => ds.getDirectory(byId(OTHER)),
      () => ds.getUser(byId(otherUsers[1]?.id as string)),
      () => ds.getGroup(byId(otherGroup.id)),
    ])
      expect(await lookup().catch((e: unknown) => e)).toBeInstanceOf(NotFoundException);
    // The change feed: its organization's events only, paged to the end.
    const seen: unknown[] = [];
    let after: string | undefined;
    do {
      const page = await workos.events.listEvents({ events: ["dsync.user.created"] as never, limit: 100, after });
      seen.push(...page.data);
      after = page.listMetadata.after ?? undefined;
    } while (after);
    expect(seen).toHaveLength(N);
    expect(JSON.stringify(seen)).not.toContain("org_E2E_OTHER");
  });

  it("raises the SDK's typed errors, with the request id", async () => {
    const workos = client();
    const missing = await workos.directorySync.getUser(byId("directory_user_missing")).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundException);
    expect((missing as InstanceType<typeof NotFoundException>).status).toBe(404);
    expect((missing as InstanceType<typeof NotFoundException>).requestID).toMatch(/^req_/);

    const badLimit = await workos.directorySync.listUsers({ directory: D, limit: 0 }).catch((e: unknown) => e);
    expect(badLimit).toBeInstanceOf(UnprocessableEntityException);

    const stranger = client("sk_test_wrong");
    expect(await stranger.directorySync.getDirectory(byId(D)).catch((e: unknown) => e)).toBeInstanceOf(
      UnauthorizedException,
    );
  });
});

describe("SDK 12.3.0's directory-scoped methods against the cache", () => {
  const workos = () =>
    new sdk12.WorkOS(READ_KEY, { apiHostname: worker.url.hostname, port: Number(worker.url.port), https: false });

  it("lists a directory's users (one page, and every page), without groups", async () => {
    const page = await workos().directorySync.listDirectoryUsers({ directoryId: D, limit: 3 });
    expect(page.data.map((u) => u.id)).toEqual([uid(N - 1), uid(N - 2), uid(N - 3)]);
    expect(page.data.every((u) => !("groups" in u))).toBe(true);
    const all = await (await workos().directorySync.listDirectoryUsers({ directoryId: D })).autoPagination();
    expect(all.map((u) => u.id)).toEqual(Array.from({ length: N }, (_, i) => uid(N - 1 - i)));
  });

  it("filters a directory's users by group, email and IdP id", async () => {
    const members = await (
      await workos().directorySync.listDirectoryUsers({ directoryId: D, group: groups[1]?.id })
    ).autoPagination();
    expect(members.map((u) => u.id).sort()).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => i % 3 === 1)
        .map(uid),
    );
    const byEmail = await workos().directorySync.listDirectoryUsers({ directoryId: D, email: `${uid(9)}@example.com` });
    expect(byEmail.data.map((u) => u.id)).toEqual([uid(9)]);
    const byIdp = await workos().directorySync.listDirectoryUsers({ directoryId: D, idpId: `idp_${uid(11)}` });
    expect(byIdp.data.map((u) => u.id)).toEqual([uid(11)]);
  });

  it("gets a user and a group of the directory", async () => {
    const u = await workos().directorySync.getDirectoryUser({ directoryId: D, userId: uid(4) });
    expect(u).toMatchObject({ id: uid(4), directoryId: D, email: `${uid(4)}@example.com` });
    expect(u).not.toHaveProperty("groups");
    const g = await workos().directorySync.getDirectoryGroup({ directoryId: D, groupId: groups[2]?.id as string });
    expect(g).toMatchObject({ id: groups[2]?.id, name: "Team 2", directoryId: D });
  });

  it("lists a directory's groups, and a user's groups", async () => {
    const all = await workos().directorySync.listDirectoryGroups({ directoryId: D, order: "asc" });
    expect(all.data.map((g) => g.id)).toEqual(groups.map((g) => g.id));
    const mine = await workos().directorySync.listDirectoryGroups({ directoryId: D, user: uid(2) });
    expect(mine.data.map((g) => g.id)).toEqual([groups[2]?.id]);
  });

  it("answers a record of another directory, and an unknown directory, as not found", async () => {
    const elsewhere = await workos()
      .directorySync.getDirectoryUser({ directoryId: D2, userId: uid(4) })
      .catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(sdk12.NotFoundException);
    const group = await workos()
      .directorySync.getDirectoryGroup({ directoryId: D2, groupId: groups[0]?.id as string })
      .catch((e: unknown) => e);
    expect(group).toBeInstanceOf(sdk12.NotFoundException);
    const unknown = await workos()
      .directorySync.listDirectoryUsers({ directoryId: "directory_nope", limit: 1 })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(sdk12.NotFoundException);
  });
});

describe("contract with WorkOS's OpenAPI document", () => {
  it("every object the cache serves conforms to the official schemas", async () => {
    const paths = [
      "/directories",
      "/directories?organization_id=org_E2E&limit=1",
      "/directories?search=corp",
      `/directories/${D}`,
      `/directory_users?directory=${D}&limit=100`,
      `/directory_users?directory=${D}&order=asc&after=${uid(10)}`,
      `/directory_users?group=${groups[1]?.id}&order=normal`,
      `/directory_users?directory=${D}&email=${uid(3)}@example.com`,
      `/directory_users/${uid(0)}`,
      `/directory_groups?directory=${D}`,
      `/directory_groups?user=${uid(1)}`,
      `/directory_groups/${groups[0]?.id}`,
      `/directories/${D}/users?limit=100`,
      `/directories/${D}/users?group=${groups[1]?.id}&order=asc`,
      `/directories/${D}/users/${uid(0)}`,
      `/directories/${D}/groups?user=${uid(1)}`,
      `/directories/${D}/groups/${groups[0]?.id}`,
      "/events?limit=100",
      "/events?events=dsync.group.user_added&organization_id=org_E2E",
    ];
    for (const path of paths) {
      const res = await raw(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toContain("application/json");
      assertConforms(schemaForPath(new URL(path, worker.url).pathname), await res.json(), path);
    }
  });

  it("the webhook fixtures fed to it conform to the official event schema", () => {
    expect(delivered.length).toBeGreaterThan(N);
    for (const e of delivered) assertConforms("EventSchema", { object: "event", ...e }, e.event);
  });
});
