import * as v from "valibot";
import { Attributes, ObjectId, Timestamp } from "./common";

/** `DirectoryGroup` as WorkOS serves it and as `dsync.group.*` events carry it. */
export const DirectoryGroup = v.looseObject({
  object: v.optional(v.literal("directory_group"), "directory_group"),
  id: ObjectId,
  idp_id: v.string(),
  directory_id: ObjectId,
  organization_id: v.string(),
  name: v.string(),
  raw_attributes: v.optional(Attributes),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type DirectoryGroup = v.InferOutput<typeof DirectoryGroup>;
