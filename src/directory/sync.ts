import type { Config } from "../config";
import { log } from "../log";
import type { DsyncEvent } from "../schemas/events";
import type { DirectoryGroup } from "../schemas/group";
import type { BrakeDecision, SweepBrake, SyncStatus } from "../schemas/ops";
import { type InvalidRecord, UpstreamError, UpstreamShapeError, type WorkOSClient } from "../upstream/client";
import { pulled, userOf } from "./pulled";
import type { SqliteStore } from "./sqlite-store";

/** Pages of 100 (WorkOS's maximum), oldest first so cursors stay valid as new records arrive. */
const PAGE = { limit: 100, order: "asc" } as const;
/**
 * WorkOS allows 4 requests a second per directory on /directory_users; keep a margin (a
 * request can leave late when the object is busy, e.g. flushing to KV meanwhile).
 */
export const USERS_INTERVAL_MS = 300;
/** After the client's own retries give up, the crawl resumes later, backing off to 5 minutes. */
const RESUME_BACKOFF_MS = [5_000, 15_000, 60_000, 300_000];
/** New generations started in a row because WorkOS refused a cursor (422), before backing off. */
const MAX_RESTARTS = 3;

export type Phase = SyncStatus["phase"];
type Removals = ReturnType<SqliteStore["unseen"]>;

/** Whether removing `removing` of `live` is more than the brake allows: over its minimum and over its share. */
const exceeds = (removing: number, live: number, { percent, min }: Config["deletionBrake"]) =>
  removing > min && removing * 100 > live * percent;

const initial = (): SyncStatus => ({
  generation: 0,
  state: "idle",
  reason: null,
  phase: "done",
  cursor: null,
  group: null,
  startedAt: null,
  finishedAt: null,
  pages: 0,
  counts: { directories: 0, users: 0, groups: 0, memberships: 0, removed: 0 },
  lastError: null,
  lastErrorAt: null,
  failures: 0,
  restarts: 0,
  invalid: { records: 0, unidentified: 0 },
  held: false,
  brake: null,
});

const iso = (ms: number) => new Date(ms).toISOString();
const idsOf = (invalid: InvalidRecord[]) => invalid.flatMap((r) => (r.id === null ? [] : [r.id]));
const NO_REMOVALS: Removals = { users: [], groups: [], edges: [] };

/**
 * The crawl of one directory (backfill and reconcile are the same crawl): directory, groups,
 * users, then each group's members, then a sweep. Progress is saved after every page in the
 * same transaction as the page's records, so an interrupted crawl resumes where it stopped.
 * The sweep removes only what a complete crawl of this generation did not see and nothing has
 * changed since it began; a failing crawl never reaches it. A sweep that would remove more than
 * `brake` allows waits (`braked`) for an admin to apply or discard it; only a new generation or
 * that decision moves it on.
 */
export class Crawler {
  private usersNextAt = 0;

  constructor(
    private readonly store: SqliteStore,
    private readonly transaction: <T>(fn: () => T) => T,
    private readonly apply: (events: DsyncEvent[]) => void,
    private readonly onHeld: () => void,
    private readonly brake: Config["deletionBrake"],
  ) {}

  status(): SyncStatus {
    return { ...initial(), ...JSON.parse(this.store.getMeta("sync") ?? "{}") };
  }

  private save(s: SyncStatus) {
    this.store.setMeta("sync", JSON.stringify(s));
  }

  /**
   * Starts a new generation unless one is running (then it resumes now), or with `supersede`
   * whatever runs (an admin's restart: a crawl stuck on an error starts afresh; a page of the
   * old generation still in flight is dropped when it returns). Returns the status.
   */
  start(reason: string, now: number, supersede = false): SyncStatus {
    const s = this.status();
    if (s.state === "running" && !supersede) return s;
    const next: SyncStatus = {
      ...initial(),
      generation: s.generation + 1,
      state: "running",
      reason,
      phase: "directory",
      startedAt: iso(now),
      held: s.held,
    };
    this.save(next);
    return next;
  }

  /** Pacing for the per-directory limit on /directory_users. */
  pace = async (path: string) => {
    if (!path.startsWith("/directory_users")) return;
    const now = Date.now();
    const at = Math.max(now, this.usersNextAt);
    this.usersNextAt = at + USERS_INTERVAL_MS;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
    // Spaced from when this request actually leaves, not when it was planned to: one that
    // left late must not leave the next one closer to it than the interval.
    this.usersNextAt = Math.max(this.usersNextAt, Date.now() + USERS_INTERVAL_MS);
  };

  /**
   * Runs pages until `deadline`; returns when to run again (now-ish while work remains, later
   * after a failure), or null when the crawl is over.
   */
  async step(directoryId: string, client: WorkOSClient, deadline: number): Promise<number | null> {
    while (Date.now() < deadline) {
      const s = this.status();
      if (s.state !== "running") return null;
      try {
        await this.page(directoryId, client, s);
      } catch (err) {
        if (this.permanent(s, err)) continue;
        const failures = s.failures + 1;
        // The directory gone at WorkOS, or its record unreadable (nothing to crawl under): failed,
        // until a read (every GONE_RETRY_MS) or an admin starts it again.
        const gone =
          (err instanceof UpstreamError && err.status === 404) ||
          (err instanceof UpstreamShapeError && s.phase === "directory");
        this.save({
          ...this.status(),
          state: gone ? "failed" : "running",
          failures,
          lastError: err instanceof Error ? err.message : String(err),
          lastErrorAt: iso(Date.now()),
        });
        if (gone) return null;
        return Date.now() + (RESUME_BACKOFF_MS[Math.min(failures, RESUME_BACKOFF_MS.length) - 1] ?? 300_000);
      }
    }
    return this.status().state === "running" ? Date.now() : null;
  }

  /**
   * Handles an error that retrying the same request can never fix, and says whether it did:
   * - a group WorkOS no longer has (404 on its members): skip it, reported in lastError (its
   *   memberships go in this generation's sweep; the group itself in a later one);
   * - a cursor WorkOS no longer knows (422): start a new generation, at most MAX_RESTARTS
   *   times in a row (then it backs off like any failure, and an admin can restart it).
   * A 404 anywhere else means the directory is gone (the caller fails the crawl); anything
   * else is transient (the caller backs off).
   */
  private permanent(s: SyncStatus, err: unknown): boolean {
    if (!(err instanceof UpstreamError)) return false;
    const lastError = err.message;
    const lastErrorAt = iso(Date.now());
    if (err.status === 404 && s.phase === "members" && s.group) {
      const skipped = s.group;
      log.warn("crawl skipped a group WorkOS no longer has", { group: skipped, generation: String(s.generation) });
      this.commit(s, [], (n) => {
        n.group = this.nextGroup(skipped);
        n.cursor = null;
        if (!n.group) n.phase = "sweep";
        Object.assign(n, { lastError, lastErrorAt });
      });
      return true;
    }
    if (err.status === 422 && s.cursor !== null && s.restarts < MAX_RESTARTS) {
      log.warn("crawl restarted: WorkOS refused its cursor", { generation: String(s.generation), error: lastError });
      this.transaction(() => {
        const next = this.start(s.reason ?? "restart", Date.now(), true);
        this.save({ ...next, restarts: s.restarts + 1, lastError, lastErrorAt });
      });
      return true;
    }
    return false;
  }

  /** One unit of work: fetch a page, then apply it and advance the cursor in one transaction. */
  private async page(directoryId: string, client: WorkOSClient, s: SyncStatus) {
    const gen = s.generation;
    // Each snapshot is stamped with when its request was sent, not when the answer came back: a
    // change WorkOS made while the request was in flight (its event created meanwhile) must win.
    const src = (at: number) => ({ at, tag: `${gen}` });
    switch (s.phase) {
      case "directory": {
        const at = Date.now();
        const dir = await client.getDirectory(directoryId);
        this.commit(s, [pulled.directory(dir, src(at))], (n) => {
          n.phase = "groups";
          n.counts.directories = 1;
        });
        return;
      }
      case "groups": {
        const at = Date.now();
        const page = await client.listGroups({ directory: directoryId, ...PAGE, after: s.cursor ?? undefined });
        this.commit(
          s,
          page.data.map((g) => pulled.group(g, src(at))),
          (n) => {
            this.store.markSeen("dir_groups", [...page.data.map((g) => g.id), ...idsOf(page.invalid)], gen);
            this.setAside(n, "group", page.invalid);
            n.counts.groups += page.data.length;
            n.cursor = page.list_metadata.after;
            if (!n.cursor) n.phase = "users";
          },
        );
        return;
      }
      case "users": {
        const at = Date.now();
        const page = await client.listUsers({ directory: directoryId, ...PAGE, after: s.cursor ?? undefined });
        const users = page.data.map(userOf);
        this.commit(
          s,
          users.map((u) => pulled.user(u, src(at))),
          (n) => {
            this.store.markSeen("dir_users", [...users.map((u) => u.id), ...idsOf(page.invalid)], gen);
            this.setAside(n, "user", page.invalid);
            n.counts.users += users.length;
            n.cursor = page.list_metadata.after;
            if (!n.cursor) {
              n.phase = "members";
              n.group = this.nextGroup(null);
            }
          },
        );
        return;
      }
      case "members": {
        const groupId = s.group;
        const group = groupId ? this.store.group(groupId)?.data : null;
        if (!groupId || !group) {
          this.commit(s, [], (n) => {
            n.group = groupId ? this.nextGroup(groupId) : null;
            n.cursor = null;
            if (!n.group) n.phase = "sweep";
          });
          return;
        }
        // Memberships come from group-scoped listings: since May 2026 `groups` on listed users
        // is empty for new teams.
        const at = Date.now();
        const page = await client.listUsers({ group: groupId, ...PAGE, after: s.cursor ?? undefined });
        const users = page.data.map(userOf);
        this.commit(
          s,
          users.map((u) => pulled.member(u, group as DirectoryGroup, src(at))),
          (n) => {
            this.store.markMembersSeen(groupId, [...users.map((u) => u.id), ...idsOf(page.invalid)], gen);
            this.setAside(n, "member", page.invalid);
            n.counts.memberships += users.length;
            n.cursor = page.list_metadata.after;
            if (!n.cursor) {
              n.group = this.nextGroup(groupId);
              if (!n.group) n.phase = "sweep";
            }
          },
        );
        return;
      }
      case "sweep": {
        // A record set aside without a readable id could be any of those unseen: remove none.
        const removals = s.invalid.unidentified > 0 ? NO_REMOVALS : this.removals(s);
        const brake = this.brakeFor(s, removals);
        if (brake) this.hold(directoryId, s, brake);
        else this.sweep(s, removals, null);
        return;
      }
      case "done":
        return;
    }
  }

  /**
   * Settles a braked sweep: `apply` runs it without the brake, `discard` completes the crawl
   * removing nothing; either way the decision is kept in the status. Null when nothing is braked
   * (or not in `generation`, when given).
   */
  decide(directoryId: string, decision: BrakeDecision, generation?: number): SyncStatus | null {
    const s = this.status();
    if (s.state !== "braked" || !s.brake) return null;
    if (generation !== undefined && generation !== s.generation) return null;
    const decided: SweepBrake = { ...s.brake, decision, decidedAt: iso(Date.now()) };
    // Recomputed now: what changed or was deleted meanwhile has left the set, so it only shrinks.
    const removals = decision === "apply" ? this.removals(s) : NO_REMOVALS;
    this.sweep(s, removals, decided);
    log.info("reconcile sweep decided", {
      directoryId,
      generation: s.generation,
      decision,
      users: removals.users.length,
      groups: removals.groups.length,
    });
    return this.status();
  }

  /** What this complete generation did not see and nothing changed since it began. */
  private removals(s: SyncStatus): Removals {
    return this.store.unseen(s.generation, Date.parse(s.startedAt ?? "") || 0);
  }

  /** The brake to hold `removals` with, or null when they are within it (memberships never brake). */
  private brakeFor(s: SyncStatus, { users, groups, edges }: Removals): SweepBrake | null {
    const live = this.store.counts();
    const liveUsers = live.active + live.inactive;
    if (!exceeds(users.length, liveUsers, this.brake) && !exceeds(groups.length, live.groups, this.brake)) return null;
    return {
      generation: s.generation,
      at: iso(Date.now()),
      users: users.length,
      groups: groups.length,
      memberships: edges.length,
      liveUsers,
      liveGroups: live.groups,
      decision: null,
      decidedAt: null,
    };
  }

  /** Parks the crawl before its sweep: `step` stops on a state other than running, so no alarm spins. */
  private hold(directoryId: string, s: SyncStatus, brake: SweepBrake) {
    this.commit(s, [], (n) => {
      n.state = "braked";
      n.brake = brake;
    });
    const { generation, users, groups, memberships, liveUsers, liveGroups } = brake;
    log.warn("reconcile sweep braked: waiting for an admin to apply or discard it", {
      directoryId,
      generation,
      users,
      groups,
      memberships,
      liveUsers,
      liveGroups,
    });
  }

  /** Removes `removals` and completes the crawl (recording `decided`, when an admin released the brake). */
  private sweep(s: SyncStatus, { users, groups, edges }: Removals, decided: SweepBrake | null) {
    const at = Date.now();
    const src = { at, tag: `${s.generation}` };
    const events: DsyncEvent[] = [];
    for (const e of edges) {
      const u = this.store.user(e.userId)?.data;
      const g = this.store.group(e.groupId)?.data;
      if (u && g) events.push(pulled.memberGone(u, g, src));
    }
    for (const u of users) events.push(pulled.userGone(u, src));
    for (const g of groups) events.push(pulled.groupGone(g, src));
    this.commit(s, events, (n) => {
      n.counts.removed = users.length + groups.length + edges.length;
      n.phase = "done";
      n.state = "complete";
      n.finishedAt = iso(at);
      n.failures = 0;
      if (decided) n.brake = decided;
      if (!n.held) {
        n.held = true;
        this.onHeld();
      }
    });
  }

  /**
   * Records WorkOS sent in a shape the cache cannot read: the crawl goes on without them, each
   * marked seen (the cached copy, if any, stays as it was: a record is never removed for being
   * unreadable), counted in the status and named in lastError for an operator to look into.
   */
  private setAside(n: SyncStatus, what: "user" | "group" | "member", invalid: InvalidRecord[]) {
    if (invalid.length === 0) return;
    const unidentified = invalid.filter((r) => r.id === null).length;
    n.invalid = { records: n.invalid.records + invalid.length, unidentified: n.invalid.unidentified + unidentified };
    const first = invalid[0] as InvalidRecord;
    n.lastError = `WorkOS sent ${invalid.length} ${what} record(s) the cache cannot read, set aside: ${first.id ?? "(no id)"} (${first.problem})`;
    n.lastErrorAt = iso(Date.now());
    log.warn("crawl set aside records it cannot read", {
      what,
      generation: String(n.generation),
      records: String(invalid.length),
      first: first.id ?? "(no id)",
      problem: first.problem,
    });
  }

  /** The next group (by id) whose members this generation has yet to list. */
  private nextGroup(after: string | null): string | null {
    const ids = this.store.liveGroupIds().sort();
    return ids.find((id) => after === null || id > after) ?? null;
  }

  private commit(s: SyncStatus, events: DsyncEvent[], advance: (next: SyncStatus) => void) {
    this.transaction(() => {
      // The crawl may have been restarted meanwhile (a newer generation): drop this page.
      if (this.status().generation !== s.generation) return;
      this.apply(events);
      const next: SyncStatus = { ...this.status(), pages: s.pages + 1, failures: 0, counts: { ...s.counts } };
      advance(next);
      this.save(next);
    });
  }
}
