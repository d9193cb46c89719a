import { ApiError } from "../http/errors";

/**
 * User and group lists are answered per directory (or group, or user): the cache keeps no
 * index across every directory of an environment.
 */
export const scopeRequired = (a: string, b: string) =>
  new ApiError(422, "invalid_request_parameters", `Validation failed: one of \`${a}\` or \`${b}\` is required.`, {
    errors: [
      { field: a, code: "required" },
      { field: b, code: "required" },
    ],
  });
