import { CHUNK_AVG, chunkCut, chunkText } from "./chunks";
import { fnv64 } from "./keys";

/** A chunk of a list index as its layout records it: its range, size and content hash. */
export interface ChunkRow {
  first: string;
  last: string;
  count: number;
  hash: string;
}

/** A chunk built by this pass, with its sort keys (its body is written from them, see chunkText). */
export interface FreshChunk extends ChunkRow {
  keys: string[];
}

/** The list's sort keys after `after` (all from the start when null), ascending, at most `limit`. */
export type ReadAfter = (after: string | null, limit: number) => string[];

/** Entries read from the list per step: about two chunks. */
const STEP = 2 * CHUNK_AVG;

function chunkOf(keys: string[]): FreshChunk {
  const hash = fnv64(chunkText(keys));
  return { first: keys[0] as string, last: keys.at(-1) as string, count: keys.length, hash, keys };
}

/** Index of the last chunk whose first entry is at or before `key` (-1: before every chunk). */
function containing(layout: readonly ChunkRow[], key: string): number {
  let lo = 0;
  let hi = layout.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((layout[mid] as ChunkRow).first <= key) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The chunk layout of a list after some of its entries changed, computed from the old layout
 * and the changed entries (`touched`: sort keys added or removed; null: everything), reading
 * only around them. It equals cutting the whole list afresh (chunks.ts: a cut depends only on
 * the entries since the previous cut), because re-cutting starts at a chunk boundary before the
 * first change and stops as soon as a new cut falls on an old one past the changes: from there
 * the old chunks stand. Work is proportional to the chunks a change touches, not to the list.
 * `fresh`: the chunks this pass built (bodies to write); the rest of `layout` is old.
 */
export function rechunk(
  old: readonly ChunkRow[],
  touched: readonly string[] | null,
  read: ReadAfter,
): { layout: ChunkRow[]; fresh: FreshChunk[]; read: number } {
  const layout: ChunkRow[] = [];
  const fresh: FreshChunk[] = [];
  let entriesRead = 0;
  // Everything is cut afresh when the changes are unknown or there is no layout to keep.
  if (touched === null || old.length === 0) return cutFrom(null, []);
  if (touched.length === 0) return { layout: [...old], fresh, read: 0 };
  return cutFrom([...new Set(touched)].sort(), old);

  /** Cuts from the chunk holding the first change on, keeping old chunks wherever the cuts agree. */
  function cutFrom(changed: string[] | null, prev: readonly ChunkRow[]) {
    let next = 0; // the next old chunk not yet kept or replaced
    let c = 0; // the next change not yet passed
    // Where to start cutting: at the boundary before the chunk holding the first change.
    const restartAt = (key: string) => {
      const k = Math.max(containing(prev, key), 0);
      for (; next < k; next++) layout.push(prev[next] as ChunkRow);
      return k > 0 ? (prev[k - 1] as ChunkRow).last : null;
    };
    let after = changed === null ? null : restartAt(changed[c] as string);
    let current: string[] = [];
    for (;;) {
      const batch = read(after, STEP);
      entriesRead += batch.length;
      if (batch.length === 0) {
        // The end of the list: what is left of the old layout is gone.
        if (current.length) emit(current);
        return { layout, fresh, read: entriesRead };
      }
      let restart: string | null | undefined;
      for (const key of batch) {
        current.push(key);
        after = key;
        if (!chunkCut(current.length, key)) continue;
        emit(current);
        current = [];
        if (changed === null) continue;
        // Where the new cut falls on an old one past every change so far, the cuts agree from here.
        while (next < prev.length && (prev[next] as ChunkRow).last < key) next++;
        if (next >= prev.length || (prev[next] as ChunkRow).last !== key) continue;
        next++;
        while (c < changed.length && (changed[c] as string) <= key) c++;
        if (c === changed.length) {
          for (; next < prev.length; next++) layout.push(prev[next] as ChunkRow);
          return { layout, fresh, read: entriesRead };
        }
        // The next change lies further on: keep the old chunks up to its own and cut from there.
        if (containing(prev, changed[c] as string) >= next) {
          restart = restartAt(changed[c] as string);
          break;
        }
      }
      if (restart !== undefined) after = restart;
    }
  }

  function emit(keys: string[]) {
    const chunk = chunkOf(keys);
    layout.push({ first: chunk.first, last: chunk.last, count: chunk.count, hash: chunk.hash });
    fresh.push(chunk);
  }
}

/** Reads a sorted list held in memory (a registry's few directories) as a list index reads its store. */
export function readSorted(keys: readonly string[]): ReadAfter {
  return (after, limit) => {
    let lo = 0;
    if (after !== null) {
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((keys[mid] as string) <= after) lo = mid + 1;
        else hi = mid;
      }
    }
    return keys.slice(lo, lo + limit);
  };
}
