import { loadConfig } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import type { DeliveryMessage, DeliveryOutcome } from "../schemas/subscriptions";
import { deliver } from "./deliver";

/** Queues' longest delay; the retry schedule doubles from PUSH_RETRY_BASE_SECONDS up to it. */
const MAX_DELAY_S = 12 * 3600;
/** A paused subscription's deliveries come back this much later. */
const PAUSED_DELAY_S = 300;

/** The delay before retry `attempts` (1 after the first failure): base x 2^(n-1), capped. */
export const retryDelaySeconds = (attempts: number, base: number) =>
  Math.min(MAX_DELAY_S, base * 2 ** Math.max(0, attempts - 1));

/**
 * The deliveries queue's consumer: each message is one event for one subscription, POSTed in
 * parallel with the rest of the batch (a slow subscriber costs the others nothing but its own
 * bounded timeout). A failure is retried on the queue with exponential backoff; after the last
 * retry the message goes to the dead-letter queue. Outcomes go back to the feed object for
 * each subscription's state. At-least-once and unordered, as WorkOS's own webhooks.
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const config = loadConfig(env);
  if (!config.ok) return batch.retryAll({ delaySeconds: 60 });
  const feed = env.FEED.getByName("feed");
  const targets = await feed.targets(batch.messages.map((m) => m.body.subscription));
  const outcomes: DeliveryOutcome[] = [];
  await Promise.all(
    batch.messages.map(async (message) => {
      const m = message.body;
      const target = targets[m.subscription];
      if (!target) return message.ack(); // the subscription was deleted
      if (target.state === "paused") return message.retry({ delaySeconds: PAUSED_DELAY_S });
      const data = m.data || (await feed.dataAt(m.position));
      if (data === null) return message.ack(); // trimmed by retention before it could be sent
      const attempt = await deliver(target.url, target.secret, m, data, config.config.push.timeoutMs);
      if (attempt.ok) {
        outcomes.push({
          subscription: m.subscription,
          at: Date.now(),
          outcome: "delivered",
          status: attempt.status,
          error: "",
        });
        return message.ack();
      }
      outcomes.push({
        subscription: m.subscription,
        at: Date.now(),
        outcome: "failed",
        status: attempt.status,
        error: attempt.error,
      });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, config.config.push.retryBaseSeconds) });
    }),
  );
  if (outcomes.length) await feed.recordDeliveries(outcomes);
}

/** The dead-letter queue's consumer: a delivery that failed past its retries is counted, and logged once. */
export async function consumeDeadDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const outcomes = batch.messages.map(
    (message): DeliveryOutcome => ({
      subscription: message.body.subscription,
      at: Date.now(),
      outcome: "dead",
      status: null,
      error: "gave up after the retry schedule (dead-lettered)",
    }),
  );
  for (const m of batch.messages)
    log.warn("push delivery dead-lettered", { subscription: m.body.subscription, eventId: m.body.id });
  await env.FEED.getByName("feed").recordDeliveries(outcomes);
  batch.ackAll();
}
