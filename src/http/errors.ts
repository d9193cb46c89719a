import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type * as v from "valibot";
import { log } from "../log";
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

export const notFound = (what: string, id: string) =>
  new ApiError(404, "entity_not_found", `${what} not found: '${id}'.`, { entity_id: id });

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
  if (err instanceof ApiError) return c.json(err.body(), err.status, err.headers);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return c.json({ message: err.message || "Request failed", code: `http_${status}` }, status);
  }
  log.error("unhandled error", { requestId: c.get("requestId"), error: err.name, detail: err.message });
  return c.json({ message: "Internal Server Error", code: "server_error" }, 500);
}
