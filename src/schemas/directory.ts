import * as v from "valibot";
import { ObjectId, Timestamp } from "./common";

/** REST `state` of a directory (what `GET /directories` serves). */
export const DirectoryState = v.picklist(["linked", "validating", "invalid_credentials", "unlinked", "deleting"]);
export type DirectoryState = v.InferOutput<typeof DirectoryState>;

/** `state` as `dsync.activated`/`dsync.deleted` payloads spell it. */
export const EventDirectoryState = v.picklist(["active", "validating", "invalid_credentials", "inactive", "deleting"]);

/** Events use their own enum; the REST API (and so this cache) serves the REST one. */
const REST_STATE: Record<v.InferOutput<typeof EventDirectoryState>, DirectoryState> = {
  active: "linked",
  inactive: "unlinked",
  validating: "validating",
  invalid_credentials: "invalid_credentials",
  deleting: "deleting",
};

export const DirectoryMetadata = v.object({
  users: v.object({ active: v.number(), inactive: v.number() }),
  groups: v.number(),
});
export type DirectoryMetadata = v.InferOutput<typeof DirectoryMetadata>;

/**
 * Provider type. Kept as an open string: WorkOS adds providers (events already allow
 * `gusto`, `rippling`), and refusing an unknown one would drop the whole directory's events.
 */
const DirectoryType = v.pipe(v.string(), v.minLength(1));

/** `Directory` as the REST API serves it. */
export const Directory = v.looseObject({
  object: v.literal("directory"),
  id: ObjectId,
  organization_id: v.string(),
  external_key: v.string(),
  name: v.string(),
  type: DirectoryType,
  state: DirectoryState,
  domain: v.optional(v.string()),
  metadata: v.optional(DirectoryMetadata),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Directory = v.InferOutput<typeof Directory>;

const Domain = v.looseObject({ object: v.optional(v.string()), id: v.optional(v.string()), domain: v.string() });

/** And back: the REST state as events spell it. */
const EVENT_STATE = Object.fromEntries(Object.entries(REST_STATE).map(([event, rest]) => [rest, event])) as Record<
  DirectoryState,
  v.InferOutput<typeof EventDirectoryState>
>;

/**
 * The directory in `dsync.activated` / `dsync.deleted`, turned into the REST shape:
 * event state mapped to the REST enum, first of `domains[]` as `domain`. The `domains` given are
 * kept beside it (not served by the REST API; the change feed's events carry them).
 */
export const EventDirectory = v.pipe(
  v.looseObject({
    object: v.optional(v.literal("directory"), "directory"),
    id: ObjectId,
    organization_id: v.optional(v.string(), ""),
    external_key: v.optional(v.string(), ""),
    name: v.string(),
    type: DirectoryType,
    state: v.union([EventDirectoryState, DirectoryState]),
    domains: v.optional(v.array(Domain), []),
    domain: v.optional(v.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  v.transform(({ domains, previous_attributes: _diff, ...d }): Directory => {
    const domain = d.domain ?? domains[0]?.domain;
    const state = d.state in REST_STATE ? REST_STATE[d.state as keyof typeof REST_STATE] : d.state;
    return {
      ...d,
      object: "directory",
      state: state as DirectoryState,
      ...(domain ? { domain } : {}),
      ...(domains.length ? { domains } : {}),
    };
  }),
);

/**
 * A stored directory as WorkOS's `dsync.activated` / `dsync.deleted` carry it (event state,
 * `domains`). One known only from the REST API has no domain ids: it keeps its `domain`.
 */
export function eventDirectory({
  metadata: _counts,
  domains,
  state,
  domain,
  ...d
}: Directory): Record<string, unknown> {
  const known = Array.isArray(domains) && domains.length > 0;
  return {
    ...d,
    state: EVENT_STATE[state] ?? state,
    domains: known ? domains : [],
    ...(known || !domain ? {} : { domain }),
  };
}
