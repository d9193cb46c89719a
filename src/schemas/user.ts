import * as v from "valibot";
import { Attributes, ObjectId, Timestamp } from "./common";
import { DirectoryGroup } from "./group";

const NullableString = v.optional(v.nullable(v.string()));

export const UserState = v.picklist(["active", "suspended", "inactive"]);

const Email = v.looseObject({
  primary: v.optional(v.boolean()),
  type: v.optional(v.string()),
  value: NullableString,
});

const SlimRole = v.looseObject({ slug: v.string() });

/**
 * `DirectoryUser` as `dsync.user.*` events carry it. Unknown fields are kept so the cache
 * serves whatever WorkOS adds later; `email` falls back to the primary entry of `emails`
 * (older payloads only had the list).
 */
const UserFields = v.looseObject({
  object: v.optional(v.literal("directory_user"), "directory_user"),
  id: ObjectId,
  directory_id: ObjectId,
  organization_id: v.string(),
  idp_id: v.string(),
  email: NullableString,
  first_name: NullableString,
  last_name: NullableString,
  name: NullableString,
  emails: v.optional(v.array(Email)),
  job_title: NullableString,
  username: NullableString,
  state: UserState,
  raw_attributes: v.optional(Attributes, {}),
  custom_attributes: v.optional(Attributes, {}),
  role: v.optional(SlimRole),
  roles: v.optional(v.array(SlimRole)),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const DirectoryUser = v.pipe(
  UserFields,
  v.transform(({ previous_attributes: _diff, ...user }) => ({
    ...user,
    email:
      user.email !== undefined
        ? user.email
        : (user.emails?.find((e) => e.primary)?.value ?? user.emails?.[0]?.value ?? null),
  })),
);
export type DirectoryUser = v.InferOutput<typeof DirectoryUser>;

/**
 * A user as the directory-scoped routes (`/directories/{id}/users`) serve it: WorkOS's
 * `DirectoryUser`, without the deprecated embedded `groups`.
 */
export const DirectoryUserRecord = v.pipe(
  v.looseObject(UserFields.entries),
  v.transform(({ groups: _groups, ...user }) => user),
);

/** What the read API serves for a user: the user with its groups embedded. */
export const DirectoryUserWithGroups = v.looseObject({
  ...UserFields.entries,
  groups: v.array(DirectoryGroup),
});
export type DirectoryUserWithGroups = DirectoryUser & { groups: DirectoryGroup[] };
