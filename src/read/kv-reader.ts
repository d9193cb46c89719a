import type { MemoryTier } from "./memory-tier";

/** Chunk keys are content-addressed: their value never changes. */
const isImmutable = (key: string) => key.includes(":chunk:");

/**
 * KV access for one request, through the isolate's memory tier, counting the KV operations it
 * really makes (a bulk get is one) and the sequential round trips it waits for (a call that
 * reads KV at all; a request's calls are sequential). The counts back the cost guarantees in tests and the benchmark, and are reported
 * as X-KV-Operations and X-KV-Round-Trips.
 */
export class KvReader {
  ops = 0;
  roundTrips = 0;
  /**
   * When the oldest mutable value this request used was read from KV (undefined: none used). An
   * answer built from them is as old as that, not as old as its building: the answer tier ages
   * it from here, so its freshness window never stacks on the values' own.
   */
  oldest: number | undefined;
  constructor(
    private readonly kv: KVNamespace,
    private readonly tier?: MemoryTier,
    /** Keeps background refreshes alive after the response (ctx.waitUntil). */
    private readonly defer: (p: Promise<unknown>) => void = () => undefined,
  ) {}

  async get(key: string): Promise<string | null> {
    return (await this.getMany([key])).get(key) ?? null;
  }

  /** Up to 100 keys in at most one KV operation; absent keys map to null. */
  async getMany(keys: readonly string[]): Promise<Map<string, string | null>> {
    const unique = [...new Set(keys)];
    if (unique.length > 100) throw new Error("KV bulk get takes at most 100 keys");
    const out = new Map<string, string | null>();
    const missing: string[] = [];
    const stale: string[] = [];
    for (const key of unique) {
      const hit = this.tier?.get(key);
      if (hit) {
        out.set(key, hit.value);
        if (!isImmutable(key)) this.used(hit.loadedAt);
        if (hit.stale && this.tier?.claimRefresh(key)) stale.push(key);
      } else missing.push(key);
    }
    // Each request reads its own misses: a read another request started is bound to that
    // request's I/O, and if that request is cancelled (its client gone) the runtime never settles
    // it, so a request waiting on it hangs and is failed with a 500.
    if (missing.length) {
      this.roundTrips += 1;
      this.used(this.tier?.now() ?? Date.now());
      this.ops += 1;
      for (const [k, v] of await this.load(missing)) out.set(k, v);
    }
    if (stale.length) this.defer(this.load(stale).catch(() => undefined));
    return out;
  }

  private used(loadedAt: number) {
    this.oldest = this.oldest === undefined ? loadedAt : Math.min(this.oldest, loadedAt);
  }

  /** One bulk read; its results go into the memory tier. */
  private async load(keys: string[]): Promise<Map<string, string | null>> {
    const values =
      keys.length === 1
        ? new Map([[keys[0] as string, await this.kv.get(keys[0] as string, "text")]])
        : await this.kv.get(keys, "text");
    for (const key of keys) {
      const value = values.get(key) ?? null;
      // A chunk's value never changes, but its absence does (KV not propagated yet): only a
      // value found is kept for good; a miss ages out like any other entry.
      this.tier?.set(key, value, value !== null && isImmutable(key));
    }
    return values;
  }
}
