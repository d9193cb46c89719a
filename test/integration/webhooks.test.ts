import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { SqliteStore } from "../../src/directory/sqlite-store";
import { MAX_WEBHOOK_BYTES } from "../../src/routes/webhooks";
import { directory, event, group, iso, membership, T0, user } from "../support/events";
import { PREVIOUS_WEBHOOK_SECRET } from "../support/settings";
import { signatureHeader } from "../support/sign";
import { deliver, get, settle } from "../support/worker";

const D = "directory_01HOOKS";

async function status(res: Response) {
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe("POST /webhooks/workos", () => {
  it("applies a signed event, then dedupes it by id and ignores an older change", async () => {
    const u = user("directory_user_h1", D, { updated_at: iso(T0 + 5000) });
    const created = event("dsync.user.created", u);
    expect(await status(await deliver(created))).toMatchObject({
      status: 200,
      body: { status: "applied", event_id: created.id },
    });
    expect(await status(await deliver(created))).toMatchObject({ status: 200, body: { status: "duplicate" } });
    const older = event("dsync.user.updated", { ...u, first_name: "Older", updated_at: iso(T0) });
    expect(await status(await deliver(older))).toMatchObject({ status: 200, body: { status: "stale" } });
    await settle(D);
    const served = (await (await get("/directory_users/directory_user_h1")).json()) as {
      first_name: string;
      groups: [];
    };
    expect(served).toMatchObject({ first_name: "Lela", groups: [] });
  });

  it("accepts the previous secret during rotation and the header without a space", async () => {
    const body = JSON.stringify(event("dsync.group.created", group("directory_group_h1", D)));
    expect((await deliver(body, { secret: PREVIOUS_WEBHOOK_SECRET })).status).toBe(200);
    const noSpace = await signatureHeader(body, "whsec_test_current", Date.now(), false);
    expect((await deliver(body, { header: noSpace })).status).toBe(200);
  });

  it("refuses forged, stale, future and unsigned deliveries with 401 and records nothing", async () => {
    const e = event("dsync.user.created", user("directory_user_forged", D));
    const body = JSON.stringify(e);
    for (const res of [
      await deliver(body, { secret: "whsec_attacker" }),
      await deliver(body, { t: Date.now() - 181_000 }),
      await deliver(body, { t: Date.now() + 181_000 }),
      await deliver(body, { header: "t=1, v1=abc" }),
      await exports.default.fetch("http://cache/webhooks/workos", { method: "POST", body }),
    ]) {
      const s = await status(res);
      expect(s).toMatchObject({ status: 401, type: "application/json", body: { code: "invalid_signature" } });
    }
    // The signature covers the exact bytes: a re-serialised body no longer verifies.
    const header = await signatureHeader(body, "whsec_test_current");
    expect((await deliver(JSON.stringify(e, null, 2), { header })).status).toBe(401);
    await settle(D);
    expect((await get("/directory_users/directory_user_forged")).status).toBe(404);
  });

  it("answers 413 past 1 MiB, with or without a Content-Length", async () => {
    const big = JSON.stringify(
      event(
        "dsync.user.created",
        user("directory_user_big", D, { raw_attributes: { pad: "x".repeat(MAX_WEBHOOK_BYTES) } }),
      ),
    );
    expect((await status(await deliver(big))).status).toBe(413);
    const stream = new Blob([big]).stream();
    const res = await exports.default.fetch("http://cache/webhooks/workos", {
      method: "POST",
      headers: { "WorkOS-Signature": await signatureHeader(big, "whsec_test_current") },
      body: stream,
    });
    expect(await status(res)).toMatchObject({ status: 413, body: { code: "payload_too_large" } });
  });

  it("answers 400 for invalid JSON and 422 for an event that fails its schema", async () => {
    expect(await status(await deliver("{not json"))).toMatchObject({ status: 400, body: { code: "invalid_json" } });
    const noId = { event: "dsync.user.created", data: user("u", D), created_at: iso(T0) };
    expect(await status(await deliver(JSON.stringify(noId)))).toMatchObject({
      status: 422,
      body: { code: "invalid_event" },
    });
    const badUser = event("dsync.user.created", { ...user("directory_user_bad", D), state: "sleeping", id: undefined });
    const s = await status(await deliver(badUser));
    expect(s.status).toBe(422);
    expect(s.body.message).toContain("dsync.user.created data");
    expect(s.body.message).toContain("id");
    expect(s.body.message).toContain("state");
  });

  it("acknowledges token events and ignores unknown event types with 2xx", async () => {
    const token = event("dsync.token.created", {
      object: "directory_token",
      id: "t1",
      directory_id: D,
      token_suffix: "abcd",
      created_at: iso(T0),
    });
    expect(await status(await deliver(token))).toMatchObject({ status: 200, body: { status: "acknowledged" } });
    expect(await status(await deliver(event("connection.activated", { id: "conn_1" })))).toMatchObject({
      status: 200,
      body: { status: "ignored" },
    });
  });

  it("refuses every delivery with 503 when no secret is configured", async () => {
    const body = JSON.stringify(event("dsync.user.created", user("directory_user_nosecret", D)));
    const res = await app.request(
      "/webhooks/workos",
      { method: "POST", body, headers: { "WorkOS-Signature": await signatureHeader(body, "whsec_test_current") } },
      { ...env, WORKOS_WEBHOOK_SECRET: undefined },
    );
    expect(await status(res)).toMatchObject({ status: 503, body: { code: "webhooks_disabled" } });
  });

  it("answers 5xx when the writer cannot record the event, and applies the retry", async () => {
    const FAIL = "directory_01FAILING";
    const e = event("dsync.user.created", user("directory_user_retry", FAIL));
    const stub = env.DIRECTORY.getByName(FAIL);
    // Fault injection into the real object: its storage write throws once.
    await runInDurableObject(stub, (instance) => {
      const store = (instance as unknown as { store: SqliteStore }).store;
      const original = store.recordSeen.bind(store);
      store.recordSeen = () => {
        store.recordSeen = original;
        throw new Error("simulated storage failure");
      };
    });
    const failed = await status(await deliver(e));
    expect(failed).toMatchObject({ status: 503, body: { code: "not_recorded" } });
    expect(await status(await deliver(e))).toMatchObject({ status: 200, body: { status: "applied" } });
  });

  it("reflects a delivered membership in reads once flushed, with counts kept current", async () => {
    const DIR = "directory_01FLOW";
    const u = user("directory_user_f1", DIR);
    const g = group("directory_group_f1", DIR);
    for (const e of [event("dsync.activated", directory(DIR)), membership("dsync.group.user_added", u, g)]) {
      expect((await deliver(e)).status).toBe(200);
    }
    await settle(DIR);
    const dir = (await (await get(`/directories/${DIR}`)).json()) as { metadata: unknown };
    expect(dir.metadata).toEqual({ users: { active: 1, inactive: 0 }, groups: 1 });
    const members = (await (await get(`/directory_users?group=${g.id}`)).json()) as { data: { id: string }[] };
    expect(members.data.map((x) => x.id)).toEqual([u.id]);

    expect((await deliver(event("dsync.group.deleted", { ...g, updated_at: iso(T0 + 1) }, T0 + 1))).status).toBe(200);
    await settle(DIR);
    const after = (await (await get(`/directory_users/${u.id}`)).json()) as { groups: unknown[] };
    expect(after.groups).toEqual([]);
    expect((await get(`/directory_groups/${g.id}`)).status).toBe(404);
    expect(((await (await get(`/directories/${DIR}`)).json()) as { metadata: unknown }).metadata).toEqual({
      users: { active: 1, inactive: 0 },
      groups: 0,
    });
  });
});
