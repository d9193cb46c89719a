import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { loadConfig } from "../../src/config";

/** Settings apply per isolate when read; put the test settings' log level back. */
const loadConfigFor = (e: typeof env) => loadConfig({ ...e });

import type { DirectoryActivity, Status } from "../../src/schemas/ops";
import { directory, event, group, iso, membership, T0, user } from "../support/events";
import { READ_KEY, TEST_SETTINGS, WEBHOOK_SECRET } from "../support/settings";
import { waitFor } from "../support/wait";
import { deliver, get, json, settle } from "../support/worker";

const ADMIN = "sk_test_ops_admin";
const withAdmin = { ...env, ADMIN_API_KEYS: ADMIN };
const asAdmin = (path: string) => app.request(path, { headers: { Authorization: `Bearer ${ADMIN}` } }, withAdmin);

describe("operations", () => {
  it("at LOG_LEVEL info, logs failed requests but not successful reads", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const quiet = { ...env, LOG_LEVEL: "info" };
    await app.request("/directories", { headers: { Authorization: `Bearer ${READ_KEY}` } }, quiet);
    await app.request("/directories", { headers: { Authorization: "Bearer nope" } }, quiet);
    const requests = lines
      .map((l) => JSON.parse(l) as { msg: string; status: number })
      .filter((l) => l.msg === "request");
    expect(requests.map((r) => r.status)).toEqual([401]);
    loadConfigFor(env);
  });

  it("logs a request's route pattern, never its raw path (an id can be anything, an email included)", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const typed = "someone.private@example.com";
    for (const path of [`/directory_users/${typed}`, `/directories/${typed}/groups`, `/nowhere/${typed}`])
      await app.request(path, { headers: { Authorization: `Bearer ${READ_KEY}` } }, env);
    const requests = lines
      .map((l) => JSON.parse(l) as { msg: string; route?: string })
      .filter((l) => l.msg === "request");
    expect(requests.map((r) => r.route)).toEqual(["/directory_users/:id", "/directories/:directoryId/groups", "/*"]);
    expect(lines.join("\n")).not.toContain("someone.private");
  });

  afterEach(() => vi.restoreAllMocks());

  it("GET /health answers without auth or storage, and says when settings are broken", async () => {
    const res = await exports.default.fetch("http://cache/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    const broken = await app.request("/health", {}, { ...env, API_KEYS: "a,,b" });
    expect(broken.status).toBe(503);
    expect(await broken.json()).toEqual({ status: "misconfigured" });
  });

  it("GET /openapi.json describes exactly the routes that exist", async () => {
    const doc = (await (await get("/openapi.json", null)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const routed = [
      ...new Set(
        app.routes
          .filter((r) => r.method !== "ALL")
          .map((r) => `${r.method} ${r.path.replace(/\/$/, "").replace(/:(\w+)(\{[^}]*\})?/g, "{$1}") || "/"}`),
      ),
    ].sort();
    expect(documented).toEqual(routed);
    expect(doc.components.schemas.DirectoryUserWithGroups).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["groups"]),
    });
    expect(JSON.stringify(doc)).not.toContain("#/$defs/");
  });

  it("GET /admin/status reports each directory's counts, last event, sync and pending writes", async () => {
    const D = "directory_01STATUS";
    await deliver(event("dsync.activated", directory(D)));
    const u = event("dsync.user.created", user("directory_user_st1", D));
    await deliver(u);
    await settle(D);
    const res = await asAdmin("/admin/status");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      pullEnabled: boolean;
      directories: {
        directoryId: string;
        counts: unknown;
        lastEvent: { id: string };
        pendingKvWrites: number;
        sync: { pullEnabled: boolean };
      }[];
    };
    expect(body.pullEnabled).toBe(false);
    const mine = body.directories.find((d) => d.directoryId === D);
    expect(mine).toMatchObject({
      counts: { active: 1, inactive: 0, groups: 0 },
      lastEvent: { id: u.id },
      pendingKvWrites: 0,
      sync: { pullEnabled: false },
    });
    const asReader = await app.request(
      "/admin/status",
      { headers: { Authorization: `Bearer ${READ_KEY}` } },
      withAdmin,
    );
    expect(asReader.status).toBe(403);
  });

  it("counts each webhook's outcome over 24 h, and charts a directory's changes, KV writes and lag", async () => {
    const D = "directory_01INTAKE";
    const status = async () => json<Status>(await asAdmin("/admin/status"));
    const before = await status();
    const u = event("dsync.user.created", user("directory_user_in1", D, { updated_at: iso(T0 + 5000) }));
    expect((await deliver(event("dsync.activated", directory(D, { name: "Intake Co" })))).status).toBe(200);
    expect((await deliver(u)).status).toBe(200);
    expect((await deliver(u)).status).toBe(200); // the same event again: a duplicate
    // The same state under a new event id: applied, but it changes nothing.
    const again = await deliver(event("dsync.user.updated", u.data));
    expect(await again.json()).toMatchObject({ status: "applied" });
    const older = event("dsync.user.updated", user("directory_user_in1", D, { updated_at: iso(T0) }));
    expect((await deliver(older)).status).toBe(200); // older than what is held: stale
    expect((await deliver(u, { secret: "whsec_not_the_secret" })).status).toBe(401);
    expect((await deliver("{not json")).status).toBe(400);
    expect((await deliver(event("user.created", { id: "user_1" }))).status).toBe(200); // not a dsync event

    // Before the writer flushed: a change waits for KV, and says since when.
    const waiting = (await status()).directories.find((d) => d.directoryId === D);
    expect(waiting?.pendingKvWrites).toBeGreaterThan(0);
    expect(waiting?.oldestPendingWriteAgeMs).toEqual(expect.any(Number));
    await settle(D);

    // Refusals reach the registry after the answer (counted per isolate, handed over in the background).
    const after = await waitFor(async () => {
      const s = await status();
      const refused = (code: string) => (s.webhooks.refused[code] ?? 0) - (before.webhooks.refused[code] ?? 0);
      return refused("invalid_signature") === 1 && refused("invalid_json") === 1 ? s : undefined;
    }, "the refused webhooks counted");
    expect(after.webhooks.windowHours).toBe(24);
    expect(after.webhooks.applied - before.webhooks.applied).toBe(3);
    expect(after.webhooks.duplicate - before.webhooks.duplicate).toBe(1);
    expect(after.webhooks.stale - before.webhooks.stale).toBe(1);
    expect((after.webhooks.notApplied.ignored ?? 0) - (before.webhooks.notApplied.ignored ?? 0)).toBe(1);
    const mine = after.directories.find((d) => d.directoryId === D);
    expect(mine).toMatchObject({
      directory: { name: "Intake Co", organizationId: "org_01TEST", state: "linked", deleted: false },
      pendingKvWrites: 0,
      oldestPendingWriteAgeMs: null,
      last24h: { changes: 2, webhooks: { applied: 3, stale: 1, duplicate: 1 } },
    });
    expect(mine?.last24h.kvWrites).toBeGreaterThan(0);

    const res = await asAdmin(`/admin/directories/${D}/activity`);
    expect(res.status).toBe(200);
    const chart = await json<DirectoryActivity>(res);
    expect(chart.bucketSeconds).toBe(300);
    expect(Date.parse(chart.to) - Date.parse(chart.from)).toBe(24 * 3600_000);
    const sum = (f: (b: DirectoryActivity["buckets"][number]) => number) => chart.buckets.reduce((n, b) => n + f(b), 0);
    expect(sum((b) => b.changes)).toBe(2);
    expect(sum((b) => b.webhooks.duplicate)).toBe(1);
    expect(sum((b) => b.kvWrites)).toBe(mine?.last24h.kvWrites);
    for (const b of chart.buckets) expect(Date.parse(b.at)).toBeGreaterThanOrEqual(Date.parse(chart.from));

    const unknown = await asAdmin("/admin/directories/directory_01NOPE/activity");
    expect(unknown.status).toBe(404);
  });

  it("pages through what a directory's writer holds, as served, for the console's browser", async () => {
    const D = "directory_01RECORDS";
    await deliver(event("dsync.activated", directory(D)));
    const hostile = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=1">';
    const g = group("directory_group_rec", D, { name: hostile });
    await deliver(event("dsync.group.created", g));
    const users = [0, 1, 2].map((i) => user(`directory_user_rec${i}`, D, { created_at: iso(T0 + i * 1000) }));
    for (const u of users) await deliver(event("dsync.user.created", u));
    await deliver(membership("dsync.group.user_added", users[0] as ReturnType<typeof user>, g));
    const page = async (query: string) => {
      const res = await asAdmin(`/admin/directories/${D}/records?${query}`);
      return {
        status: res.status,
        body: (await res.json()) as {
          data: { id: string; name?: string; groups?: { name: string }[] }[];
          list_metadata: { after: string | null };
        },
      };
    };
    await settle(D); // the registry lists the directory once its writer reported it
    const groups = await page("type=groups");
    expect(groups.body.data.map((r) => r.name)).toEqual([hostile]);
    const first = await page("type=users&limit=2");
    expect(first.body.data.map((r) => r.id)).toEqual(["directory_user_rec0", "directory_user_rec1"]);
    expect(first.body.data[0]?.groups?.map((x) => x.name)).toEqual([hostile]);
    const rest = await page(`type=users&limit=2&after=${encodeURIComponent(first.body.list_metadata.after ?? "")}`);
    expect(rest.body.data.map((r) => r.id)).toEqual(["directory_user_rec2"]);
    expect(rest.body.list_metadata.after).toBeNull();
    expect((await page("type=roles")).status).toBe(422);
    expect((await page("type=users&limit=101")).status).toBe(422);
  });

  it("logs one JSON line per request with its request id, and never a secret or a body", async () => {
    const lines: string[] = [];
    for (const method of ["log", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const secretBody = JSON.stringify(
      event("dsync.user.created", user("directory_user_logged", "directory_01LOGS", { first_name: "Confidential" })),
    );
    await deliver(secretBody);
    await deliver(secretBody, { secret: "whsec_wrong_secret_value" });
    await get("/directory_users?directory=directory_01LOGS&email=person@example.com");
    await get("/directories", "sk_wrong_key_value");
    await app.request(
      "/directories",
      { headers: { Authorization: `Bearer ${READ_KEY}` } },
      { ...env, API_KEYS: "sk_bad key" },
    );
    expect(lines.length).toBeGreaterThan(4);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = parsed.filter((l) => l.msg === "request");
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) expect(r.requestId).toMatch(/^req_/);
    const all = lines.join("\n");
    const secrets = [
      TEST_SETTINGS.API_KEYS,
      TEST_SETTINGS.WORKOS_WEBHOOK_SECRET,
      READ_KEY,
      "sk_test_reader_two",
      WEBHOOK_SECRET,
    ];
    for (const secret of [
      ...secrets,
      "whsec_test_previous",
      "whsec_wrong_secret_value",
      "sk_wrong_key_value",
      "Confidential",
      "person@example.com",
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
