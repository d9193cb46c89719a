import type { Context } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../app-env";
import type { PulledRecords } from "../directory/object";
import { ApiError, notFound } from "../http/errors";
import { sendJson } from "../http/query";
import { kvKeys } from "../kv/keys";
import { log } from "../log";
import { type Query, UpstreamError, WorkOSClient } from "../upstream/client";
import { accountPace, READ_MAX_WAIT_MS } from "../upstream/gate";
import { emptyList } from "./lists";
import { isServable } from "./records";

/** Upstream 404s are remembered this long, so a storm of unknown ids does not reach WorkOS. */
export const MISS_TTL_MS = 30_000;
const MAX_MISSES = 10_000;
const misses = new Map<string, number>();
/** Whether WorkOS answered 404 for this `path:id` lately (directories share `directories:<id>`). */
const remembered = (key: string) => (misses.get(key) ?? 0) > Date.now();
function remember(key: string) {
  if (misses.size >= MAX_MISSES) misses.clear();
  misses.set(key, Date.now() + MISS_TTL_MS);
}
/** Concurrent misses for one id share one upstream request. */
const inflight = new Map<string, Promise<unknown>>();

/** A client for interactive reads: fewer retries and a shorter timeout than crawls use. */
export function readClient(c: Context<AppEnv>): WorkOSClient | null {
  const upstream = c.get("config").upstream;
  return upstream
    ? new WorkOSClient({ ...upstream, maxRetries: 2, timeoutMs: 3_000, pace: accountPace(c.env, READ_MAX_WAIT_MS) })
    : null;
}

type Kind = { what: "Directory" | "Directory User" | "Directory Group"; path: string };

/**
 * GET by id that missed the cache: ask WorkOS, keep the answer through the directory's
 * writer, serve it. 404 stays 404 (and is remembered briefly); WorkOS unreachable is a 503.
 */
export async function readThrough<T extends { directory_id?: string; id: string }>(
  c: Context<AppEnv>,
  kind: Kind,
  id: string,
  fetchOne: (client: WorkOSClient) => Promise<T>,
  keep: (record: T) => { directoryId: string; records: PulledRecords },
): Promise<T> {
  const client = readClient(c);
  if (!client) throw notFound(kind.what, id);
  const key = `${kind.path}:${id}`;
  if (remembered(key)) throw notFound(kind.what, id);
  let pending = inflight.get(key) as Promise<{ record: T; sentAt: number }> | undefined;
  if (!pending) {
    const sentAt = Date.now();
    pending = fetchOne(client)
      .then((record) => ({ record, sentAt }))
      .finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  let record: T;
  let sentAt: number;
  try {
    ({ record, sentAt } = await pending);
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404) {
      remember(key);
      throw notFound(kind.what, id);
    }
    throw unavailable(c, err);
  }
  const { directoryId, records } = keep(record);
  c.executionCtx.waitUntil(
    c.env.DIRECTORY.getByName(directoryId)
      .storePulled(directoryId, records, sentAt)
      .catch((err) => log.error("read-through not kept", { requestId: c.get("requestId"), error: String(err) })),
  );
  return record;
}

/**
 * A list (or counts) for a directory the cache does not hold fully, answered by WorkOS.
 *
 * With `sync`, the directory's writer is asked first to crawl it (see requestSync's `read`
 * mode). A directory WorkOS does not know is answered as WorkOS answers it — an empty list on a
 * flat route, a 404 where the directory is in the path — and remembered in this isolate, as the
 * writer remembers it: a storm of reads naming random directory ids costs WorkOS one request
 * per id per period, and leaves no object behind.
 */
export async function listFromUpstream<S extends v.GenericSchema>(
  c: Context<AppEnv>,
  path: string,
  query: Query,
  schema: S,
  sync?: { directoryId: string; whenUnknown: "empty" | "not_found" },
): Promise<v.InferOutput<S>> {
  const client = readClient(c);
  if (!client) throw new ApiError(503, "upstream_unavailable", "WorkOS pulling is not configured.");
  if (sync && !(await directoryExists(c, sync.directoryId))) {
    if (sync.whenUnknown === "not_found") throw notFound("Directory", sync.directoryId);
    return { object: "list", data: [], list_metadata: emptyList().metadata } as v.InferOutput<S>;
  }
  try {
    return await client.get(path, query, schema);
  } catch (err) {
    throw relay(c, err);
  }
}

/**
 * Whether a directory exists, for a read about to go to WorkOS, and its crawl asked for. One the
 * cache holds a record of has a writer: it is asked to crawl (after the answer; it says null if it
 * found the directory gone at WorkOS, remembered here). One new to the cache is looked up at
 * WorkOS first, as a read-through (404s remembered, concurrent misses sharing one request): a
 * found one is kept and its backfill starts; an unknown id never creates a writer.
 */
async function directoryExists(c: Context<AppEnv>, directoryId: string): Promise<boolean> {
  const key = `directories:${directoryId}`;
  if (remembered(key)) return false;
  if (isServable(await c.get("kv").get(kvKeys.directory(directoryId)))) {
    const stub = c.env.DIRECTORY.getByName(directoryId);
    c.executionCtx.waitUntil(
      stub
        .requestSync(directoryId, "list")
        .then((status) => status === null && remember(key))
        .catch(() => undefined),
    );
    return true;
  }
  try {
    await readThroughDirectory(c, directoryId);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}

/** GET /directories/{id} that missed the cache: from WorkOS, kept (which starts its backfill). */
export const readThroughDirectory = (c: Context<AppEnv>, id: string) =>
  readThrough(
    c,
    { what: "Directory", path: "directories" },
    id,
    (client) => client.getDirectory(id),
    (d) => ({ directoryId: d.id, records: { directory: d } }),
  );

/** Upstream answers the caller should see as they are (404, 422), else a 503. */
export function relay(c: Context<AppEnv>, err: unknown): ApiError {
  if (err instanceof UpstreamError && err.status !== null && [400, 404, 422].includes(err.status)) {
    const { message, code, ...rest } = (err.body ?? {}) as { message?: string; code?: string };
    // WorkOS's own words, with what else its body says (`entity_id`, a 422's `errors`).
    const extra = Object.fromEntries(Object.entries(rest).filter(([k]) => k === "entity_id" || k === "errors"));
    return new ApiError(err.status as 400, code ?? "upstream_error", message ?? "WorkOS refused the request.", extra);
  }
  return unavailable(c, err);
}

function unavailable(c: Context<AppEnv>, err: unknown): ApiError {
  log.warn("upstream unavailable", {
    requestId: c.get("requestId"),
    error: err instanceof Error ? err.message : String(err),
  });
  return new ApiError(
    503,
    "upstream_unavailable",
    "WorkOS could not be reached and the cache does not hold this.",
    {},
    {
      "Retry-After": "5",
    },
  );
}

/**
 * GET by id: the stored record as is; a tombstone is a 404; a miss is read through from WorkOS.
 * A directory-scoped route (`scope`) answers a record of another directory as not found, and
 * serves the record through `scope.serve`.
 */
export async function recordOrReadThrough<T extends { id: string; directory_id: string }>(
  c: Context<AppEnv>,
  kvKey: string,
  kind: Kind,
  id: string,
  fetchOne: (client: WorkOSClient) => Promise<T>,
  /** Where the record goes among what the directory's writer keeps. */
  field: "users" | "groups",
  scope?: { directoryId: string; serve: (json: string) => string },
  /** A stored record that may be incomplete (a user's `groups` before its directory is held). */
  partial?: (json: string) => Promise<boolean>,
): Promise<Response> {
  const value = await c.get("kv").get(kvKey);
  const keep = (r: T) => ({ directoryId: r.directory_id, records: { [field]: [r] } as PulledRecords });
  const inScope = (directoryId: string | undefined) => !scope || directoryId === scope.directoryId;
  if (isServable(value) && !(await partial?.(value))) {
    if (!scope) return sendJson(c, value);
    if (!inScope((JSON.parse(value) as { directory_id?: string }).directory_id)) throw notFound(kind.what, id);
    return sendJson(c, scope.serve(value));
  }
  if (value && !isServable(value)) throw notFound(kind.what, id);
  const record = await readThrough(c, kind, id, fetchOne, keep);
  if (!inScope(record.directory_id)) throw notFound(kind.what, id);
  return sendJson(c, JSON.stringify(record), "upstream");
}
