/**
 * In-isolate memory in front of KV for read-model values (records, manifests, chunks, markers).
 *
 * Bounds, documented in the README:
 * - an entry is served as is for FRESH_MS after it was read from KV;
 * - until MAX_AGE_MS it is still served, while one background read refreshes it
 *   (stale-while-revalidate);
 * - past MAX_AGE_MS it is never served: the reader waits for KV.
 * So the tier adds at most MAX_AGE_MS to KV's own staleness. Immutable chunks (content-
 * addressed keys) never go stale. Size is bounded (entries and characters), least recently
 * used first out. Isolates are evicted at will: this is a best-effort speed-up, not a store.
 */
export const FRESH_MS = 1_000;
export const MAX_AGE_MS = 5_000;
const MAX_ENTRIES = 20_000;
const MAX_CHARS = 8_000_000;

interface Entry {
  value: string | null;
  loadedAt: number;
  immutable: boolean;
  refreshing: boolean;
}

export type Lookup = { value: string | null; stale: boolean } | undefined;

export class MemoryTier {
  private readonly entries = new Map<string, Entry>();
  private chars = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits = { entries: MAX_ENTRIES, chars: MAX_CHARS },
  ) {}

  /** A servable value (fresh, or stale within the bound), or undefined if KV must be read. */
  get(key: string): Lookup {
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
    return { value: e.value, stale: !e.immutable && age > FRESH_MS };
  }

  /** Marks a stale entry as being refreshed; false if another request already is. */
  claimRefresh(key: string): boolean {
    const e = this.entries.get(key);
    if (!e || e.refreshing) return false;
    e.refreshing = true;
    return true;
  }

  set(key: string, value: string | null, immutable = false) {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, { value, loadedAt: this.now(), immutable, refreshing: false });
    this.chars += key.length + (value?.length ?? 0);
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.limits.entries && this.chars <= this.limits.chars) break;
      this.drop(k, e);
    }
  }

  clear() {
    this.entries.clear();
    this.chars = 0;
  }

  get size() {
    return this.entries.size;
  }

  private drop(key: string, e: Entry) {
    this.entries.delete(key);
    this.chars -= key.length + (e.value?.length ?? 0);
  }
}

/** The isolate's tier, shared by every request it serves. */
export const memoryTier = new MemoryTier();
