import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { alarmFired, scheduleAlarm } from "../kv/alarm";
import type { FeedHead, FeedPage, FeedQuery, RecordedEvent } from "../schemas/feed";
import { FeedLog } from "./log";

/** Retention is enforced this often (and at once again while a trim leaves more to do). */
const TRIM_EVERY_MS = 60 * 60 * 1000;

/**
 * The change feed's one sequencer (a singleton): directory writers hand it their recorded
 * events; GET /events reads it. See FeedLog for why one object assigns every position.
 */
export class FeedObject extends DurableObject<Env> {
  private readonly log: FeedLog;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.log = new FeedLog(ctx.storage.sql);
  }

  /** Takes a writer's events in its order; answers the last sequence held (the writer drops up to it). */
  async append(directoryId: string, events: RecordedEvent[]): Promise<number> {
    const held = this.ctx.storage.transactionSync(() => this.log.append(directoryId, events, Date.now()));
    await scheduleAlarm(this.ctx.storage, Date.now() + TRIM_EVERY_MS);
    return held;
  }

  async list(query: FeedQuery): Promise<FeedPage> {
    return this.log.list(query);
  }

  async head(): Promise<FeedHead> {
    return this.log.head();
  }

  override async alarm() {
    alarmFired(this.ctx.storage);
    const config = loadConfig(this.env);
    if (!config.ok) return scheduleAlarm(this.ctx.storage, Date.now() + TRIM_EVERY_MS);
    const more = this.log.trim(Date.now() - config.config.feedRetentionMs);
    await scheduleAlarm(this.ctx.storage, Date.now() + (more ? 1 : TRIM_EVERY_MS));
  }
}
