/**
 * End to end: push subscriptions on the deployable bundle (local Queues and Durable Objects),
 * delivering to a real consumer process over HTTP, which verifies every delivery with the
 * official SDK's `webhooks.constructEvent`, unchanged.
 */
import * as sdk11 from "@workos-inc/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sdk12 from "workos-node-12";
import { directory, event, user, type WebhookEvent } from "../support/events";
import { postWebhook, type RunningWorker, startWorker } from "../support/server";
import { ADMIN_KEY, TEST_SETTINGS } from "../support/settings";
import { type Delivery, Subscriber } from "../support/subscriber";
import { waitFor } from "../support/wait";

let worker: RunningWorker;
const consumer = new Subscriber();
let consumerUrl: string;

beforeAll(async () => {
  worker = await startWorker({
    ...TEST_SETTINGS,
    ADMIN_API_KEYS: ADMIN_KEY,
    PUSH_ALLOW_HTTP_LOCALHOST: "true",
    PUSH_RETRY_BASE_SECONDS: "1",
  });
  consumerUrl = await consumer.listen();
}, 120_000);

afterAll(async () => {
  await worker?.dispose();
  await consumer.close();
});

async function post(e: WebhookEvent) {
  expect((await postWebhook(worker, e)).status).toBe(200);
}

const adminFetch = (path: string, init: RequestInit = {}) =>
  fetch(new URL(`/admin${path}`, worker.url), {
    ...init,
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" },
  });
const received = async (name: string) =>
  (await (await fetch(`${consumerUrl}/_subscriber/received?name=${name}`)).json()) as Delivery[];

describe("push subscriptions, end to end", () => {
  it("a consumer that was down gets every event once it is back, each verified by constructEvent", async () => {
    await fetch(`${consumerUrl}/_subscriber/status?name=svc&status=503`);
    const res = await adminFetch("/subscriptions", {
      method: "POST",
      body: JSON.stringify({ url: `${consumerUrl}/svc`, events: ["dsync.activated", "dsync.user.created"] }),
    });
    expect(res.status).toBe(201);
    const { secret } = (await res.json()) as { secret: string };

    const D = "directory_01E2EPUSH";
    const events = [
      event("dsync.activated", directory(D, { organization_id: "org_E2E_PUSH" })),
      ...[0, 1, 2].map((i) =>
        event("dsync.user.created", user(`directory_user_e2epush_${i}`, D, { organization_id: "org_E2E_PUSH" })),
      ),
    ];
    for (const e of events) await post(e);
    await waitFor(
      async () => ((await received("svc")).some((d) => d.status === 503) ? true : undefined),
      "a refused delivery",
      30_000,
    );
    await fetch(`${consumerUrl}/_subscriber/status?name=svc&status=200`);
    const delivered = await waitFor(
      async () => {
        const ok = (await received("svc")).filter((d) => d.status === 200);
        return new Set(ok.map((d) => JSON.parse(d.body).id)).size >= events.length ? ok : undefined;
      },
      "every event delivered",
      60_000,
    );
    for (const [name, sdk] of [
      ["11.0.0", sdk11],
      ["12.3.0", sdk12],
    ] as const) {
      const workos = new sdk.WorkOS("sk_test_unused");
      for (const d of delivered) {
        const verified = await workos.webhooks.constructEvent({
          payload: d.body,
          sigHeader: d.headers["workos-signature"] as string,
          secret,
        });
        expect(
          events.map((e) => e.id),
          name,
        ).toContain(verified.id);
      }
      // A wrong secret is refused.
      await expect(
        workos.webhooks.constructEvent({
          payload: delivered[0]?.body as string,
          sigHeader: delivered[0]?.headers["workos-signature"] as string,
          secret: "whsec_wrong",
        }),
      ).rejects.toThrow();
    }
  });
});
