import type { Context } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import { fnv64 } from "../kv/keys";
import type { Answer } from "../read/memory-tier";
import type { Served } from "../read/records";
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

/**
 * A read answer: stored JSON sent as is (no parse, no re-serialisation), with an ETag of its
 * bytes; a matching If-None-Match gets 304. Private API: clients may keep it but must revalidate.
 * Answers built from KV are kept in the answer tier (see answers.ts); WorkOS's are not.
 */
export function sendJson(c: Context<AppEnv>, body: string, from: "kv" | "upstream" = "kv"): Response {
  const answer: Answer = { body, etag: `"${fnv64(body)}"` };
  if (from === "kv") c.set("answer", answer);
  return answerWith(c, answer);
}

/** A read model's answer (see read/records.ts `Served`). */
export const send = (c: Context<AppEnv>, served: Served): Response => sendJson(c, served.body, served.from);

export function answerWith(c: Context, { body, etag }: Answer): Response {
  const headers = { "Content-Type": "application/json", ETag: etag, "Cache-Control": "private, no-cache" };
  const ifNoneMatch = c.req.header("If-None-Match");
  if (ifNoneMatch?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
    return c.body(null, 304, headers);
  }
  return c.body(body, 200, headers);
}
