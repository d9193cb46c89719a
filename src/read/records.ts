import { sortKeyOf } from "../directory/model";

/** Stored values are the served JSON, or a tombstone (never served) keeping a list position. */
const TOMBSTONE_PREFIX = '{"object":"tombstone"';

export const isServable = (value: string | null | undefined): value is string =>
  typeof value === "string" && !value.startsWith(TOMBSTONE_PREFIX);

/** The list position of a stored record (live or tombstone), used to resolve a cursor id. */
export function sortKeyOfStored(value: string): string | null {
  try {
    const o = JSON.parse(value) as { object?: string; id?: string; created_at?: string; sort_key?: string };
    if (o.object === "tombstone") return o.sort_key ?? null;
    return o.id && o.created_at ? sortKeyOf({ id: o.id, created_at: o.created_at }) : null;
  } catch {
    return null;
  }
}

/**
 * A read's answer: the JSON to send, and where it came from: KV (may be kept hot), WorkOS (not
 * kept), or the directory's writer (a strong read: not kept, and marked as such).
 */
export interface Served {
  body: string;
  from: "kv" | "upstream" | "writer";
}

export const fromKv = (body: string): Served => ({ body, from: "kv" });
export const fromWriter = (body: string): Served => ({ body, from: "writer" });

/** The directory a stored record (or its tombstone) belongs to. */
export const directoryOfStored = (value: string | null | undefined): string | undefined =>
  value ? (JSON.parse(value) as { directory_id?: string }).directory_id : undefined;
export const fromUpstream = (value: unknown): Served => ({ body: JSON.stringify(value), from: "upstream" });
