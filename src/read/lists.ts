import { idOfSortKey } from "../directory/model";
import { servedText } from "../directory/projection";
import { type ChunkBody, chunkBase, type Manifest, parseChunk, planWindow } from "../kv/chunks";
import { kvKeys } from "../kv/keys";
import { log } from "../log";
import type { Pagination } from "../schemas/list";
import { InvalidCursor, Unavailable } from "./errors";
import type { KvReader } from "./kv-reader";
import { cutPage, lowerBound, type Page, type PageQuery, pageTake, type Window } from "./pagination";
import { isServable, sortKeyOfStored } from "./records";

/**
 * Where a list's records live: their KV key, and their writer for a record the index names but
 * this location's KV does not show yet. KV is eventually consistent and caches misses (so does
 * the memory tier): a record read as missing shortly before the index was published (say, by the
 * read-through that first met its directory) would otherwise leave a hole in a page served as
 * complete. Such reads are rare, and cost one call to the writer instead of a wrong answer.
 */
export interface RecordSource {
  key: (id: string) => string;
  fill?: (ids: string[]) => Promise<Map<string, string | null>>;
  /** Whether the key may see a stored record: a cursor naming one it may not is no cursor. */
  visible?: (stored: string) => boolean;
}

/** A page of stored records, ready to send: `data` holds the records' JSON as stored. */
export interface ListResult {
  data: string[];
  metadata: Page["metadata"];
}

export function listBody(result: ListResult): string {
  return `{"object":"list","data":[${result.data.join(",")}],"list_metadata":${JSON.stringify(result.metadata)}}`;
}

export const emptyList = (): ListResult => ({ data: [], metadata: { before: null, after: null } });

/**
 * Turns cursor ids into sort keys, using records fetched alongside the first read. A cursor
 * naming a record the key may not see is invalid, as one naming no record is.
 */
function resolveCursors(p: Pagination, fetched: Map<string, string | null>, source: RecordSource): PageQuery {
  const q: PageQuery = { order: p.order, limit: p.limit };
  for (const which of ["after", "before"] as const) {
    const id = p[which];
    if (id === undefined) continue;
    const stored = fetched.get(source.key(id));
    const hidden = isServable(stored) && source.visible && !source.visible(stored);
    const sortKey = stored && !hidden ? sortKeyOfStored(stored) : null;
    if (!sortKey || idOfSortKey(sortKey) !== id) throw new InvalidCursor(which, id);
    q[which] = sortKey;
  }
  return q;
}

export const cursorKeys = (p: Pagination, recordKey: (id: string) => string) =>
  [p.after, p.before].filter((id): id is string => id !== undefined).map(recordKey);

/** Fetches the records of a page (one bulk get), skipping any deleted since the index was written. */
async function records(kv: KvReader, page: Page, source: RecordSource): Promise<ListResult> {
  const items = await readRecords(kv, page.keys, source);
  return { data: page.keys.flatMap((k) => items.get(k) ?? []), metadata: page.metadata };
}

/**
 * A page over sort keys known in full (a registry search, a lookup's matches): the cursors'
 * records first, then only the page's records, so any number of matches pages correctly.
 */
export async function listFromSortKeys(
  kv: KvReader,
  sortKeys: readonly string[],
  source: RecordSource,
  p: Pagination,
  fetched: Map<string, string | null> = new Map(),
): Promise<ListResult> {
  return records(kv, await pageOf(kv, sortKeys, source, p, fetched), source);
}

/**
 * A page from a chunked KV index: (1) manifest + cursor records (+ `alsoRead`), (2) the chunks
 * around the cursor, which carry their records: two KV round trips whatever the limit or size,
 * and one for a list small enough for its manifest to carry its records (see chunks.ts). Chunks
 * written before they carried records cost a third, for the page's records.
 * Returns null when the index is absent: the cache does not hold that list (or it is empty and
 * unknown). `check` may end early: "empty" for a list known to be empty, "absent" as missing.
 */
export async function listFromIndex(
  kv: KvReader,
  indexKey: string,
  source: RecordSource,
  p: Pagination,
  alsoRead: string[] = [],
  check?: (fetched: Map<string, string | null>) => "ok" | "empty" | "absent",
): Promise<ListResult | null> {
  const recordKey = source.key;
  const first = await kv.getMany([indexKey, ...alsoRead, ...cursorKeys(p, recordKey)]);
  const verdict = check?.(first) ?? "ok";
  if (verdict === "empty") return emptyList();
  const raw = first.get(indexKey);
  if (!raw || verdict === "absent") return null;
  const q = resolveCursors(p, first, source);
  const manifest = JSON.parse(raw) as Manifest;
  const take = pageTake(q);
  const plan = planWindow(manifest, q.after ?? q.before, take, q.limit);
  if (!plan) return emptyList();
  const [from, to] = plan;
  const bodies = manifest.b ? [manifest.b] : await chunksOf(kv, indexKey, manifest, from, to);
  // The window's keys, and beside them their records (while every chunk carries them).
  const keys: string[] = [];
  const recs: (string | null)[] = [];
  let complete = true;
  for (const body of bodies) {
    keys.push(...body.k);
    if (body.r) recs.push(...body.r);
    complete &&= body.r !== undefined;
  }
  const window: Window = { keys, base: chunkBase(manifest, from), total: manifest.n };
  const page = cutPage(window, q, idOfSortKey);
  if (!complete) return records(kv, page, source);
  // Only the page's records are looked up. One left out of a chunk was deleted while it was
  // written: skipped, as a deleted record is.
  const data = page.keys.flatMap((k) => recs[lowerBound(keys, k)] ?? []);
  return { data, metadata: page.metadata };
}

/** Chunks [from, to] of an index, in one bulk read. */
async function chunksOf(kv: KvReader, indexKey: string, m: Manifest, from: number, to: number): Promise<ChunkBody[]> {
  const chunkKeys = m.c.slice(from, to + 1).map(([hash]) => kvKeys.chunk(indexKey, hash));
  const chunks = await kv.getMany(chunkKeys);
  return chunkKeys.map((key) => {
    const text = chunks.get(key);
    // A manifest newer than its chunks in this location (KV is eventually consistent): say so
    // rather than serve a page with a hole in it.
    if (!text) throw new Unavailable("index_unavailable", "The list index is being updated; retry shortly.", 1);
    return parseChunk(text);
  });
}

/** Whether a sync marker says the cache holds its directory (or the directory list) fully. */
export const isHeld = (marker: string | null | undefined): boolean =>
  !!marker && (JSON.parse(marker) as { held?: boolean }).held === true;

/**
 * A page from a small set held in memory (lookups, a user's groups, registry searches):
 * `items` maps sort keys to the stored JSON; `fetched` holds any cursor records already read.
 */
export async function listFromMemory(
  kv: KvReader,
  items: ReadonlyMap<string, string>,
  source: RecordSource,
  p: Pagination,
  fetched: Map<string, string | null> = new Map(),
): Promise<ListResult> {
  const page = await pageOf(kv, [...items.keys()], source, p, fetched);
  return { data: page.keys.map((k) => items.get(k) as string), metadata: page.metadata };
}

/** The page's sort keys out of a set known in full, with its cursors read (unless in `fetched`). */
async function pageOf(
  kv: KvReader,
  sortKeys: readonly string[],
  source: RecordSource,
  p: Pagination,
  fetched: Map<string, string | null>,
): Promise<Page> {
  const missing = cursorKeys(p, source.key).filter((k) => !fetched.has(k));
  if (missing.length) for (const [k, value] of await kv.getMany(missing)) fetched.set(k, value);
  const keys = [...sortKeys].sort();
  return cutPage({ keys, base: 0, total: keys.length }, resolveCursors(p, fetched, source), idOfSortKey);
}

/**
 * Reads up to 100 records in one operation into a sort-key map, dropping deleted ones; records
 * KV does not show here are asked of their writer (see RecordSource).
 */
export async function readRecords(
  kv: KvReader,
  sortKeys: readonly string[],
  source: RecordSource,
): Promise<Map<string, string>> {
  const ids = sortKeys.slice(0, 100).map(idOfSortKey);
  const values = await kv.getMany(ids.map(source.key));
  const holes = ids.filter((id) => !values.get(source.key(id)));
  const filled = holes.length && source.fill ? await source.fill(holes) : new Map<string, string | null>();
  if (holes.length) log.info("list records read from their writer", { asked: holes.length, found: filled.size });
  const out = new Map<string, string>();
  sortKeys.slice(0, 100).forEach((k, i) => {
    const id = ids[i] as string;
    const value = values.get(source.key(id)) ?? filled.get(id);
    if (isServable(value)) out.set(k, servedText(value));
  });
  return out;
}
