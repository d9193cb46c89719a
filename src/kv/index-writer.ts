import type { FlushReport } from "../schemas/ops";
import type { KvBudget } from "./budget";
import { chunkText, INLINE_MAX, type Manifest, manifestText } from "./chunks";
import type { GarbageCollector } from "./garbage";
import { fnv64, kvKeys } from "./keys";
import type { WriteLedger } from "./ledger";
import { type ChunkRow, type FreshChunk, type ReadAfter, rechunk } from "./rechunk";

/** The records of a list's entries as served now, by sort key (null: no longer live). */
export type ReadRecords = (sortKeys: readonly string[]) => (string | null)[];

/** Superseded chunks stay readable this long, for readers holding an older manifest. */
export const CHUNK_GRACE_MS = 10 * 60 * 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_chunks (index_key TEXT NOT NULL, chunk_key TEXT NOT NULL, PRIMARY KEY (index_key, chunk_key));
CREATE TABLE IF NOT EXISTS index_layout (
  index_key TEXT NOT NULL, first TEXT NOT NULL, last TEXT NOT NULL, count INTEGER NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (index_key, first));
`;

/**
 * An index write, planned from the list as it was read: the layout it publishes and the chunks it
 * builds. With `records`, chunks carry their entries' records, read when each is written.
 */
export interface IndexPlan {
  key: string;
  old: ChunkRow[];
  layout: ChunkRow[];
  fresh: FreshChunk[];
  records?: ReadRecords;
}

/**
 * Writes a list index as immutable chunks and then the manifest naming them (see chunks.ts).
 * The layout last published is kept here, so a change re-cuts only the chunks around it
 * (rechunk.ts): work per write follows the change, not the list's size. A chunk KV already
 * holds is not written again, so an index write cut short (its invocation's KV operations spent)
 * resumes where it stopped; the manifest goes last, so readers never see one naming a chunk not
 * yet written.
 */
export class IndexWriter {
  constructor(
    private readonly sql: SqlStorage,
    private readonly kv: KVNamespace,
    private readonly ledger: WriteLedger,
    private readonly garbage: GarbageCollector,
  ) {
    sql.exec(SCHEMA);
  }

  /** Plans a write of `key` (synchronous: from one consistent read of the list). `touched`: null for all. */
  plan(key: string, touched: readonly string[] | null, read: ReadAfter, records?: ReadRecords): IndexPlan {
    const old = this.sql
      .exec<{ first: string; last: string; count: number; hash: string }>(
        "SELECT first, last, count, hash FROM index_layout WHERE index_key = ? ORDER BY first",
        key,
      )
      .toArray()
      .map((r) => ({ first: r.first, last: r.last, count: Number(r.count), hash: r.hash }));
    const { layout, fresh } = rechunk(old, touched, read);
    // A small list's manifest carries its one chunk, built afresh even where its entries stand.
    const only = layout[0];
    if (records && layout.length === 1 && only && only.count <= INLINE_MAX && fresh.length === 0) {
      const keys = read(null, INLINE_MAX);
      fresh.push({ ...only, keys });
    }
    return { key, old, layout, fresh, records };
  }

  async write(plan: IndexPlan, clock: () => number, budget: KvBudget, report: FlushReport): Promise<void> {
    const { key, layout } = plan;
    // Chunks this index already has in KV, read once (not a query per chunk).
    const known = new Set(
      this.sql
        .exec<{ chunk_key: string }>("SELECT chunk_key FROM outbox_chunks WHERE index_key = ?", key)
        .toArray()
        .map((r) => r.chunk_key),
    );
    // A chunk is addressed by its content, records included: a fresh chunk's row takes that hash
    // (rechunk's is of its keys alone).
    const built = new Map<string, string>();
    let inline: string | undefined;
    for (const chunk of plan.fresh) {
      const body = chunkText(chunk.keys, plan.records?.(chunk.keys));
      const hash = fnv64(body);
      built.set(chunk.first, hash);
      if (plan.records && layout.length === 1 && chunk.count <= INLINE_MAX) inline = body;
      const chunkKey = kvKeys.chunk(key, hash);
      if (known.has(chunkKey)) continue;
      // A chunk retired earlier and named again stays (it may still be waiting for collection).
      this.garbage.keep(chunkKey);
      budget.take();
      await this.kv.put(chunkKey, body);
      this.sql.exec("INSERT OR IGNORE INTO outbox_chunks (index_key, chunk_key) VALUES (?, ?)", key, chunkKey);
      known.add(chunkKey);
      report.written += 1;
    }
    const published = layout.map((c) => ({ ...c, hash: built.get(c.first) ?? c.hash }));
    const manifest: Manifest = { n: 0, c: [] };
    for (const c of published) {
      manifest.n += c.count;
      manifest.c.push([c.hash, c.count, c.first]);
    }
    await this.ledger.put(key, manifestText(manifest, inline), clock, budget, report);
    this.commit({ ...plan, layout: published });
    this.retire(key, known, new Set(published.map((c) => kvKeys.chunk(key, c.hash))), clock());
  }

  /** The index was taken down: the next write cuts it afresh. */
  forget(key: string) {
    this.sql.exec("DELETE FROM index_layout WHERE index_key = ?", key);
  }

  /** Records the published layout, row by row where it changed. */
  private commit({ key, old, layout }: IndexPlan) {
    const id = (c: ChunkRow) => `${c.first}\n${c.hash}`;
    const before = new Set(old.map(id));
    const after = new Set(layout.map(id));
    for (const c of old)
      if (!after.has(id(c))) this.sql.exec("DELETE FROM index_layout WHERE index_key = ? AND first = ?", key, c.first);
    for (const c of layout)
      if (!before.has(id(c)))
        this.sql.exec(
          "INSERT OR REPLACE INTO index_layout (index_key, first, last, count, hash) VALUES (?, ?, ?, ?, ?)",
          key,
          c.first,
          c.last,
          c.count,
          c.hash,
        );
  }

  /** Schedules the chunks the index had and its manifest no longer names for deletion after the grace period. */
  private retire(indexKey: string, known: Set<string>, live: Set<string>, now: number) {
    for (const chunkKey of known) {
      if (live.has(chunkKey)) continue;
      this.sql.exec("DELETE FROM outbox_chunks WHERE index_key = ? AND chunk_key = ?", indexKey, chunkKey);
      this.garbage.schedule(chunkKey, now + CHUNK_GRACE_MS);
    }
  }
}
