import { exports } from "cloudflare:workers";
import { group, iso, T0, user } from "../support/events";
import { ADMIN_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { waitFor } from "../support/wait";

export { waitFor };

export function admin(path: string, method = "GET", key = ADMIN_KEY) {
  return exports.default.fetch(`http://cache/admin${path}`, { method, headers: { Authorization: `Bearer ${key}` } });
}

export type SyncStatus = {
  state: string;
  phase: string;
  held: boolean;
  generation: number;
  pages: number;
  failures: number;
  lastError: string | null;
  counts: { users: number; groups: number; memberships: number; removed: number };
};

export async function syncStatus(directoryId: string): Promise<SyncStatus> {
  return (await (await admin(`/directories/${directoryId}/sync`)).json()) as SyncStatus;
}

/** Polls the writer's sync status until `done`. */
export async function waitForSync(directoryId: string, done: (s: SyncStatus) => boolean, limitMs = 60_000) {
  let last: SyncStatus | undefined;
  return waitFor(
    async () => {
      last = await syncStatus(directoryId);
      return done(last) ? last : undefined;
    },
    `the sync of ${directoryId} (last: ${JSON.stringify(last)})`,
    limitMs,
  );
}
export const complete =
  (generation = 1) =>
  (s: SyncStatus) =>
    s.state === "complete" && s.generation >= generation;

/** A directory at WorkOS: users, groups and memberships, as the stand-in will serve them. */
export function upstreamDirectory(id: string, users: number, groups: number, org = "org_01SYNC") {
  const uid = (i: number) => `directory_user_${id.slice(-6)}_${String(i).padStart(5, "0")}`;
  const gid = (i: number) => `directory_group_${id.slice(-6)}_${String(i).padStart(3, "0")}`;
  const dir = {
    object: "directory",
    id,
    organization_id: org,
    external_key: `ext_${id}`,
    type: "okta scim v2.0",
    state: "linked",
    name: `Synced ${id}`,
    domain: "example.com",
    created_at: iso(T0),
    updated_at: iso(T0),
  };
  const gs = Array.from({ length: groups }, (_, i) =>
    group(gid(i), id, { organization_id: org, created_at: iso(T0 + i * 10), updated_at: iso(T0 + i * 10) }),
  );
  const us = Array.from({ length: users }, (_, i) =>
    user(uid(i), id, {
      organization_id: org,
      state: i % 10 === 0 ? "inactive" : "active",
      created_at: iso(T0 + i * 1000),
      updated_at: iso(T0 + i * 1000),
    }),
  );
  const memberships: [string, string][] = [];
  us.forEach((u, i) => {
    memberships.push([u.id, gid(i % groups)]);
    if (i % 7 === 0) memberships.push([u.id, gid((i + 5) % groups)]);
  });
  return { dir, users: us, groups: gs, memberships, uid, gid };
}

export async function publish(d: ReturnType<typeof upstreamDirectory>) {
  await standin.put({ directories: [d.dir], groups: d.groups, emptyUserGroups: [d.dir.id] });
  for (let i = 0; i < d.users.length; i += 500) await standin.put({ users: d.users.slice(i, i + 500) });
  await standin.put({ memberships: d.memberships });
}
