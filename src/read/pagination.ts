import type { ListMetadata, Order } from "../schemas/list";

/**
 * WorkOS list semantics over a sequence sorted ascending by (created_at, id):
 *
 * | order  | shown         | `after=X`      | `before=X`     |
 * |--------|---------------|----------------|----------------|
 * | desc   | newest first  | older than X   | newer than X   |
 * | asc    | oldest first  | newer than X   | older than X   |
 * | normal | newest first  | newer than X   | older than X   |
 *
 * A cursor page holds the `limit` items nearest the cursor. `list_metadata.after`/`before`
 * are the ids to pass as `after`/`before` to move on, or null where nothing lies that way.
 */
export type Take = "up" | "down";

export interface PageQuery {
  order: Order;
  limit: number;
  /** Cursor sort keys (resolved from object ids). */
  after?: string;
  before?: string;
}

/** Whether a cursor selects items above (`up`) or below (`down`) it in ascending order. */
export function cursorTake(order: Order, which: "after" | "before"): Take {
  const up = order === "desc" ? which === "before" : which === "after";
  return up ? "up" : "down";
}

/** Which end a page is taken from: nearest its primary cursor, else where the order starts. */
export function pageTake(q: PageQuery): Take {
  if (q.after !== undefined) return cursorTake(q.order, "after");
  if (q.before !== undefined) return cursorTake(q.order, "before");
  return q.order === "asc" ? "up" : "down";
}

/** A contiguous part of the ascending sequence: `keys[i]` sits at position `base + i` of `total`. */
export interface Window {
  keys: readonly string[];
  base: number;
  total: number;
}

/** The position of the first key at or after `x` in ascending `keys`. */
export function lowerBound(keys: readonly string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Page {
  /** Sort keys in the order they are shown. */
  keys: string[];
  metadata: ListMetadata;
}

/**
 * Cuts one page out of a window that covers the primary cursor and at least `limit` items on
 * the side the page is taken from (see planWindow). `idOf` maps a sort key to its object id.
 */
export function cutPage(w: Window, q: PageQuery, idOf: (sortKey: string) => string): Page {
  let lo = 0;
  let hi = w.total;
  for (const which of ["after", "before"] as const) {
    const x = q[which];
    if (x === undefined) continue;
    const at = lowerBound(w.keys, x);
    if (cursorTake(q.order, which) === "up") {
      lo = Math.max(lo, w.base + at + (w.keys[at] === x ? 1 : 0));
    } else {
      hi = Math.min(hi, w.base + at);
    }
  }
  if (lo >= hi) return { keys: [], metadata: { before: null, after: null } };
  const [s, e] = pageTake(q) === "up" ? [lo, Math.min(hi, lo + q.limit)] : [Math.max(lo, hi - q.limit), hi];
  const asc = w.keys.slice(s - w.base, e - w.base);
  const first = asc[0] as string;
  const last = asc[asc.length - 1] as string;
  const olderExist = s > 0;
  const newerExist = e < w.total;
  if (q.order === "asc") {
    return {
      keys: asc,
      metadata: { before: olderExist ? idOf(first) : null, after: newerExist ? idOf(last) : null },
    };
  }
  // desc and normal both show newest first; under `normal` the names of the cursors flip,
  // so the id that moves towards newer items is `after` there and `before` under `desc`.
  const towardsNewer = newerExist ? idOf(last) : null;
  const towardsOlder = olderExist ? idOf(first) : null;
  return {
    keys: asc.reverse(),
    metadata:
      q.order === "desc"
        ? { before: towardsNewer, after: towardsOlder }
        : { before: towardsOlder, after: towardsNewer },
  };
}
