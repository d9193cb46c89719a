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
