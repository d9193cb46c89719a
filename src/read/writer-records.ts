import type { Env } from "../env";
import { kvKeys } from "../kv/keys";
import type { RecordSource } from "./lists";
import { type Access, seesRecord } from "./org-limit";

/** What a key limited to organizations may name as a cursor (see RecordSource). */
const visibleTo = (access: Access) => (access === null ? undefined : (stored: string) => seesRecord(access, stored));

/** Users or groups of one directory: in KV, else (rarely) from the directory's writer. */
export function recordsOfDirectory(
  env: Env,
  access: Access,
  kind: "user" | "group",
  directoryId: () => string | undefined,
): RecordSource {
  return {
    key: kind === "user" ? kvKeys.user : kvKeys.group,
    visible: visibleTo(access),
    fill: async (ids) => {
      const id = directoryId();
      if (!id) return new Map();
      return new Map(Object.entries(await env.DIRECTORY.getByName(id).served(kind, ids)));
    },
  };
}

/** Directories: in KV, else (rarely) each from its own writer. */
export function directoryList(env: Env, access: Access): RecordSource {
  return {
    key: kvKeys.directory,
    visible: visibleTo(access),
    fill: async (ids) => {
      const found = await Promise.all(ids.map((id) => env.DIRECTORY.getByName(id).served("directory", [id])));
      return new Map(found.flatMap((f) => Object.entries(f)));
    },
  };
}
