import type { FlushReport } from "../schemas/ops";
import type { KvBudget } from "./budget";
import { type Manifest, splitIntoChunks } from "./chunks";
import type { GarbageCollector } from "./garbage";
import { fnv64, kvKeys } from "./keys";
import type { WriteLedger } from "./ledger";

/** Superseded chunks stay readable this long, for readers holding an older manifest. */
export const CHUNK_GRACE_MS = 10 * 60 * 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_chunks (index_key TEXT NOT NULL, chunk_key TEXT NOT NULL, PRIMARY KEY (index_key, chunk_key));
`;

/**
 * Writes a list index as immutable chunks and then the manifest naming them (see chunks.ts).
 * A chunk KV already holds is not written again, so an index write cut short (its invocation's
 * KV operations spent) resumes where it stopped; the manifest goes last, so readers never see
 * one naming a chunk not yet written.
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

  async write(
    key: string,
    sortKeys: readonly string[],
    clock: () => number,
    budget: KvBudget,
    report: FlushReport,
  ): Promise<void> {
    const manifest: Manifest = { n: sortKeys.length, c: [] };
    // Chunks this index already has in KV, read once (not a query per chunk).
    const known = new Set(
      this.sql
        .exec<{ chunk_key: string }>("SELECT chunk_key FROM outbox_chunks WHERE index_key = ?", key)
        .toArray()
        .map((r) => r.chunk_key),
    );
    const live = new Set<string>();
    for (const chunk of splitIntoChunks(sortKeys)) {
      const body = JSON.stringify(chunk);
      const hash = fnv64(body);
      const chunkKey = kvKeys.chunk(key, hash);
      manifest.c.push([hash, chunk.length, chunk[0] as string]);
      live.add(chunkKey);
      if (known.has(chunkKey)) continue;
      // A chunk retired earlier and named again stays (it may still be waiting for collection).
      this.garbage.keep(chunkKey);
      budget.take();
      await this.kv.put(chunkKey, body);
      this.sql.exec("INSERT OR IGNORE INTO outbox_chunks (index_key, chunk_key) VALUES (?, ?)", key, chunkKey);
      report.written += 1;
    }
    await this.ledger.put(key, JSON.stringify(manifest), clock, budget, report, { size: sortKeys.length });
    this.retire(key, known, live, clock());
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
