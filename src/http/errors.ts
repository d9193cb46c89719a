import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import type * as v from "valibot";
import { log } from "../log";
import { InvalidCursor, NotFound, ReadError, Unavailable, UpstreamRefused } from "../read/errors";
import type { ErrorBody } from "../schemas/errors";

/** The one error type routes throw; rendered as WorkOS's `{ message, code }` envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly extra: Pick<ErrorBody, "errors" | "entity_id"> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { message: this.message, code: this.code, ...this.extra };
  }
}

/** A read model's error in WorkOS's envelope, with its status (see read/errors.ts). */
function fromReadError(err: ReadError): ApiError {
  if (err instanceof NotFound) return new ApiError(404, "entity_not_found", err.message, { entity_id: err.id });
  if (err instanceof InvalidCursor)
    return new ApiError(422, "invalid_request_parameters", err.message, {
      errors: [{ field: err.which, code: "invalid_cursor" }],
    });
  if (err instanceof UpstreamRefused) return new ApiError(err.status, err.code, err.message, err.extra);
  if (err instanceof Unavailable) {
    const headers: Record<string, string> =
      err.retryAfterSeconds === undefined ? {} : { "Retry-After": String(err.retryAfterSeconds) };
    return new ApiError(503, err.code, err.message, {}, headers);
  }
  return new ApiError(500, "server_error", "Internal Server Error");
}

/** 422 for bad query parameters, listing each field and what is wrong with it. */
export function invalidParameters(issues: readonly v.BaseIssue<unknown>[]): ApiError {
  const errors = issues.map((i) => ({
    field: i.path?.map((p) => String(p.key)).join(".") ?? "query",
    code: i.message,
  }));
  const message = `Validation failed: ${errors.map((e) => `${e.field} ${e.code}`).join("; ")}.`;
  return new ApiError(422, "invalid_request_parameters", message, { errors });
}

export function errorResponse(c: Context, err: Error): Response {
  if (err instanceof ReadError) err = fromReadError(err);
  if (err instanceof ApiError) return c.json(err.body(), err.status, err.headers);
  if (err instanceof HTTPException) {
    // A middleware's own answer (bearer-auth's 401 in WorkOS's shape).
    // Through the context, so it carries the headers every answer does (X-Request-ID).
    if (err.res) return c.newResponse(err.res.body, err.res.status as StatusCode, Object.fromEntries(err.res.headers));
    const status = err.status as ContentfulStatusCode;
    return c.json({ message: err.message || "Request failed", code: `http_${status}` }, status);
  }
  log.error("unhandled error", { requestId: c.get("requestId"), error: err.name, detail: err.message });
  return c.json({ message: "Internal Server Error", code: "server_error" }, 500);
}
