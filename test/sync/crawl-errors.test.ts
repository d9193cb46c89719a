import { describe, expect, it } from "vitest";
import { directory, event } from "../support/events";
import { standin } from "../support/standin-client";
import { deliver } from "../support/worker";
import { complete, publish, syncStatus, upstreamDirectory, waitForSync } from "./helpers";

/** A crawl that meets an error retrying cannot fix must still end (issue 13, item 3). */
describe("a crawl meeting a permanent error", () => {
  it("skips a group WorkOS no longer has, and completes", async () => {
    const d = upstreamDirectory("directory_01GROUPGONE", 12, 3);
    await publish(d);
    const members = `/directory_users?group=${d.gid(1)}`;
    await standin.fault({ match: members, mode: "status", status: 404 });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    const s = await waitForSync(d.dir.id, complete(), 30_000);
    expect(s).toMatchObject({ held: true, counts: { groups: 3, users: 12 } });
    expect((await syncStatus(d.dir.id)).lastError).toContain("404");
    await standin.clearFaults(members);
  });

  it("starts a new generation when WorkOS no longer knows its cursor, and completes", async () => {
    const d = upstreamDirectory("directory_01CURSORGONE", 150, 2);
    await publish(d);
    const next = `/directory_users?directory=${d.dir.id}&limit=100&order=asc&after=`;
    await standin.fault({ match: next, mode: "status", status: 422, times: 1 });
    expect((await deliver(event("dsync.activated", directory(d.dir.id)))).status).toBe(200);
    const s = await waitForSync(d.dir.id, complete(2), 30_000);
    expect(s).toMatchObject({ held: true, generation: 2, counts: { users: 150, removed: 0 } });
    expect((await standin.stats("", next)).requests).toBe(2);
  });
});
