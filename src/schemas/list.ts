import * as v from "valibot";

/** Pagination as on every WorkOS list endpoint: `limit` 1-100 (10), `order`, object-id cursors. */
export const Pagination = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, "must be an integer between 1 and 100"),
      v.transform(Number),
      v.minValue(1, "must be an integer between 1 and 100"),
      v.maxValue(100, "must be an integer between 1 and 100"),
    ),
    "10",
  ),
  order: v.optional(v.picklist(["desc", "asc", "normal"], "must be one of desc, asc, normal"), "desc"),
  before: v.optional(v.pipe(v.string(), v.minLength(1, "must be an object id"))),
  after: v.optional(v.pipe(v.string(), v.minLength(1, "must be an object id"))),
});
export type Pagination = v.InferOutput<typeof Pagination>;
export type Order = Pagination["order"];

const Filter = v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty")));

export const DirectoriesQuery = v.object({
  ...Pagination.entries,
  organization_id: Filter,
  search: Filter,
  domain: Filter,
});

export const UsersQuery = v.pipe(
  v.object({ ...Pagination.entries, directory: Filter, group: Filter, email: Filter, idp_id: Filter }),
  v.forward(
    v.check((q) => !(q.email || q.idp_id) || Boolean(q.directory), "requires `directory`"),
    ["directory"],
  ),
);

export const GroupsQuery = v.object({ ...Pagination.entries, directory: Filter, user: Filter });

/** `GET /directories/{id}/users`: the directory is in the path. */
export const DirectoryUsersQuery = v.object({ ...Pagination.entries, group: Filter, email: Filter, idp_id: Filter });

/** `GET /directories/{id}/groups`: the directory is in the path. */
export const DirectoryGroupsQuery = v.object({ ...Pagination.entries, user: Filter });

export const ListMetadata = v.object({
  before: v.nullable(v.string()),
  after: v.nullable(v.string()),
});
export type ListMetadata = v.InferOutput<typeof ListMetadata>;

export const ListEnvelope = <T extends v.GenericSchema>(item: T) =>
  v.object({ object: v.literal("list"), data: v.array(item), list_metadata: ListMetadata });

/** An ISO-8601 instant, kept in its canonical form (so instants compare as text). */
const Instant = v.pipe(
  v.string(),
  v.check((s) => !Number.isNaN(Date.parse(s)), "must be an ISO-8601 date"),
  v.transform((s) => new Date(Date.parse(s)).toISOString()),
);

/**
 * `GET /events` (WorkOS's Events API): `events` in any of its encodings (see validQuery). `order`
 * is accepted and, as at WorkOS, the feed is answered oldest first whatever it says.
 */
export const EventsQuery = v.object({
  ...Pagination.entries,
  events: v.optional(
    v.pipe(
      v.array(v.string()),
      v.transform((names) => names.map((n) => n.trim()).filter((n) => n.length > 0)),
    ),
  ),
  organization_id: Filter,
  range_start: v.optional(Instant),
  range_end: v.optional(Instant),
});
