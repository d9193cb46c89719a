import type { Context } from "hono";
import * as v from "valibot";
import { invalidParameters } from "./errors";

/** Parses the query string with a valibot schema; bad parameters are a 422 naming each field. */
export function parseQuery<S extends v.GenericSchema<Record<string, string>, unknown>>(
  c: Context,
  schema: S,
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, c.req.query());
  if (!parsed.success) throw invalidParameters(parsed.issues);
  return parsed.output;
}

/** A stored JSON document sent as is (no parse, no re-serialisation). */
export function sendJson(c: Context, body: string, status: 200 = 200): Response {
  return c.body(body, status, { "Content-Type": "application/json" });
}
