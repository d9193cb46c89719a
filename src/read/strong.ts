import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { directoryOfStored } from "./records";

/**
 * Whether a read asks for the writer's own state (`Cache-Control: no-cache`): answered by the
 * directory's Durable Object from SQLite, bypassing KV and the memory tier. For a record by id
 * and a user's groups: the authorization questions, where "was this user removed?" must not wait
 * for KV.
 */
export const wantsStrong = (c: Context<AppEnv>): boolean =>
  /(^|,)\s*no-cache\s*(,|$)/i.test(c.req.header("Cache-Control") ?? "");

/** Notes that the writer answered this read (the app marks the answer, error or not, as strong). */
export const answeredByWriter = (c: Context<AppEnv>) => c.set("strong", true);

/**
 * Records of one kind as the writer of the directory KV says holds them serves them now (a
 * tombstone for a deleted one, null for one it does not hold). The directory is read from the
 * stored record, any version of it (a record never moves between directories): only a writer KV
 * already knows is asked, so ids nobody holds never create one. Undefined when KV knows no such
 * record: the caller answers as a default read.
 */
export async function fromItsWriter(
  c: Context<AppEnv>,
  kind: "user" | "group" | "directory",
  kvKey: string,
  ids: string[],
): Promise<Record<string, string | null> | undefined> {
  const stored = await c.get("kv").get(kvKey);
  const directoryId = kind === "directory" ? (stored ? ids[0] : undefined) : directoryOfStored(stored);
  if (!directoryId) return undefined;
  return c.env.DIRECTORY.getByName(directoryId).served(kind, ids);
}
