import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { answerTier } from "../read/memory-tier";
import { answerWith } from "./query";

/**
 * Serves a GET from the answer tier while its answer is fresh, and keeps the answers built from
 * KV. Runs after authentication: a cached answer is never served to a caller the key check would
 * refuse. Any valid key gets the same answer, so the URL is the whole cache key.
 */
export const cachedAnswers = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.url;
  const hit = answerTier.get(key);
  if (hit && !hit.stale) return answerWith(c, hit.value);
  await next();
  const answer = c.get("answer");
  if (answer && c.res.status < 300) answerTier.set(key, answer);
});
