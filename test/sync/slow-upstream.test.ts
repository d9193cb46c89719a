import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/kv/keys";
import { event, iso, membership, user } from "../support/events";
import { standin } from "../support/standin-client";
import { deliver, get, settle } from "../support/worker";
import { admin, complete, publish, upstreamDirectory, waitFor, waitForSync } from "./helpers";

describe("a slow WorkOS", () => {
  it("never delays a webhook's change reaching KV while a crawl waits on it", async () => {
    const d = upstreamDirectory("directory_01SLOWUP", 20, 2);
    await publish(d);
    const usersPage = `/directory_users?directory=${d.dir.id}`;
    await standin.fault({ match: usersPage, mode: "hold", times: 1 });
    expect((await admin(`/directories/${d.dir.id}/sync`, "POST")).status).toBe(202);
    await waitFor(async () => ((await standin.stats()).holding === 1 ? true : undefined), "the crawl's users request");

    const fresh = user("directory_user_slowup_fresh", d.dir.id, { organization_id: d.dir.organization_id });
    const now = Date.now();
    const res = await deliver(
      event("dsync.user.created", { ...fresh, created_at: iso(now), updated_at: iso(now) }, now),
    );
    expect(res.status).toBe(200);
    await waitFor(async () => (await env.CACHE.get(kvKeys.user(fresh.id))) ?? undefined, "the user in KV");
    // The crawl is still on its first users request: it neither returned nor timed out and retried.
    expect((await standin.stats("", usersPage)).requests).toBe(1);

    await standin.unhold();
    await standin.clearFaults(usersPage);
    await waitForSync(d.dir.id, complete());
  });
});

describe("a snapshot in flight", () => {
  it("loses to a change WorkOS made while its request was in flight", async () => {
    const d = upstreamDirectory("directory_01INFLIGHT", 6, 2);
    await publish(d);
    const [userId, groupId] = d.memberships[0] as [string, string];
    const members = `/directory_users?group=${groupId}`;
    await standin.fault({ match: members, mode: "hold", times: 1 });
    expect((await admin(`/directories/${d.dir.id}/sync`, "POST")).status).toBe(202);
    await waitFor(async () => ((await standin.stats()).holding === 1 ? true : undefined), "the members request");

    // WorkOS answered (the page still lists the user), then removed the user from the group
    // before the answer arrived. The stand-in computes the page on release: keep the membership
    // there, as the page had been computed before the removal.
    const u = d.users.find((x) => x.id === userId) as (typeof d.users)[number];
    const g = d.groups.find((x) => x.id === groupId) as (typeof d.groups)[number];
    const now = Date.now();
    expect((await deliver(membership("dsync.group.user_removed", u, g, now))).status).toBe(200);
    await standin.unhold();
    await standin.clearFaults(members);
    await waitForSync(d.dir.id, complete());
    await settle(d.dir.id);

    const groups = (await (await get(`/directory_groups?user=${userId}`)).json()) as { data: { id: string }[] };
    expect(groups.data.map((x) => x.id)).not.toContain(groupId);
  });
});
