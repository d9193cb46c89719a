import * as v from "valibot";
import { Directory } from "../schemas/directory";
import { EventEnvelope } from "../schemas/events";
import { DirectoryGroup } from "../schemas/group";
import { ListEnvelope, ListMetadata } from "../schemas/list";
import { DirectoryUserRecord, DirectoryUserWithGroups } from "../schemas/user";

/** Statuses WorkOS (and the SDKs) treat as transient. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 60_000;

/** An upstream call that did not succeed; `status` is null when WorkOS could not be reached. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number | null,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** WorkOS answered, but not in the shape the cache reads (502: the upstream is at fault). */
export class UpstreamShapeError extends UpstreamError {
  constructor(path: string, issues: readonly v.BaseIssue<unknown>[]) {
    super(502, null, `WorkOS answered ${path} with an unexpected shape (${shapeProblems(issues)})`);
  }
}

/** A record of a page that does not fit its schema: its id when it has a readable one. */
export interface InvalidRecord {
  id: string | null;
  problem: string;
}

/** A page whose records were checked one by one: those that fit, and those set aside. */
export interface Page<T> {
  data: T[];
  invalid: InvalidRecord[];
  list_metadata: ListMetadata;
}

const LoosePage = v.object({ object: v.literal("list"), data: v.array(v.unknown()), list_metadata: ListMetadata });

export interface ClientOptions {
  apiKey: string;
  baseUrl: string;
  /** Retries after the first attempt (WorkOS's SDKs use 3). */
  maxRetries?: number;
  timeoutMs?: number;
  /** Waits for a slot under the account-wide rate limit before each request. */
  pace?: (path: string) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DirectoryList = ListEnvelope(Directory);
export const UserList = ListEnvelope(DirectoryUserWithGroups);
export const GroupList = ListEnvelope(DirectoryGroup);
/** Users as the directory-scoped routes list them (no `groups`). */
export const UserRecordList = ListEnvelope(DirectoryUserRecord);
export const EventList = v.object({
  object: v.literal("list"),
  data: v.array(EventEnvelope),
  list_metadata: v.object({ after: v.nullable(v.string()) }),
});

export type Query = Record<string, string | number | undefined>;

/** The one module that speaks the WorkOS Directory Sync API. */
export class WorkOSClient {
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: ClientOptions) {
    this.maxRetries = opts.maxRetries ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
  }

  getDirectory = (id: string) => this.get(`/directories/${encodeURIComponent(id)}`, {}, Directory);
  getUser = (id: string) => this.get(`/directory_users/${encodeURIComponent(id)}`, {}, DirectoryUserWithGroups);
  getGroup = (id: string) => this.get(`/directory_groups/${encodeURIComponent(id)}`, {}, DirectoryGroup);
  getDirectoryUser = (directoryId: string, id: string) =>
    this.get(`${scopedPath(directoryId, "users")}/${encodeURIComponent(id)}`, {}, DirectoryUserRecord);
  getDirectoryGroup = (directoryId: string, id: string) =>
    this.get(`${scopedPath(directoryId, "groups")}/${encodeURIComponent(id)}`, {}, DirectoryGroup);
  listDirectories = (q: Query) => this.get("/directories", q, DirectoryList);
  /** Pages for a crawl: one record WorkOS sends in a shape the cache cannot read never stops it. */
  listUsers = (q: Query) => this.page("/directory_users", q, DirectoryUserWithGroups);
  listGroups = (q: Query) => this.page("/directory_groups", q, DirectoryGroup);
  listEvents = (q: Query) => this.get("/events", q, EventList);

  /** DELETE /directories/{id}; returns the upstream status (any 2xx). */
  async deleteDirectory(id: string): Promise<number> {
    return (await this.send("DELETE", `/directories/${encodeURIComponent(id)}`, {})).status;
  }

  async get<S extends v.GenericSchema>(path: string, query: Query, schema: S): Promise<v.InferOutput<S>> {
    const { body } = await this.send("GET", path, query);
    const parsed = v.safeParse(schema, body);
    if (!parsed.success) throw new UpstreamShapeError(path, parsed.issues);
    return parsed.output;
  }

  /** A list page whose envelope must fit, and each record is checked on its own. */
  async page<S extends v.GenericSchema>(path: string, query: Query, item: S): Promise<Page<v.InferOutput<S>>> {
    const envelope = await this.get(path, query, LoosePage);
    const page: Page<v.InferOutput<S>> = { data: [], invalid: [], list_metadata: envelope.list_metadata };
    for (const record of envelope.data) {
      const parsed = v.safeParse(item, record);
      if (parsed.success) page.data.push(parsed.output);
      else page.invalid.push({ id: idOf(record), problem: shapeProblems(parsed.issues) });
    }
    return page;
  }

  private async send(method: string, path: string, query: Query): Promise<{ status: number; body: unknown }> {
    const url = new URL(this.opts.baseUrl + path);
    for (const [k, val] of Object.entries(query))
      if (val !== undefined && val !== "") url.searchParams.set(k, String(val));
    let last: UpstreamError | undefined;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      await this.opts.pace?.(path);
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            Authorization: `Bearer ${this.opts.apiKey}`,
            Accept: "application/json",
            "User-Agent": "workos-dsync-edge-cache",
          },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        last = new UpstreamError(null, null, `WorkOS unreachable for ${method} ${path}: ${errorName(err)}`);
        if (attempt < this.maxRetries) await this.sleep(this.backoff(attempt));
        continue;
      }
      const body = await readBody(res);
      if (res.ok) return { status: res.status, body };
      last = new UpstreamError(res.status, body, `WorkOS answered ${method} ${path} with ${res.status}`);
      if (!RETRYABLE.has(res.status) || attempt === this.maxRetries) throw last;
      await this.sleep(retryAfterMs(res.headers.get("Retry-After")) ?? this.backoff(attempt));
    }
    throw last ?? new UpstreamError(null, null, `WorkOS unreachable for ${method} ${path}`);
  }

  /** As the SDKs: min(500 ms x 1.5^n, 8 s), jittered by x0.5-1.5. */
  private backoff(attempt: number): number {
    return Math.min(500 * 1.5 ** attempt, 8000) * (0.5 + this.random());
  }
}

/** The directory-scoped collection routes WorkOS added in 2026 (`@workos-inc/node` 12). */
export const scopedPath = (directoryId: string, what: "users" | "groups") =>
  `/directories/${encodeURIComponent(directoryId)}/${what}`;

/** `Retry-After` in seconds or as an HTTP date, capped at a minute. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Where a value failed its schema, by path only (never the values: they may be personal data). */
const shapeProblems = (issues: readonly v.BaseIssue<unknown>[]) =>
  issues
    .slice(0, 3)
    .map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.type}${i.expected ? ` (expected ${i.expected})` : ""}`)
    .join("; ");

function idOf(record: unknown): string | null {
  const id = (record as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length > 0 && id.length <= 200 ? id : null;
}

const errorName = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
