import { describe, expect, it } from "vitest";
import { directory, event } from "../support/events";
import { standin } from "../support/standin-client";
import { deliver, get, metered, settle } from "../support/worker";
import { complete, publish, syncStatus, upstreamDirectory, waitForSync } from "./helpers";

type List = { data: { id: string; groups: { id: string }[] }[]; list_metadata: { after: string | null } };

describe("backfill", () => {
  it("activating a 1,000-user directory yields a complete, correct cache within the rate limit", async () => {
    const d = upstreamDirectory("directory_01BACKFILL", 1000, 12);
    await publish(d);
    const res = await deliver(
      event("dsync.activated", directory(d.dir.id, { organization_id: d.dir.organization_id })),
    );
    expect(res.status).toBe(200);

    const status = await waitForSync(d.dir.id, complete());
    expect(status).toMatchObject({
      held: true,
      counts: { users: 1000, groups: 12, memberships: d.memberships.length, removed: 0 },
    });
    expect((await standin.stats(d.dir.id)).rateLimited).toBe(0);
    await settle(d.dir.id);

    // Everything below is served from KV: WorkOS sees no further request.
    const before = (await standin.stats("", "CKFILL")).requests;
    const dir = (await (await get(`/directories/${d.dir.id}`)).json()) as { metadata: unknown; state: string };
    expect(dir).toMatchObject({ state: "linked", metadata: { users: { active: 900, inactive: 100 }, groups: 12 } });

    const expectedGroups = new Map<string, string[]>();
    for (const [u, g] of d.memberships) expectedGroups.set(u, [...(expectedGroups.get(u) ?? []), g].sort());
    const seen = new Map<string, string[]>();
    let after: string | null = null;
    do {
      const { res: page, ops } = await metered(
        `/directory_users?directory=${d.dir.id}&limit=100${after ? `&after=${after}` : ""}`,
      );
      expect(ops).toBeLessThanOrEqual(3);
      const body = (await page.json()) as List;
      for (const u of body.data) seen.set(u.id, u.groups.map((g) => g.id).sort());
      after = body.list_metadata.after;
    } while (after);
    expect(seen.size).toBe(1000);
    expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(expectedGroups));

    const members = (await (await get(`/directory_users?group=${d.gid(5)}&limit=100`)).json()) as List;
    const expectedMembers = d.memberships.filter(([, g]) => g === d.gid(5)).map(([u]) => u);
    expect(members.data.map((u) => u.id).sort()).toEqual(expectedMembers.sort().slice(0, 100));
    expect((await standin.stats("", "CKFILL")).requests).toBe(before);
    expect((await syncStatus(d.dir.id)).failures).toBe(0);
  });
});
