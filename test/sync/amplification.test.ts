import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory, event } from "../support/events";
import { standin } from "../support/standin-client";
import { deliver, get, json, settle } from "../support/worker";
import { admin, complete, publish, syncStatus, upstreamDirectory, waitForSync } from "./helpers";

type List = { data: unknown[]; list_metadata: { before: string | null; after: string | null } };

describe("reads never amplify into WorkOS", () => {
  it("costs WorkOS one request per unknown directory id, however many reads name it, and creates no writer", async () => {
    const ids = Array.from({ length: 4 }, (_, i) => `directory_01NOWHERE${i}`);
    for (let round = 0; round < 5; round++) {
      for (const id of ids) {
        for (const path of [`/directory_users?directory=${id}`, `/directory_groups?directory=${id}`]) {
          const res = await get(path);
          expect(res.status, path).toBe(200);
          expect(await json<List>(res)).toEqual({
            object: "list",
            data: [],
            list_metadata: { before: null, after: null },
          });
        }
        for (const path of [`/directories/${id}/users`, `/directories/${id}/groups`, `/directories/${id}`]) {
          const res = await get(path);
          expect(res.status, path).toBe(404);
          expect(await json(res)).toMatchObject({ code: "entity_not_found", entity_id: id });
        }
      }
    }
    for (const id of ids) {
      expect((await standin.stats("", id)).requests, id).toBe(1);
      // Nothing was claimed, crawled or scheduled for it.
      const status = await env.DIRECTORY.getByName(id).status();
      expect(status).toMatchObject({ directoryId: null, sync: { state: "idle", generation: 0 } });
    }
  });

  it("remembers in the writer too: a directory WorkOS does not know is looked up once, whoever asks", async () => {
    const id = "directory_01NOWHERE_DO";
    const stub = env.DIRECTORY.getByName(id);
    for (let i = 0; i < 5; i++) expect(await stub.requestSync(id, "list")).toBeNull();
    expect((await standin.stats("", id)).requests).toBe(1);
    expect(await stub.status()).toMatchObject({ directoryId: null });
    // An admin asking to crawl it is told WorkOS does not know it, and nothing starts.
    const res = await admin(`/directories/${id}/sync`, "POST");
    expect(res.status).toBe(404);
    expect((await stub.status()).sync.generation).toBe(0);
  });

  it("does not restart, on reads, a crawl that found its directory gone at WorkOS", async () => {
    const D = "directory_01GONEUP";
    // Activated by webhook, but WorkOS no longer has it: the crawl fails for good.
    expect((await deliver(event("dsync.activated", directory(D)))).status).toBe(200);
    await waitForSync(D, (s) => s.state === "failed");
    await settle(D);
    const before = (await standin.stats("", D)).requests;
    for (let i = 0; i < 10; i++) {
      const res = await get(`/directory_users?directory=${D}`);
      expect(res.status).toBe(200);
      expect((await json<List>(res)).data).toEqual([]);
    }
    // At most the one relayed list before the writer's answer was remembered.
    expect((await standin.stats("", D)).requests - before).toBeLessThanOrEqual(1);
    expect((await syncStatus(D)).generation).toBe(1);
  });

  it("holds a failing crawl's backoff against reads, and lets the admin call restart it", async () => {
    const d = upstreamDirectory("directory_01BACKOFF", 10, 2);
    await publish(d);
    const groups = `/directory_groups?directory=${d.dir.id}`;
    // A permanent refusal (not retried by the client): each crawl attempt is one request.
    await standin.fault({ match: groups, mode: "status", status: 422 });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    // After the second failure the crawl waits 15 s before its next attempt.
    const failing = await waitForSync(d.dir.id, (s) => s.failures >= 2);
    const attempts = (await standin.stats("", groups)).requests;
    for (let i = 0; i < 10; i++) expect((await get(`/directory_users?directory=${d.dir.id}`)).status).toBe(200);
    expect((await standin.stats("", groups)).requests).toBe(attempts);

    await standin.clearFaults(groups);
    const restarted = await json<{ generation: number; state: string }>(
      await admin(`/directories/${d.dir.id}/sync`, "POST"),
    );
    expect(restarted).toMatchObject({ state: "running", generation: failing.generation + 1 });
    await waitForSync(d.dir.id, complete(failing.generation + 1));
  });
});
