/**
 * A list index in KV: a manifest (small, rewritten at most once a second) naming immutable,
 * content-addressed chunks of the ascending sort keys. Chunk boundaries are content-defined
 * (cut after an id whose hash hits), so adding or removing one entry rewrites one chunk,
 * not every chunk after it; immutability means a reader never sees a half-updated chunk.
 */
export const CHUNK_MIN = 64;
export const CHUNK_AVG = 256;
export const CHUNK_MAX = 1000;

/**
 * `c`: [chunk hash, entry count, first sort key] in order; `n`: total entries. `b`: a list of at
 * most INLINE_MAX entries carries its one chunk's body here too, so its pages need no other read.
 */
export interface Manifest {
  n: number;
  c: [hash: string, count: number, first: string][];
  b?: ChunkBody;
}

/** The most entries a manifest carries inline (a first page of WorkOS's largest `limit`). */
export const INLINE_MAX = 100;

/**
 * A chunk's body: its sort keys and, for lists of records, the records' JSON as served (null for
 * one deleted while the chunk was written; readers skip it). Written before records were kept in
 * chunks, a body is the bare array of sort keys.
 */
export interface ChunkBody {
  k: string[];
  r?: (string | null)[];
}

/**
 * The body's text. Records go in as JSON strings (encoded twice), so a reader gets each one's
 * served text from one parse, without building every record of the chunk as objects.
 */
export const chunkText = (keys: readonly string[], records?: readonly (string | null)[]): string =>
  records ? JSON.stringify({ k: keys, r: records }) : JSON.stringify(keys);

export function parseChunk(text: string): ChunkBody {
  const body = JSON.parse(text) as string[] | ChunkBody;
  return Array.isArray(body) ? { k: body } : body;
}

/** The manifest's text, with its one small chunk's body inline (`chunk`: that body's text). */
export function manifestText(m: Omit<Manifest, "b">, chunk?: string): string {
  const text = JSON.stringify({ n: m.n, c: m.c });
  return chunk === undefined ? text : `${text.slice(0, -1)},"b":${chunk}}`;
}

function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether a chunk of `count` entries ending with `key` ends there (content-defined, bounded). */
export const chunkCut = (count: number, key: string) =>
  count >= CHUNK_MAX || (count >= CHUNK_MIN && fnv32(key) % CHUNK_AVG === 0);

export function splitIntoChunks(sortKeys: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  for (const key of sortKeys) {
    current.push(key);
    if (chunkCut(current.length, key)) {
      chunks.push(current);
      current = [];
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Chunk indexes [from, to] to fetch so the window holds the primary cursor and at least
 * `limit` entries on the side the page is taken from.
 */
export function planWindow(
  m: Manifest,
  cursor: string | undefined,
  take: "up" | "down",
  limit: number,
): [from: number, to: number] | null {
  const last = m.c.length - 1;
  if (last < 0) return null;
  let at: number;
  if (cursor === undefined) at = take === "up" ? 0 : last;
  else {
    at = 0;
    for (let i = last; i >= 0; i--) {
      if ((m.c[i]?.[2] as string) <= cursor) {
        at = i;
        break;
      }
    }
  }
  let from = at;
  let to = at;
  let have = cursor === undefined ? (m.c[at]?.[1] ?? 0) : 0;
  if (take === "up") {
    while (have < limit && to < last) have += m.c[++to]?.[1] ?? 0;
  } else {
    while (have < limit && from > 0) have += m.c[--from]?.[1] ?? 0;
  }
  return [from, to];
}

/** Position of chunk `i`'s first entry. */
export function chunkBase(m: Manifest, i: number): number {
  let base = 0;
  for (let j = 0; j < i; j++) base += m.c[j]?.[1] ?? 0;
  return base;
}
