import { app } from "./app";
import type { Env } from "./env";
import { log } from "./log";
import { consumeDeadDeliveries, consumeDeliveries } from "./push/consumer";
import type { DeliveryMessage } from "./schemas/subscriptions";

export { DirectoryObject } from "./directory/object";
export { FeedObject } from "./feed/object";
export { KeysObject } from "./keys/object";
export { RegistryObject } from "./registry/object";
export { UpstreamGate } from "./upstream/gate";

export default {
  fetch: app.fetch,
  /** Cron: Events API catch-up, and a full reconcile when RECONCILE_INTERVAL_MINUTES has passed. */
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      env.REGISTRY.getByName("registry")
        .runSchedule()
        .then((report) => log.info("schedule ran", { report: JSON.stringify(report) }))
        .catch((err) => log.error("schedule failed", { error: String(err) })),
    );
  },
  /** Push subscriptions: deliveries, and those that failed past their retries. */
  async queue(batch, env) {
    if (batch.queue.endsWith("-dead")) return consumeDeadDeliveries(batch as MessageBatch<DeliveryMessage>, env);
    return consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env);
  },
} satisfies ExportedHandler<Env>;
