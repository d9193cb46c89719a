import * as v from "valibot";

/** The one error envelope, in the shape WorkOS answers with and the SDKs read. */
export const ErrorBody = v.object({
  message: v.string(),
  code: v.string(),
  errors: v.optional(v.array(v.object({ field: v.string(), code: v.string() }))),
  entity_id: v.optional(v.string()),
});
export type ErrorBody = v.InferOutput<typeof ErrorBody>;
