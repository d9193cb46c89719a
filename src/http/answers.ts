import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { accessOf } from "../read/access";
import { answerTier } from "../read/memory-tier";
import { wantsStrong } from "../read/strong";
import { answerWith } from "./query";

/**
 * Serves a GET from the answer tier while its answer is fresh, and keeps the answers built from
 * KV. Runs after authentication: a cached answer is never served to a caller the key check would
 * refuse. Keys that see the same organizations get the same answer, so answers are kept by URL
 * and, for a key limited to organizations, by that set.
 */
export const cachedAnswers = createMiddleware<AppEnv>(async (c, next) => {
  // A strong read is answered by the writer, never from here.
  if (wantsStrong(c)) return next();
  const access = accessOf(c);
  const key = access === null ? c.req.url : `${access.tag}\n${c.req.url}`;
  const hit = answerTier.get(key);
  if (hit && !hit.stale) return answerWith(c, hit.value);
  await next();
  const answer = c.get("answer");
  // Aged from the oldest KV value it was built from (see KvReader.oldest).
  if (answer && c.res.status < 300) answerTier.set(key, answer, false, c.get("kv").oldest);
});
