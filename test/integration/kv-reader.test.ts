import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/kv/keys";
import { KvReader } from "../../src/read/kv-reader";
import { MAX_AGE_MS, MemoryTier } from "../../src/read/memory-tier";

describe("KV through the memory tier", () => {
  it("keeps a chunk it found for good, but not its absence: a chunk KV had not propagated shows up later", async () => {
    const clock = { now: Date.now() };
    const tier = new MemoryTier(() => clock.now);
    const read = (key: string) => new KvReader(env.CACHE, tier).get(key);
    const late = kvKeys.chunk(kvKeys.directoryUsers("directory_01LATECHUNK"), "late");
    const there = kvKeys.chunk(kvKeys.directoryUsers("directory_01LATECHUNK"), "there");
    await env.CACHE.put(there, '["a"]');

    expect(await read(late)).toBeNull();
    expect(await read(there)).toBe('["a"]');
    await env.CACHE.put(late, '["b"]');
    await env.CACHE.delete(there);
    clock.now += MAX_AGE_MS * 10;
    expect(await read(late)).toBe('["b"]');
    // A found chunk is immutable: served from memory, no KV operation.
    const reader = new KvReader(env.CACHE, tier);
    expect(await reader.get(there)).toBe('["a"]');
    expect(reader.ops).toBe(0);
  });
});
