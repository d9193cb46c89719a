import type { Context } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../app-env";
import { kvKeys } from "../kv/keys";
import type { Query } from "../upstream/client";
import { accessOf } from "./access";
import { NotFound, Unavailable } from "./errors";
import { emptyList } from "./lists";
import { sees, seesRecord } from "./org-limit";
import { readThroughDirectory, remember, remembered } from "./read-through";
import { isServable } from "./records";
import { readClient, relay } from "./workos-reads";

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
  if (!client) throw new Unavailable("upstream_unavailable", "WorkOS pulling is not configured.");
  if (sync && !(await directoryExists(c, sync.directoryId))) {
    if (sync.whenUnknown === "not_found") throw new NotFound("Directory", sync.directoryId);
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
 * found one is kept and its backfill starts; an unknown id never creates a writer. A directory of
 * an organization the key may not see does not exist for it.
 */
async function directoryExists(c: Context<AppEnv>, directoryId: string): Promise<boolean> {
  const key = `directories:${directoryId}`;
  if (remembered(key)) return false;
  const access = accessOf(c);
  const stored = await c.get("kv").get(kvKeys.directory(directoryId));
  if (isServable(stored)) {
    if (!seesRecord(access, stored)) return false;
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
    return sees(access, (await readThroughDirectory(c, directoryId)).organization_id);
  } catch (err) {
    if (err instanceof NotFound) return false;
    throw err;
  }
}
