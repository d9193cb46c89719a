import { kvKeys } from "../kv/keys";
import { NotFound } from "./errors";
import { type Access, seesRecord } from "./org-limit";
import { isServable } from "./records";

/**
 * Which route family a read serves: the flat routes (`/directory_users`, `/directory_groups`)
 * or the directory-scoped ones (`/directories/{id}/users|groups`), where a record of another
 * directory is not found and the directory itself must exist.
 */
export type Route = { scoped: false } | { scoped: true; directoryId: string };

export const FLAT: Route = { scoped: false };
export const scopedTo = (directoryId: string): Route => ({ scoped: true, directoryId });

/**
 * For a directory-scoped list whose index is absent: a directory the cache has no record of is
 * a 404 rather than an empty list; so, at once, is a directory of an organization the key may
 * not see. Its record is read in the same bulk get as the index, so the check costs no KV
 * operation; pass `keys` and `check` to `listFromIndex`.
 */
export function directoryKnown(route: Route, access: Access) {
  if (!route.scoped) return { keys: [], check: undefined, orNotFound: () => undefined };
  const key = kvKeys.directory(route.directoryId);
  let known = false;
  return {
    keys: [key],
    check: (read: Map<string, string | null>) => {
      const directory = read.get(key);
      known = isServable(directory);
      if (known && !seesRecord(access, directory as string)) throw new NotFound("Directory", route.directoryId);
      return "ok" as const;
    },
    orNotFound: () => {
      if (!known) throw new NotFound("Directory", route.directoryId);
    },
  };
}

/**
 * How a list answered by WorkOS names the directory whose crawl it asks for: a directory WorkOS
 * does not know is a 404 where it is in the path (as WorkOS answers), an empty list elsewhere.
 */
export const syncOf = (directoryId: string, route: Route) => ({
  directoryId,
  whenUnknown: route.scoped ? ("not_found" as const) : ("empty" as const),
});
