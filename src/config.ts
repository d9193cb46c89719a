import * as v from "valibot";
import type { Env } from "./env";
import { LEVELS, log, setLogLevel } from "./log";

/** A comma-separated list of secrets: blanks around commas are ignored; empty means unset. */
const SecretList = v.pipe(
  v.string(),
  v.transform((s) => s.split(",").map((part) => part.trim())),
  v.check((parts) => parts.every((p) => p.length > 0), "has an empty entry (stray comma?)"),
  v.check((parts) => parts.every((p) => !/\s/.test(p)), "has an entry containing whitespace"),
);

/** Keys callers present as `Authorization: Bearer <key>`: RFC 6750 tokens, as bearer-auth reads them. */
const BearerKeyList = v.pipe(
  SecretList,
  v.check(
    (parts) => parts.every((p) => /^[A-Za-z0-9._~+/-]+=*$/.test(p)),
    "has an entry that is not a bearer token (letters, digits and -._~+/ only)",
  ),
);

const Unset = v.pipe(
  v.union([v.undefined(), v.literal("")]),
  v.transform(() => undefined),
);

/** A whole number within bounds, given as a string (vars and secrets are always strings). */
const WholeNumber = (unit: string, fallback: string, min: number, max: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, `must be a whole number${unit}`),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    fallback,
  );

const Settings = v.object({
  API_KEYS: v.union([Unset, BearerKeyList]),
  ADMIN_API_KEYS: v.union([Unset, BearerKeyList]),
  WORKOS_API_KEY: v.union([
    Unset,
    v.pipe(v.string(), v.trim(), v.regex(/^\S+$/, "must be a single key without whitespace")),
  ]),
  WORKOS_API_BASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.url("must be an absolute http(s) URL"),
      v.regex(/^https?:\/\//, "must be an absolute http(s) URL"),
      v.transform((s) => s.replace(/\/+$/, "")),
    ),
    "https://api.workos.com",
  ),
  RECONCILE_INTERVAL_MINUTES: WholeNumber(" of minutes", "360", 1, 7 * 24 * 60),
  LOG_LEVEL: v.optional(v.picklist(LEVELS, `must be one of ${LEVELS.join(", ")}`), "info"),
  WORKOS_WEBHOOK_SECRET: v.union([Unset, SecretList]),
  WEBHOOK_TOLERANCE_SECONDS: WholeNumber(" of seconds", "180", 1, 3600),
  EVENTS_SETTLE_SECONDS: WholeNumber(" of seconds", "60", 1, 3600),
  RECONCILE_BRAKE_PERCENT: WholeNumber(" (a percentage)", "20", 1, 100),
  RECONCILE_BRAKE_MIN: WholeNumber("", "10", 0, 1_000_000),
  FEED_RETENTION_DAYS: WholeNumber(" of days", "30", 1, 365),
  CHANGE_FEED: v.optional(v.picklist(["on", "off"], "must be on or off"), "on"),
  PUSH_ALLOW_HTTP_LOCALHOST: v.optional(v.picklist(["true", "false"], "must be true or false"), "false"),
  PUSH_RETRY_BASE_SECONDS: WholeNumber(" of seconds", "30", 1, 3600),
  PUSH_TIMEOUT_SECONDS: WholeNumber(" of seconds", "10", 1, 30),
});

export interface Config {
  /** Bearer keys allowed to read; undefined when unset (reads are then refused). */
  apiKeys: string[] | undefined;
  /** Bearer keys allowed on /admin/* and DELETE; undefined when unset (refused). */
  adminKeys: string[] | undefined;
  /** Pull features (read-through, backfill, reconcile, Events API) need an upstream key. */
  upstream: { apiKey: string; baseUrl: string } | undefined;
  reconcileIntervalMs: number;
  /** Webhook signing secrets, any of which may sign; undefined disables the webhook. */
  webhookSecrets: string[] | undefined;
  webhookToleranceMs: number;
  /**
   * The Events API cursor stays this far behind now: WorkOS holds recent events back from
   * ascending reads for a few seconds, so a cursor moved past them would skip them for good.
   */
  eventsSettleMs: number;
  /**
   * A reconcile sweep that would remove more than `percent` of a directory's live users (or
   * groups), and more than `min` of them, is held for an admin instead of applied.
   */
  deletionBrake: { percent: number; min: number };
  /** Whether changes are recorded for the change feed (GET /events, push subscriptions). */
  feedEnabled: boolean;
  /** How long the change feed (GET /events) keeps an event. */
  feedRetentionMs: number;
  /**
   * Push subscriptions: `http://localhost` targets allowed (development only); the first retry's
   * delay (doubling up to 12 h); how long a subscriber may take to answer.
   */
  push: { allowHttpLocalhost: boolean; retryBaseSeconds: number; timeoutMs: number };
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

const cache = new WeakMap<Env, ConfigResult>();

/**
 * Reads the settings from the bindings once per isolate. A bad setting yields a description
 * naming the setting and the rule it breaks, never its value.
 */
export function loadConfig(env: Env): ConfigResult {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = v.safeParse(Settings, {
    API_KEYS: env.API_KEYS,
    ADMIN_API_KEYS: env.ADMIN_API_KEYS,
    WORKOS_API_KEY: env.WORKOS_API_KEY,
    WORKOS_API_BASE_URL: env.WORKOS_API_BASE_URL || undefined,
    RECONCILE_INTERVAL_MINUTES: env.RECONCILE_INTERVAL_MINUTES || undefined,
    LOG_LEVEL: env.LOG_LEVEL || undefined,
    WORKOS_WEBHOOK_SECRET: env.WORKOS_WEBHOOK_SECRET,
    WEBHOOK_TOLERANCE_SECONDS: env.WEBHOOK_TOLERANCE_SECONDS,
    EVENTS_SETTLE_SECONDS: env.EVENTS_SETTLE_SECONDS || undefined,
    RECONCILE_BRAKE_PERCENT: env.RECONCILE_BRAKE_PERCENT || undefined,
    RECONCILE_BRAKE_MIN: env.RECONCILE_BRAKE_MIN || undefined,
    FEED_RETENTION_DAYS: env.FEED_RETENTION_DAYS || undefined,
    CHANGE_FEED: env.CHANGE_FEED || undefined,
    PUSH_ALLOW_HTTP_LOCALHOST: env.PUSH_ALLOW_HTTP_LOCALHOST || undefined,
    PUSH_RETRY_BASE_SECONDS: env.PUSH_RETRY_BASE_SECONDS || undefined,
    PUSH_TIMEOUT_SECONDS: env.PUSH_TIMEOUT_SECONDS || undefined,
  });
  const result: ConfigResult = parsed.success
    ? {
        ok: true,
        config: {
          apiKeys: parsed.output.API_KEYS,
          adminKeys: parsed.output.ADMIN_API_KEYS,
          upstream: parsed.output.WORKOS_API_KEY
            ? { apiKey: parsed.output.WORKOS_API_KEY, baseUrl: parsed.output.WORKOS_API_BASE_URL }
            : undefined,
          reconcileIntervalMs: parsed.output.RECONCILE_INTERVAL_MINUTES * 60_000,
          webhookSecrets: parsed.output.WORKOS_WEBHOOK_SECRET,
          webhookToleranceMs: parsed.output.WEBHOOK_TOLERANCE_SECONDS * 1000,
          eventsSettleMs: parsed.output.EVENTS_SETTLE_SECONDS * 1000,
          deletionBrake: { percent: parsed.output.RECONCILE_BRAKE_PERCENT, min: parsed.output.RECONCILE_BRAKE_MIN },
          feedEnabled: parsed.output.CHANGE_FEED === "on",
          feedRetentionMs: parsed.output.FEED_RETENTION_DAYS * 24 * 3600 * 1000,
          push: {
            allowHttpLocalhost: parsed.output.PUSH_ALLOW_HTTP_LOCALHOST === "true",
            retryBaseSeconds: parsed.output.PUSH_RETRY_BASE_SECONDS,
            timeoutMs: parsed.output.PUSH_TIMEOUT_SECONDS * 1000,
          },
        },
      }
    : {
        ok: false,
        problems: parsed.issues.map((i) => `${v.getDotPath(i) ?? "settings"} ${lastMessage(i)}`),
      };
  cache.set(env, result);
  if (parsed.success) setLogLevel(parsed.output.LOG_LEVEL);
  if (result.ok && !result.config.upstream) {
    log.info("pull features off: WORKOS_API_KEY is not set (no read-through, backfill, reconcile or Events API)");
  }
  if (!result.ok) log.error("invalid settings", { problems: result.problems.join("; ") });
  return result;
}

function lastMessage(issue: v.BaseIssue<unknown>): string {
  // Union issues nest the useful message; the value itself is never included.
  const inner = issue.issues?.find((i) => i.type !== "undefined" && i.type !== "literal") ?? issue.issues?.[0];
  return inner ? lastMessage(inner) : issue.message.replace(/Received .*$/, "").trim();
}
