/**
 * In-isolate memory in front of KV for read-model values (records, manifests, chunks, markers).
 *
 * Bounds, documented in the README:
 * - a KV value is used as is for FRESH_MS after it was read from KV;
 * - until MAX_AGE_MS it is still used, while one background read refreshes it
 *   (stale-while-revalidate); past MAX_AGE_MS it is never used: the reader waits for KV;
 * - a finished answer is reused while the oldest value it was built from is within FRESH_MS
 *   of its read from KV (its age is theirs, so the two windows do not stack).
 * So an answer is at most STALENESS_BOUND_MS older than KV's own view. Immutable chunks
 * (content-addressed keys) never go stale. Size is bounded (entries and characters), least recently
 * used first out. Isolates are evicted at will: this is a best-effort speed-up, not a store.
 */
export const FRESH_MS = 1_000;
export const MAX_AGE_MS = 4_000;
export const STALENESS_BOUND_MS = MAX_AGE_MS;
const MAX_ENTRIES = 20_000;
const MAX_CHARS = 8_000_000;

interface Entry<V> {
  value: V;
  loadedAt: number;
  immutable: boolean;
  refreshing: boolean;
}

export type Lookup<V = string | null> = { value: V; stale: boolean; loadedAt: number } | undefined;

const sizeOfText = (v: string | null) => v?.length ?? 0;

export class MemoryTier<V = string | null> {
  private readonly entries = new Map<string, Entry<V>>();
  private chars = 0;

  constructor(
    readonly now: () => number = Date.now,
    private readonly limits = { entries: MAX_ENTRIES, chars: MAX_CHARS },
    private readonly sizeOf: (v: V) => number = sizeOfText as (v: V) => number,
  ) {}

  /** A servable value (fresh, or stale within the bound), or undefined if KV must be read. */
  get(key: string): Lookup<V> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const age = this.now() - e.loadedAt;
    if (!e.immutable && age > MAX_AGE_MS) {
      this.drop(key, e);
      return undefined;
    }
    // Re-insert: Map iteration order is the LRU order.
    this.entries.delete(key);
    this.entries.set(key, e);
    return { value: e.value, stale: !e.immutable && age > FRESH_MS, loadedAt: e.loadedAt };
  }

  /** Marks a stale entry as being refreshed; false if another request already is. */
  claimRefresh(key: string): boolean {
    const e = this.entries.get(key);
    if (!e || e.refreshing) return false;
    e.refreshing = true;
    return true;
  }

  /** Stores a value read at `loadedAt` (default now); its age, not its storing, sets its bounds. */
  set(key: string, value: V, immutable = false, loadedAt = this.now()) {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, { value, loadedAt, immutable, refreshing: false });
    this.chars += key.length + this.sizeOf(value);
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.limits.entries && this.chars <= this.limits.chars) break;
      this.drop(k, e);
    }
  }

  /** Drops a value this isolate must not serve again (a revoked key's grant). */
  forget(key: string) {
    const e = this.entries.get(key);
    if (e) this.drop(key, e);
  }

  clear() {
    this.entries.clear();
    this.chars = 0;
  }

  get size() {
    return this.entries.size;
  }

  private drop(key: string, e: Entry<V>) {
    this.entries.delete(key);
    this.chars -= key.length + this.sizeOf(e.value);
  }
}

/** The isolate's tier of KV values, shared by every request it serves. */
export const memoryTier = new MemoryTier();

/** A finished read answer: its bytes and their ETag. */
export interface Answer {
  body: string;
  etag: string;
}

/** Finished answers by URL, reused while fresh (FRESH_MS after the oldest value they were built from was read). */
export const answerTier = new MemoryTier<Answer>(Date.now, { entries: 2_000, chars: 16_000_000 }, (a) => a.body.length);
