import * as v from "valibot";

/** An ISO-8601 instant as WorkOS writes it (`2026-01-15T12:00:00.000Z`); kept as received. */
export const Timestamp = v.pipe(
  v.string(),
  v.check((s) => Number.isFinite(Date.parse(s)), "must be an ISO-8601 timestamp"),
);

/** Free-form attribute bags (`raw_attributes`, `custom_attributes`). */
export const Attributes = v.record(v.string(), v.unknown());

export const ObjectId = v.pipe(v.string(), v.minLength(1), v.maxLength(200));
