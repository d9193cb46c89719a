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
 * The writer a strong read asks: the directory's, read from the record KV holds (any version of
 * it, a tombstone included: a record never moves between directories). Only a writer KV already
 * knows is asked, so ids nobody holds never create one. Undefined when KV holds no such record:
 * the caller answers as a default read.
 */
export function writerOf(
  c: Context<AppEnv>,
  kind: "user" | "group" | "directory",
  id: string,
  stored: string | null | undefined,
) {
  const directoryId = kind === "directory" ? (stored ? id : undefined) : directoryOfStored(stored);
  return directoryId ? c.env.DIRECTORY.getByName(directoryId) : undefined;
}
