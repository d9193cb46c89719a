/**
 * A stand-in for the WorkOS Directory Sync API (Node side), faithful where the cache depends on
 * it: WorkOS's paths, pagination (limit/order/before/after, list_metadata), filters, error
 * bodies, 4 req/s per directory on /directory_users (429 "Ratelimited" + Retry-After), the
 * Events API, and DELETE. Every JSON body it serves is checked against @workos/openapi-spec
 * before it leaves, so a test cannot pass on a shape WorkOS would never send.
 *
 * Tests drive it through /_standin/* (seed and mutate data, inject faults, read counters).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseInstant } from "../../src/schemas/events";
import { assertConforms, type SchemaName } from "./openapi";

type Obj = Record<string, unknown> & { id: string; created_at: string };
type Json = unknown;

export interface Fault {
  /** Applies to requests whose path and query contain this text. */
  match: string;
  /**
   * `status`: answer with it; `hang`: never answer; `reset`: drop the connection; `hold`: answer
   * normally, but only once a test calls `/_standin/unhold` (a WorkOS as slow as the test needs).
   */
  mode: "status" | "hang" | "reset" | "hold";
  status?: number;
  /** How many requests it hits (default: all until cleared). */
  times?: number;
  /** A Retry-After header (seconds) to send with the status. */
  retryAfter?: number;
  /** A body to send instead of the default error body. */
  body?: unknown;
}

const USERS_PER_SECOND = 4;

export class WorkOSStandIn {
  readonly apiKey: string;
  directories = new Map<string, Obj>();
  users = new Map<string, Obj>();
  groups = new Map<string, Obj>();
  /** group id -> member user ids */
  members = new Map<string, Set<string>>();
  /** Directories created "since May 2026": their users' `groups` field is empty. */
  emptyUserGroups = new Set<string>();
  events: Obj[] = [];
  /** Ids of events held back from listing (as WorkOS does for seconds) until released. */
  private heldEvents = new Set<string>();
  faults: Fault[] = [];
  /** Requests a `hold` fault is holding, each resumed by `/_standin/unhold`. */
  private holding: (() => void)[] = [];
  /** Positions of every object ever served, so cursors of deleted objects still resolve. */
  private positions = new Map<string, string>();
  private usersCalls = new Map<string, number[]>();
  stats = { requests: 0, rateLimited: new Map<string, number>(), byPath: new Map<string, number>() };
  /** Path and query of every API request served, in order. */
  log: string[] = [];
  private server?: Server;
  private eventSeq = 0;

  constructor(apiKey = "sk_test_standin") {
    this.apiKey = apiKey;
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: `stand-in failure: ${(err as Error).message}`, code: "standin_error" }));
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close() {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  // --- data ---
  private remember(o: Obj) {
    this.positions.set(o.id, sortKey(o));
  }
  putDirectory(d: Obj) {
    this.directories.set(d.id, d);
    this.remember(d);
  }
  putUser(u: Obj) {
    const { groups: _g, ...user } = u as Obj & { groups?: unknown };
    this.users.set(u.id, user as Obj);
    this.remember(u);
  }
  putGroup(g: Obj) {
    this.groups.set(g.id, g);
    this.remember(g);
  }
  addMember(userId: string, groupId: string) {
    const set = this.members.get(groupId) ?? new Set<string>();
    this.members.set(groupId, set);
    set.add(userId);
  }
  removeMember(userId: string, groupId: string) {
    this.members.get(groupId)?.delete(userId);
  }
  deleteUser(id: string) {
    this.users.delete(id);
    for (const set of this.members.values()) set.delete(id);
  }
  deleteGroup(id: string) {
    this.groups.delete(id);
    this.members.delete(id);
  }
  deleteDirectory(id: string) {
    this.directories.delete(id);
    for (const [uid, u] of this.users) if (u.directory_id === id) this.deleteUser(uid);
    for (const [gid, g] of this.groups) if (g.directory_id === id) this.deleteGroup(gid);
  }
  /**
   * Records an event in the Events API feed; returns it (its id is time-ordered). A `held`
   * event has its id and time now but stays out of listings until `release`d.
   */
  emit(event: string, data: Json, createdAt = new Date().toISOString(), held = false): Obj {
    const e = {
      object: "event",
      id: `event_${String(++this.eventSeq).padStart(10, "0")}`,
      event,
      data,
      created_at: createdAt,
    };
    this.events.push(e as Obj);
    if (held) this.heldEvents.add(e.id);
    return e as Obj;
  }
  /** Makes held events visible; returns how many were held. */
  release(ids: string[]): number {
    return ids.filter((id) => this.heldEvents.delete(id)).length;
  }

  private groupsOf(userId: string): Obj[] {
    return [...this.members.entries()]
      .filter(([, set]) => set.has(userId))
      .map(([gid]) => this.groups.get(gid))
      .filter((g): g is Obj => g !== undefined)
      .sort(bySortKey);
  }
  private withGroups(u: Obj): Obj {
    return { ...u, groups: this.emptyUserGroups.has(String(u.directory_id)) ? [] : this.groupsOf(u.id) };
  }
  private directoryView(d: Obj): Obj {
    const users = [...this.users.values()].filter((u) => u.directory_id === d.id);
    return {
      ...d,
      metadata: {
        users: {
          active: users.filter((u) => u.state === "active").length,
          inactive: users.filter((u) => u.state !== "active").length,
        },
        groups: [...this.groups.values()].filter((g) => g.directory_id === d.id).length,
      },
    };
  }

  // --- HTTP ---
  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://standin");
    if (url.pathname.startsWith("/_standin/")) return this.control(req, res, url);
    this.stats.requests += 1;
    this.log.push(`${req.method} ${url.pathname}${url.search}`);
    this.stats.byPath.set(url.pathname, (this.stats.byPath.get(url.pathname) ?? 0) + 1);
    const fault = this.faults.find((f) => `${url.pathname}${url.search}`.includes(f.match) && (f.times ?? 1) > 0);
    if (fault) {
      if (fault.times !== undefined) fault.times -= 1;
      if (fault.mode === "hang") return; // never answers: the client's timeout must fire
      if (fault.mode === "reset") return req.socket.destroy();
      if (fault.mode === "hold") await new Promise<void>((resume) => this.holding.push(resume));
    }
    if (fault && fault.mode !== "hold") {
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { "Retry-After": String(fault.retryAfter) } : {};
      return send(
        res,
        fault.status ?? 500,
        fault.body ?? { message: "Injected failure", code: "server_error" },
        headers,
      );
    }
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return send(res, 401, { message: "Unauthorized", code: "unauthorized" });
    }
    const [, resource, id] = url.pathname.split("/");
    const q = url.searchParams;
    if (req.method === "DELETE" && resource === "directories" && id) {
      if (!this.directories.has(id)) return send(res, 404, notFound("Directory", id));
      const d = this.directories.get(id) as Obj;
      this.deleteDirectory(id);
      this.emit("dsync.deleted", { ...d, state: "deleting" });
      return send(res, 202, {});
    }
    if (req.method !== "GET") return send(res, 405, { message: "Method Not Allowed", code: "method_not_allowed" });
    const [, , , scoped, scopedId] = url.pathname.split("/");
    if (resource === "directories" && id && scoped) return this.directoryScoped(res, id, scoped, scopedId, q);

    if (resource === "directories") {
      if (id) {
        const d = this.directories.get(id);
        return d ? this.ok(res, "Directory", this.directoryView(d)) : send(res, 404, notFound("Directory", id));
      }
      const org = q.get("organization_id");
      const search = q.get("search")?.toLowerCase();
      const items = [...this.directories.values()]
        .filter((d) => !org || d.organization_id === org)
        .filter((d) => !search || String(d.name).toLowerCase().includes(search))
        .map((d) => this.directoryView(d));
      return this.list(res, "DirectoryList", items, q);
    }
    if (resource === "directory_users") {
      if (id) {
        const u = this.users.get(id);
        return u
          ? this.ok(res, "DirectoryUserWithGroups", this.withGroups(u))
          : send(res, 404, notFound("Directory User", id));
      }
      const directory = q.get("directory");
      const group = q.get("group");
      if ((q.get("email") || q.get("idp_id")) && !directory) return send(res, 422, invalid("directory", "required"));
      const scope = directory ?? (group ? String(this.groups.get(group)?.directory_id ?? "") : "");
      if (scope && this.rateLimited(scope, res)) return;
      const email = q.get("email")?.toLowerCase();
      const idp = q.get("idp_id");
      const memberIds = group ? (this.members.get(group) ?? new Set<string>()) : undefined;
      const items = [...this.users.values()]
        .filter((u) => !directory || u.directory_id === directory)
        .filter((u) => !memberIds || memberIds.has(u.id))
        .filter((u) => !email || String(u.email ?? "").toLowerCase() === email)
        .filter((u) => !idp || u.idp_id === idp)
        .map((u) => this.withGroups(u));
      return this.list(res, "DirectoryUserList", items, q);
    }
    if (resource === "directory_groups") {
      if (id) {
        const g = this.groups.get(id);
        return g ? this.ok(res, "DirectoryGroup", g) : send(res, 404, notFound("Directory Group", id));
      }
      const directory = q.get("directory");
      const user = q.get("user");
      const items = user
        ? this.groupsOf(user)
        : [...this.groups.values()].filter((g) => !directory || g.directory_id === directory);
      return this.list(
        res,
        "DirectoryGroupList",
        items.filter((g) => !directory || g.directory_id === directory),
        q,
      );
    }
    if (resource === "events") {
      const names = new Set(
        q
          .getAll("events")
          .flatMap((e) => e.split(","))
          .concat(q.getAll("events[]")),
      );
      const after = q.get("after");
      const limit = Number(q.get("limit") ?? 10);
      const rangeStart = q.get("range_start");
      const items = this.events
        .filter((e) => !this.heldEvents.has(e.id))
        .filter((e) => names.size === 0 || names.has(String(e.event)))
        .filter((e) => !after || e.id > after)
        .filter((e) => !rangeStart || parseInstant(e.created_at) >= parseInstant(rangeStart));
      const page = items.slice(0, limit);
      const body = {
        object: "list",
        data: page,
        list_metadata: { after: items.length > limit ? (page.at(-1)?.id ?? null) : null },
      };
      return this.ok(res, null, body);
    }
    return send(res, 404, { message: "Not Found", code: "not_found" });
  }

  /** `/directories/{id}/users|groups[/{id}]` (2026): one directory's records, users without `groups`. */
  private directoryScoped(
    res: ServerResponse,
    directory: string,
    what: string,
    id: string | undefined,
    q: URLSearchParams,
  ) {
    if (!this.directories.has(directory)) return send(res, 404, notFound("Directory", directory));
    const inDirectory = (o: Obj | undefined) => (o?.directory_id === directory ? o : undefined);
    if (what === "users") {
      if (id) {
        const u = inDirectory(this.users.get(id));
        return u ? this.ok(res, "DirectoryUser", u) : send(res, 404, notFound("Directory User", id));
      }
      if (this.rateLimited(directory, res)) return;
      const group = q.get("group");
      const email = q.get("email")?.toLowerCase();
      const idp = q.get("idp_id");
      const memberIds = group ? (this.members.get(group) ?? new Set<string>()) : undefined;
      const items = [...this.users.values()]
        .filter((u) => u.directory_id === directory)
        .filter((u) => !memberIds || memberIds.has(u.id))
        .filter((u) => !email || String(u.email ?? "").toLowerCase() === email)
        .filter((u) => !idp || u.idp_id === idp);
      return this.list(res, "DirectoryUserListWithoutGroups", items, q);
    }
    if (what === "groups") {
      if (id) {
        const g = inDirectory(this.groups.get(id));
        return g ? this.ok(res, "DirectoryGroup", g) : send(res, 404, notFound("Directory Group", id));
      }
      const user = q.get("user");
      const items = (user ? this.groupsOf(user) : [...this.groups.values()]).filter(
        (g) => g.directory_id === directory,
      );
      return this.list(res, "DirectoryGroupList", items, q);
    }
    return send(res, 404, { message: "Not Found", code: "not_found" });
  }

  /** 4 requests a second per directory on its users: past that, a 429 "Ratelimited" is sent. */
  private rateLimited(directory: string, res: ServerResponse): boolean {
    const now = Date.now();
    const recent = (this.usersCalls.get(directory) ?? []).filter((t) => now - t < 1000);
    recent.push(now);
    this.usersCalls.set(directory, recent);
    if (recent.length <= USERS_PER_SECOND) return false;
    this.stats.rateLimited.set(directory, (this.stats.rateLimited.get(directory) ?? 0) + 1);
    res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "1" });
    res.end(JSON.stringify("Ratelimited"));
    return true;
  }

  private ok(res: ServerResponse, schema: SchemaName | null, body: Json) {
    if (schema) assertConforms(schema, body, `stand-in ${schema}`);
    send(res, 200, body);
  }

  /** WorkOS pagination over objects sorted by (created_at, id). */
  private list(res: ServerResponse, schema: SchemaName, items: Obj[], q: URLSearchParams) {
    const limit = q.has("limit") ? Number(q.get("limit")) : 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return send(res, 422, invalid("limit", "invalid"));
    const order = q.get("order") ?? "desc";
    if (!["desc", "asc", "normal"].includes(order)) return send(res, 422, invalid("order", "invalid"));
    const asc = [...items].sort(bySortKey);
    const newerThan = (cursor: string) => (o: Obj) => sortKey(o) > cursor;
    const olderThan = (cursor: string) => (o: Obj) => sortKey(o) < cursor;
    let window = asc;
    let nearestFirst = order === "asc"; // take from the low end of `window`
    for (const which of ["after", "before"] as const) {
      const id = q.get(which);
      if (!id) continue;
      const cursor = this.positions.get(id);
      if (!cursor) return send(res, 422, invalid(which, "invalid_cursor"));
      const up = order === "desc" ? which === "before" : which === "after";
      window = window.filter(up ? newerThan(cursor) : olderThan(cursor));
      if (which === "after" || !q.get("after")) nearestFirst = up;
    }
    const picked = nearestFirst ? window.slice(0, limit) : window.slice(Math.max(0, window.length - limit));
    const shown = order === "asc" ? picked : [...picked].reverse();
    const lo = picked[0];
    const hi = picked.at(-1);
    const olderExist = lo !== undefined && asc.some((o) => sortKey(o) < sortKey(lo));
    const newerExist = hi !== undefined && asc.some((o) => sortKey(o) > sortKey(hi));
    const meta =
      order === "asc"
        ? { before: olderExist ? (lo?.id ?? null) : null, after: newerExist ? (hi?.id ?? null) : null }
        : order === "desc"
          ? { before: newerExist ? (hi?.id ?? null) : null, after: olderExist ? (lo?.id ?? null) : null }
          : { before: olderExist ? (lo?.id ?? null) : null, after: newerExist ? (hi?.id ?? null) : null };
    this.ok(res, schema, { object: "list", data: shown, list_metadata: meta });
  }

  // --- control API for tests ---
  private async control(req: IncomingMessage, res: ServerResponse, url: URL) {
    const body = req.method === "POST" ? ((await readJson(req)) as Record<string, unknown>) : {};
    const arr = <T>(k: string) => (body[k] as T[] | undefined) ?? [];
    switch (url.pathname) {
      case "/_standin/put": {
        for (const d of arr<Obj>("directories")) this.putDirectory(d);
        for (const g of arr<Obj>("groups")) this.putGroup(g);
        for (const u of arr<Obj>("users")) this.putUser(u);
        for (const [u, g] of arr<[string, string]>("memberships")) this.addMember(u, g);
        for (const d of arr<string>("emptyUserGroups")) this.emptyUserGroups.add(d);
        return send(res, 200, { ok: true });
      }
      case "/_standin/remove": {
        for (const id of arr<string>("users")) this.deleteUser(id);
        for (const id of arr<string>("groups")) this.deleteGroup(id);
        for (const [u, g] of arr<[string, string]>("memberships")) this.removeMember(u, g);
        for (const id of arr<string>("directories")) this.deleteDirectory(id);
        return send(res, 200, { ok: true });
      }
      case "/_standin/emit": {
        const e = this.emit(String(body.event), body.data, body.created_at as string | undefined, body.held === true);
        return send(res, 200, e);
      }
      case "/_standin/release": {
        return send(res, 200, { released: this.release(arr<string>("ids")) });
      }
      case "/_standin/unhold": {
        const resumed = this.holding.splice(0);
        for (const resume of resumed) resume();
        return send(res, 200, { resumed: resumed.length });
      }
      case "/_standin/faults": {
        if (req.method === "DELETE") {
          const match = url.searchParams.get("match");
          this.faults = match ? this.faults.filter((f) => f.match !== match) : [];
        } else this.faults.push(body as unknown as Fault);
        return send(res, 200, { faults: this.faults.length });
      }
      case "/_standin/stats": {
        const dir = url.searchParams.get("directory") ?? "";
        const match = url.searchParams.get("match");
        return send(res, 200, {
          requests: match ? this.log.filter((l) => l.includes(match)).length : this.stats.requests,
          rateLimited: this.stats.rateLimited.get(dir) ?? 0,
          byPath: Object.fromEntries(this.stats.byPath),
          holding: this.holding.length,
        });
      }
    }
    send(res, 404, { message: "unknown control path" });
  }
}

const sortKey = (o: { id: string; created_at: string }) =>
  `${String(Date.parse(o.created_at)).padStart(15, "0")}:${o.id}`;
const bySortKey = (a: Obj, b: Obj) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0);
const notFound = (what: string, id: string) => ({
  message: `${what} not found: '${id}'.`,
  code: "entity_not_found",
  entity_id: id,
});
const invalid = (field: string, code: string) => ({
  message: "Validation failed.",
  code: "invalid_request_parameters",
  errors: [{ field, code }],
});

function send(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
}
