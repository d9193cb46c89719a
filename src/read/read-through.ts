import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { PulledRecords } from "../directory/object";
import { log } from "../log";
import { UpstreamError, type WorkOSClient } from "../upstream/client";
import { NotFound } from "./errors";
import { readClient, unavailable } from "./workos-reads";

/** Upstream 404s are remembered this long, so a storm of unknown ids does not reach WorkOS. */
export const MISS_TTL_MS = 30_000;
const MAX_MISSES = 10_000;
const misses = new Map<string, number>();
/** Whether WorkOS answered 404 for this `path:id` lately (directories share `directories:<id>`). */
export const remembered = (key: string) => (misses.get(key) ?? 0) > Date.now();
export function remember(key: string) {
  if (misses.size >= MAX_MISSES) misses.clear();
  misses.set(key, Date.now() + MISS_TTL_MS);
}
/** Concurrent misses for one id share one upstream request. */
const inflight = new Map<string, Promise<unknown>>();

/**
 * How long a request waits for a WorkOS call another request started before making its own. The
 * call belongs to the request that made it: if that one is cancelled (its client went away), the
 * call may never settle for anyone else, as a KV read did (see kv-reader.ts). Long enough for a
 * read's usual attempts (3 of at most 3 s each).
 */
export const SHARED_WAIT_MS = 10_000;

/**
 * `call` once for concurrent callers of `key`. A caller waits at most `waitMs` for a call already
 * in flight; then it makes its own, which later callers share instead.
 */
export async function shared<T>(key: string, call: () => Promise<T>, waitMs = SHARED_WAIT_MS): Promise<T> {
  const start = () => {
    const mine: Promise<T> = call().finally(() => {
      if (inflight.get(key) === mine) inflight.delete(key);
    });
    inflight.set(key, mine);
    return mine;
  };
  const theirs = inflight.get(key) as Promise<T> | undefined;
  if (!theirs) return start();
  const gaveUp = Symbol("gave up");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const first = await Promise.race([
    theirs,
    new Promise<symbol>((r) => (timer = setTimeout(() => r(gaveUp), waitMs))),
  ]).finally(() => clearTimeout(timer));
  if (first !== gaveUp) return first as T;
  return inflight.get(key) === theirs ? start() : shared(key, call, waitMs);
}

export type Kind = { what: NotFound["what"]; path: string };

/**
 * A record by id that missed the cache: ask WorkOS, keep the answer through the directory's
 * writer, answer it. 404 stays 404 (and is remembered briefly); WorkOS unreachable is a 503.
 */
export async function readThrough<T extends { directory_id?: string; id: string }>(
  c: Context<AppEnv>,
  kind: Kind,
  id: string,
  fetchOne: (client: WorkOSClient) => Promise<T>,
  keep: (record: T) => { directoryId: string; records: PulledRecords },
): Promise<T> {
  const client = readClient(c);
  if (!client) throw new NotFound(kind.what, id);
  const key = `${kind.path}:${id}`;
  if (remembered(key)) throw new NotFound(kind.what, id);
  let record: T;
  let sentAt: number;
  try {
    ({ record, sentAt } = await shared(key, () => {
      const at = Date.now();
      return fetchOne(client).then((r) => ({ record: r, sentAt: at }));
    }));
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404) {
      remember(key);
      throw new NotFound(kind.what, id);
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

/** GET /directories/{id} that missed the cache: from WorkOS, kept (which starts its backfill). */
export const readThroughDirectory = (c: Context<AppEnv>, id: string) =>
  readThrough(
    c,
    { what: "Directory", path: "directories" },
    id,
    (client) => client.getDirectory(id),
    (d) => ({ directoryId: d.id, records: { directory: d } }),
  );
