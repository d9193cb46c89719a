import type { Context } from "hono";
import { validator } from "hono/validator";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import { fnv64 } from "../kv/keys";
import type { Answer } from "../read/memory-tier";
import type { Served } from "../read/records";
import { invalidParameters } from "./errors";

/**
 * The query string checked by a valibot schema, as hono's validator (routes read it with
 * `c.req.valid("query")`): a bad parameter is WorkOS's 422 naming each field. A repeated
 * parameter counts once, by its first value, except those named in `lists`: their values are
 * gathered into an array from every encoding clients use (`k=a,b`, `k=a&k=b`, `k[]=a&k[]=b`).
 */
export const validQuery = <S extends v.GenericSchema>(schema: S, lists: readonly string[] = []) =>
  validator("query", (value): v.InferOutput<S> => {
    const input: Record<string, string | string[]> = {};
    for (const [name, given] of Object.entries(value)) {
      const key = name.endsWith("[]") ? name.slice(0, -2) : name;
      const values = Array.isArray(given) ? given : [given];
      if (lists.includes(key))
        input[key] = [...((input[key] as string[] | undefined) ?? []), ...values.flatMap((x) => x.split(","))];
      else if (key === name) input[key] = values[0] as string;
    }
    const parsed = v.safeParse(schema, input);
    if (!parsed.success) throw invalidParameters(parsed.issues);
    return parsed.output;
  });

/**
 * A read answer: stored JSON sent as is (no parse, no re-serialisation), with an ETag of its
 * bytes; a matching If-None-Match gets 304. Private API: clients may keep it but must revalidate.
 * Answers built from KV are kept in the answer tier (see answers.ts); WorkOS's are not.
 */
export function sendJson(c: Context<AppEnv>, body: string, from: Served["from"] = "kv"): Response {
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
