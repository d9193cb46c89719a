/**
 * KV access for one request, counting operations (a bulk get is one operation). The count
 * backs the cost guarantees (GET by id = 1, list page <= 3) in tests and the benchmark.
 */
export class KvReader {
  ops = 0;

  constructor(private readonly kv: KVNamespace) {}

  async get(key: string): Promise<string | null> {
    this.ops += 1;
    return this.kv.get(key, "text");
  }

  /** Up to 100 keys in one operation; absent keys are missing from the map. */
  async getMany(keys: readonly string[]): Promise<Map<string, string | null>> {
    if (keys.length === 0) return new Map();
    if (keys.length > 100) throw new Error("KV bulk get takes at most 100 keys");
    this.ops += 1;
    return this.kv.get([...new Set(keys)], "text");
  }
}
