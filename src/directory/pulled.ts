import * as v from "valibot";
import type { Directory } from "../schemas/directory";
import { EventDirectory } from "../schemas/directory";
import type { DsyncEvent } from "../schemas/events";
import type { DirectoryGroup } from "../schemas/group";
import { DirectoryUser } from "../schemas/user";

/**
 * Snapshots pulled from the WorkOS API, expressed as the events they amount to, so pulled data
 * goes through the same pure apply as webhooks (same ordering rules, same tombstones). Their
 * event time is when they were fetched: a webhook event created later wins, an earlier one loses.
 */
type Source = { at: number; tag: string };

const ev = (event: DsyncEvent["event"], data: unknown, s: Source) =>
  ({ id: `pull_${s.tag}`, event, createdAt: s.at, data }) as DsyncEvent;

/** A REST user (with `groups`) as the event payload it corresponds to. */
export function userOf(rest: Record<string, unknown>): DirectoryUser {
  const { groups: _groups, ...user } = rest;
  return v.parse(DirectoryUser, user);
}

export const pulled = {
  directory: (d: Record<string, unknown>, s: Source) => {
    const { metadata: _counts, ...rest } = d;
    return ev("dsync.activated", v.parse(EventDirectory, rest), s);
  },
  user: (u: DirectoryUser, s: Source) => ev("dsync.user.updated", u, s),
  group: (g: DirectoryGroup, s: Source) => ev("dsync.group.updated", g, s),
  member: (u: DirectoryUser, g: DirectoryGroup, s: Source) =>
    ev("dsync.group.user_added", { directory_id: g.directory_id, user: u, group: g }, s),
  userGone: (u: DirectoryUser, s: Source) => ev("dsync.user.deleted", u, s),
  groupGone: (g: DirectoryGroup, s: Source) => ev("dsync.group.deleted", g, s),
  memberGone: (u: DirectoryUser, g: DirectoryGroup, s: Source) =>
    ev("dsync.group.user_removed", { directory_id: g.directory_id, user: u, group: g }, s),
  directoryGone: (d: Directory, s: Source) => ev("dsync.deleted", d, s),
};
