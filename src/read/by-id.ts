import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { PulledRecords } from "../directory/object";
import { servedText } from "../directory/projection";
import type { WorkOSClient } from "../upstream/client";
import { accessOf } from "./access";
import { NotFound } from "./errors";
import { sees } from "./org-limit";
import { type Kind, readThrough } from "./read-through";
import { fromKv, fromUpstream, fromWriter, isServable, type Served } from "./records";
import { answeredByWriter, wantsStrong, writerOf } from "./strong";

/**
 * GET by id: the stored record as is; a tombstone is a 404; a miss is read through from WorkOS.
 * A directory-scoped route (`scope`) answers a record of another directory as not found, and
 * serves the record through `scope.serve`. A record of an organization the key may not see is
 * not found either, exactly as an unknown id.
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
  partial?: (json: string) => boolean,
): Promise<Served> {
  const access = accessOf(c);
  const visible = (r: { directory_id?: string; organization_id?: unknown }) =>
    (!scope || r.directory_id === scope.directoryId) && sees(access, r.organization_id);
  const keep = (r: T) => ({ directoryId: r.directory_id, records: { [field]: [r] } as PulledRecords });
  const readThroughVisible = async () => {
    const record = await readThrough(c, kind, id, fetchOne, keep);
    if (!visible(record)) throw new NotFound(kind.what, id);
    return record;
  };
  const value = await c.get("kv").get(kvKey);
  if (wantsStrong(c)) {
    // The writer's state: a record it holds, or a 404 for one it deleted; else as a default read.
    const kindOf = field === "users" ? "user" : "group";
    const held = (await writerOf(c, kindOf, id, value)?.served(kindOf, [id], true))?.[id];
    if (held) answeredByWriter(c);
    // A user the writer holds only in part (its directory not held yet): WorkOS's own answer.
    if (held && partial?.(held)) return fromUpstream(await readThroughVisible());
    if (isServable(held)) {
      if (!visible(JSON.parse(held))) throw new NotFound(kind.what, id);
      return fromWriter(scope ? scope.serve(held) : held);
    }
    if (held) throw new NotFound(kind.what, id);
  }
  if (isServable(value)) {
    // Parsed only when something depends on it: the hot path of an unrestricted key sends the bytes as stored.
    if ((scope || access) && !visible(JSON.parse(value))) throw new NotFound(kind.what, id);
    if (!partial?.(value)) return fromKv(scope ? scope.serve(value) : servedText(value));
  } else if (value) throw new NotFound(kind.what, id);
  return fromUpstream(await readThroughVisible());
}
