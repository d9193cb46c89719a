import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { alarmFired, scheduleAlarm } from "../kv/alarm";
import { log } from "../log";
import { newSecret } from "../push/sign";
import type { FeedHead, FeedPage, FeedQuery, RecordedEvent } from "../schemas/feed";
import type { DeliveryMessage, DeliveryOutcome, Subscription } from "../schemas/subscriptions";
import { newEventId } from "./event-id";
import { FeedLog } from "./log";
import { type Owner, SubscriptionStore, type Target } from "./subscriptions";

/** Retention is enforced this often (and at once again while a trim leaves more to do). */
const TRIM_EVERY_MS = 60 * 60 * 1000;
/** Deliveries queued per subscription per alarm, and per message batch (Queues allows 100 / 256 KB). */
const QUEUE_PER_ALARM = 500;
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200_000;
/** A message carries its event up to this size; a bigger one is read back from the feed by position. */
const INLINE_BYTES = 100_000;
/** After queuing stops short (more to queue, or the queue refused), the next round. */
const QUEUE_RETRY_MS = 1_000;

/**
 * The change feed's one sequencer (a singleton): directory writers hand it their recorded
 * events; GET /events reads it (see FeedLog for why one object assigns every position). It also
 * keeps the push subscriptions and queues each one's deliveries from its alarm.
 */
export class FeedObject extends DurableObject<Env> {
  private readonly events: FeedLog;
  private readonly subscriptions: SubscriptionStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.events = new FeedLog(ctx.storage.sql);
    this.subscriptions = new SubscriptionStore(ctx.storage.sql);
  }

  /** Takes a writer's events in its order; answers the last sequence held (the writer drops up to it). */
  async append(directoryId: string, events: RecordedEvent[]): Promise<number> {
    const held = this.ctx.storage.transactionSync(() => this.events.append(directoryId, events, Date.now()));
    await scheduleAlarm(this.ctx.storage, Date.now() + (this.subscriptions.hasActive() ? 0 : TRIM_EVERY_MS));
    return held;
  }

  async list(query: FeedQuery): Promise<FeedPage> {
    return this.events.list(query);
  }

  /** The feed's head and every subscription, for /admin/status (one call). */
  async status(): Promise<{ head: FeedHead; subscriptions: Subscription[] }> {
    return { head: this.events.head(), subscriptions: this.subscriptions.list() };
  }

  /** A new subscription, delivering events recorded from now on; its secret is shown this once. */
  async subscribe(s: {
    url: string;
    events: string[];
    organization_ids: string[];
    createdBy: string | null;
  }): Promise<Subscription> {
    const id = `sub_${newEventId().slice("event_".length)}`;
    return this.subscriptions.create(id, { ...s, secret: newSecret() }, Date.now(), this.events.head().position);
  }

  async listSubscriptions(owner?: Owner): Promise<Subscription[]> {
    return this.subscriptions.list(owner);
  }

  async subscription(id: string, owner?: Owner): Promise<Subscription | null> {
    return this.subscriptions.get(id, owner);
  }

  async unsubscribe(id: string, owner?: Owner): Promise<boolean> {
    return this.subscriptions.delete(id, owner);
  }

  async rotateSecret(id: string, owner?: Owner): Promise<Subscription | null> {
    return this.subscriptions.rotate(id, newSecret(), owner);
  }

  /** A revoked key's subscriptions stop delivering (an administrator may resume them). */
  async pauseMadeBy(owner: string): Promise<number> {
    return this.subscriptions.pauseMadeBy(owner);
  }

  async setSubscriptionState(id: string, state: "active" | "paused", owner?: Owner): Promise<Subscription | null> {
    const s = this.subscriptions.setState(id, state, owner);
    if (s && state === "active") await scheduleAlarm(this.ctx.storage, Date.now());
    return s;
  }

  /** Where and how the queue consumer delivers (by subscription id; a deleted one is absent). */
  async targets(ids: string[]): Promise<Record<string, Target>> {
    return this.subscriptions.targets(ids);
  }

  /** An event's `data` by position, for a delivery too big to carry it (null once trimmed). */
  async dataAt(position: number): Promise<string | null> {
    return this.events.dataAt(position);
  }

  async recordDeliveries(outcomes: DeliveryOutcome[]): Promise<void> {
    this.subscriptions.record(outcomes);
  }

  override async alarm() {
    alarmFired(this.ctx.storage);
    const config = loadConfig(this.env);
    let more: boolean;
    try {
      more = await this.queueDeliveries();
    } catch (err) {
      // The queue refused: nothing is lost (positions moved only past what it took); try again soon.
      log.error("feed: queuing deliveries failed", { error: String(err) });
      more = true;
      await scheduleAlarm(this.ctx.storage, Date.now() + QUEUE_RETRY_MS);
    }
    const trimmed = config.ok ? this.events.trim(Date.now() - config.config.feedRetentionMs) : false;
    await scheduleAlarm(this.ctx.storage, Date.now() + (trimmed ? 1 : more ? QUEUE_RETRY_MS : TRIM_EVERY_MS));
  }

  /**
   * Queues each active subscription's next deliveries, then moves its position past them: a
   * failure to queue leaves the position (and the alarm retries), so each event is queued at
   * least once. Answers whether any subscription has more to queue.
   */
  private async queueDeliveries(): Promise<boolean> {
    let more = false;
    const head = this.events.head().position;
    for (const s of this.subscriptions.active()) {
      const { rows, through } = this.events.scan(
        s.position,
        { events: s.events, organizations: s.organizations },
        QUEUE_PER_ALARM,
      );
      const messages = rows.map(
        (r): DeliveryMessage => ({
          subscription: s.id,
          position: r.pos,
          id: r.id,
          event: r.event,
          created_at: r.created_at,
          data: r.data.length > INLINE_BYTES ? "" : r.data,
        }),
      );
      for (const batch of batches(messages)) {
        await this.env.DELIVERIES.sendBatch(batch.map((body) => ({ body })));
        this.subscriptions.queued(s.id, batch.at(-1)?.position ?? s.position, batch.length);
      }
      this.subscriptions.queued(s.id, through, 0);
      if (through < head) more = true;
    }
    return more;
  }
}

/** Message batches within Queues' limits (100 messages, 256 KB). */
function* batches(messages: DeliveryMessage[]): Generator<DeliveryMessage[]> {
  let batch: DeliveryMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.data.length + 500;
    if (batch.length === BATCH_MESSAGES || (batch.length > 0 && bytes + size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(m);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
