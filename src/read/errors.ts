import type { ErrorBody } from "../schemas/errors";

/**
 * What a read could not answer, in the read model's terms. Routes do not catch these: the app's
 * error handler puts each in WorkOS's error envelope with its status (see http/errors.ts).
 */
export class ReadError extends Error {}

/** No such record (or one of another directory, on a directory-scoped route). */
export class NotFound extends ReadError {
  constructor(
    readonly what: "Directory" | "Directory User" | "Directory Group",
    readonly id: string,
  ) {
    super(`${what} not found: '${id}'.`);
  }
}

/** A cursor naming an object that is not in the list. */
export class InvalidCursor extends ReadError {
  constructor(
    readonly which: "before" | "after",
    readonly id: string,
  ) {
    super(`Validation failed: ${which} '${id}' is not an object of this list.`);
  }
}

/** The answer cannot be given now; `retryAfterSeconds` says when to try again. */
export class Unavailable extends ReadError {
  constructor(
    readonly code: "index_unavailable" | "upstream_unavailable",
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** WorkOS refused a request the cache relayed; the caller sees WorkOS's own answer. */
export class UpstreamRefused extends ReadError {
  constructor(
    readonly status: 400 | 404 | 422,
    readonly code: string,
    message: string,
    readonly extra: Pick<ErrorBody, "errors" | "entity_id">,
  ) {
    super(message);
  }
}
