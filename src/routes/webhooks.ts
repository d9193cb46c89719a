import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import * as v from "valibot";
import type { AppEnv } from "../app-env";
import { ApiError } from "../http/errors";
import { Tally } from "../http/tally";
import { log } from "../log";
import { directoryOf } from "../schemas/events";
import { decodeEvent } from "../webhooks/decode";
import { verifySignature } from "../webhooks/verify";

/** Largest webhook body accepted; WorkOS events are a few KiB. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

export const webhooks = new Hono<AppEnv>();

/**
 * Webhooks that never reach a writer, counted for the console by outcome (`refused:<code>`,
 * `skipped:<status>`): the writers count what they apply themselves, durably, with the event.
 */
const intake = new Tally<string>((env, counts) =>
  env.REGISTRY.getByName("registry").countIntake(counts as Record<string, number>),
);
webhooks.use(async (c, next) => {
  await next();
  if (c.error) intake.count(c, `refused:${c.error instanceof ApiError ? c.error.code : "internal_error"}`);
});

/** Fails closed: with no secret to verify against, nothing is accepted (before any body is read). */
const requireSecret = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("config").webhookSecrets)
    throw new ApiError(503, "webhooks_disabled", "WORKOS_WEBHOOK_SECRET is not set; webhooks are refused.");
  await next();
});

/** Refuses (413) a body past the limit whatever Content-Length claims, reading no more of it. */
const limit = bodyLimit({
  maxSize: MAX_WEBHOOK_BYTES,
  onError: () => {
    throw new ApiError(413, "payload_too_large", `Webhook body exceeds ${MAX_WEBHOOK_BYTES} bytes.`);
  },
});

webhooks.post("/", requireSecret, limit, async (c) => {
  const { webhookSecrets, webhookToleranceMs } = c.get("config");
  const body = new Uint8Array(await c.req.arrayBuffer());
  const verdict = await verifySignature(
    body,
    c.req.header("WorkOS-Signature"),
    webhookSecrets ?? [],
    Date.now(),
    webhookToleranceMs,
  );
  if (!verdict.ok) throw new ApiError(401, "invalid_signature", `Webhook rejected: ${verdict.reason}.`);

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw new ApiError(400, "invalid_json", "Webhook body is not valid JSON.");
  }
  const decoded = decodeEvent(json);
  const requestId = c.get("requestId");
  if (decoded.kind === "invalid") throw invalidEvent(decoded.what, decoded.issues);
  if (decoded.kind === "skip") {
    log.info("webhook not applied", { requestId, eventId: decoded.id, event: decoded.event, status: decoded.status });
    intake.count(c, `skipped:${decoded.status}`);
    return c.json({ status: decoded.status, event_id: decoded.id });
  }
  const { event } = decoded;
  const { id, event: name } = event;
  const directoryId = directoryOf(event);

  let outcome: string;
  try {
    outcome = await c.env.DIRECTORY.getByName(directoryId).apply(event);
  } catch (err) {
    // Not recorded: a non-2xx makes WorkOS deliver it again.
    log.error("webhook not recorded", { requestId, eventId: id, event: name, directoryId, error: String(err) });
    throw new ApiError(
      503,
      "not_recorded",
      "The event could not be recorded; retry later.",
      {},
      { "Retry-After": "5" },
    );
  }
  log.info("webhook applied", { requestId, eventId: id, event: name, directoryId, outcome });
  return c.json({ status: outcome, event_id: id });
});

function invalidEvent(what: string, issues: readonly v.BaseIssue<unknown>[]): ApiError {
  const errors = issues.slice(0, 20).map((i) => ({ field: v.getDotPath(i) ?? "(root)", code: i.message }));
  const detail = errors.map((e) => `${e.field}: ${e.code}`).join("; ");
  return new ApiError(422, "invalid_event", `Invalid ${what}: ${detail}`, { errors });
}
