import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { verifySignature } from "../../src/webhooks/verify";
import { directory, event, user } from "../support/events";
import { ADMIN_KEY } from "../support/settings";
import { waitFor } from "../support/wait";
import { deliverAll, json, settle } from "../support/worker";
import { admin } from "./helpers";

type Subscription = {
  id: string;
  url: string;
  secret?: string;
  backlog: number;
  delivered: number;
  last_success_at: string | null;
  last_failure: { status: number | null; error: string } | null;
};
type Delivery = { headers: Record<string, string>; body: string; status: number };

const subscriber = () => inject("subscriberUrl");
const received = async (name: string) =>
  (await (await fetch(`${subscriber()}/_subscriber/received?name=${name}`)).json()) as Delivery[];
const setStatus = (name: string, status: number) =>
  fetch(`${subscriber()}/_subscriber/status?name=${name}&status=${status}`);

function post(path: string, body: unknown) {
  return exports.default.fetch(`http://cache/admin${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function subscribe(name: string, org: string): Promise<Subscription> {
  const res = await post("/subscriptions", { url: `${subscriber()}/${name}`, organization_ids: [org] });
  expect(res.status).toBe(201);
  return json<Subscription>(res);
}

async function feedDirectory(D: string, org: string, users: number) {
  const events = [
    event("dsync.activated", directory(D, { organization_id: org })),
    ...Array.from({ length: users }, (_, i) =>
      event("dsync.user.created", user(`directory_user_${D.slice(-6)}_${i}`, D, { organization_id: org })),
    ),
  ];
  await deliverAll(events);
  await settle(D);
  return events;
}

describe("push subscriptions", () => {
  it("delivers each event a subscription wants, signed so WorkOS's and Standard Webhooks' verifiers accept it", async () => {
    const sub = await subscribe("a", "org_PUSH_A");
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // Shown once: never again.
    expect(await json<Subscription>(await admin(`/subscriptions/${sub.id}`))).not.toHaveProperty("secret");

    const events = await feedDirectory("directory_01PUSHA", "org_PUSH_A", 5);
    // Another organization's changes are not this subscription's.
    await feedDirectory("directory_01PUSHX", "org_PUSH_X", 2);
    const got = await waitFor(async () => {
      const r = await received("a");
      return r.length >= events.length ? r : undefined;
    }, "every delivery");
    const bodies = got.map(
      (d) => JSON.parse(d.body) as { id: string; event: string; data: { organization_id: string } },
    );
    expect(new Set(bodies.map((b) => b.id))).toEqual(new Set(events.map((e) => e.id)));
    for (const b of bodies) expect(b.data.organization_id).toBe("org_PUSH_A");
    for (const d of got) {
      const bytes = new TextEncoder().encode(d.body);
      const verdict = await verifySignature(
        bytes,
        d.headers["workos-signature"],
        [sub.secret as string],
        Date.now(),
        300_000,
      );
      expect(verdict).toEqual({ ok: true });
      // Standard Webhooks: v1,<base64 HMAC-SHA256 of id.timestamp.body> keyed with the secret's base64 part.
      const key = Uint8Array.from(atob((sub.secret as string).slice("whsec_".length)), (c) => c.charCodeAt(0));
      const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const signed = `${d.headers["webhook-id"]}.${d.headers["webhook-timestamp"]}.${d.body}`;
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(signed)));
      expect(d.headers["webhook-signature"]).toBe(`v1,${btoa(String.fromCharCode(...mac))}`);
      expect(d.headers["webhook-id"]).toBe(JSON.parse(d.body).id);
    }
    const state = await waitFor(async () => {
      const s = await json<Subscription>(await admin(`/subscriptions/${sub.id}`));
      return s.delivered >= events.length ? s : undefined;
    }, "the subscription's state");
    expect(state).toMatchObject({ backlog: 0, last_failure: null });
    expect(state.last_success_at).not.toBeNull();
  });

  it("keeps retrying a subscriber that is down, reports its failure, and delivers everything once it is back", async () => {
    await setStatus("b", 503);
    const sub = await subscribe("b", "org_PUSH_B");
    const events = await feedDirectory("directory_01PUSHB", "org_PUSH_B", 4);
    const failing = await waitFor(async () => {
      const s = await json<Subscription>(await admin(`/subscriptions/${sub.id}`));
      return s.last_failure?.status === 503 ? s : undefined;
    }, "a reported failure");
    expect(failing.backlog).toBe(events.length);
    expect(failing.last_failure?.error).toContain("503");
    await setStatus("b", 200);
    const done = await waitFor(async () => {
      const s = await json<Subscription>(await admin(`/subscriptions/${sub.id}`));
      return s.backlog === 0 ? s : undefined;
    }, "the backlog delivered");
    expect(done.delivered).toBe(events.length);
    const ok = (await received("b")).filter((d) => d.status === 200).map((d) => JSON.parse(d.body).id as string);
    expect(new Set(ok)).toEqual(new Set(events.map((e) => e.id)));
  });

  it("delivers to one subscriber while another hangs: each delivery is on its own", async () => {
    await setStatus("slow", 0);
    const slow = await subscribe("slow", "org_PUSH_E");
    const fast = await subscribe("fast", "org_PUSH_E");
    const events = await feedDirectory("directory_01PUSHE", "org_PUSH_E", 3);
    const done = await waitFor(async () => {
      const s = await json<Subscription>(await admin(`/subscriptions/${fast.id}`));
      return s.delivered === events.length ? s : undefined;
    }, "the fast subscriber's deliveries");
    expect(done.backlog).toBe(0);
    const hung = await waitFor(async () => {
      const s = await json<Subscription>(await admin(`/subscriptions/${slow.id}`));
      return s.last_failure ? s : undefined;
    }, "the hung subscriber's timeout");
    expect(hung).toMatchObject({ delivered: 0, last_failure: { status: null, error: "no answer within 2000 ms" } });
    await setStatus("slow", 200);
  });

  it("dead-letters a delivery that fails past its retries, counting it and keeping the last failure", async () => {
    await setStatus("c", 500);
    const sub = await subscribe("c", "org_PUSH_C");
    const events = await feedDirectory("directory_01PUSHC", "org_PUSH_C", 1);
    const dead = await waitFor(async () => {
      const s = await json<Subscription & { dead: number }>(await admin(`/subscriptions/${sub.id}`));
      return s.dead === events.length ? s : undefined;
    }, "the deliveries dead-lettered");
    expect(dead).toMatchObject({ backlog: 0, delivered: 0, last_failure: { status: 500 } });
    // The first attempt and its 3 retries, each delivery.
    expect((await received("c")).length).toBe(events.length * 4);
  });

  it("holds a paused subscription's deliveries and sends them once it is resumed", async () => {
    const sub = await subscribe("d", "org_PUSH_D");
    expect((await post(`/subscriptions/${sub.id}/pause`, {})).status).toBe(200);
    const events = await feedDirectory("directory_01PUSHD", "org_PUSH_D", 2);
    // Paused: the feed moves on, nothing is queued for it.
    const paused = await json<Subscription & { position: number }>(await admin(`/subscriptions/${sub.id}`));
    expect(paused).toMatchObject({ backlog: 0, delivered: 0 });
    expect((await received("d")).length).toBe(0);
    expect((await post(`/subscriptions/${sub.id}/resume`, {})).status).toBe(200);
    const got = await waitFor(async () => {
      const r = await received("d");
      return r.length >= events.length ? r : undefined;
    }, "the held deliveries");
    expect(new Set(got.map((d) => JSON.parse(d.body).id))).toEqual(new Set(events.map((e) => e.id)));
  });

  it("refuses targets that are not https to a public host, and manages subscriptions", async () => {
    for (const url of [
      "http://example.com/hook",
      "https://10.1.2.3/hook",
      "https://192.168.0.10/hook",
      "https://169.254.169.254/latest",
      "https://[::1]/hook",
      "https://localhost/hook",
      "https://user:pass@example.com/hook",
      "ftp://example.com",
    ]) {
      const res = await post("/subscriptions", { url });
      expect(res.status, url).toBe(422);
      expect(await res.json()).toMatchObject({ code: "invalid_request_parameters", errors: [{ field: "url" }] });
    }
    const created = await json<Subscription>(await post("/subscriptions", { url: "https://hooks.example.com/x" }));
    const rotated = await json<Subscription>(await post(`/subscriptions/${created.id}/rotate`, {}));
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect((await post(`/subscriptions/${created.id}/pause`, {})).status).toBe(200);
    const listed = await json<{ data: Subscription[] }>(await admin("/subscriptions"));
    expect(listed.data.find((s) => s.id === created.id)).toMatchObject({ state: "paused" });
    for (const s of listed.data) expect(s).not.toHaveProperty("secret");
    const del = await exports.default.fetch(`http://cache/admin/subscriptions/${created.id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(del.status).toBe(204);
    expect((await admin(`/subscriptions/${created.id}`)).status).toBe(404);
  });
});
