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

  it("dates a request's values from their read, so an answer built from them is as old as its oldest", async () => {
    const clock = { now: 1_000_000 };
    const tier = new MemoryTier(() => clock.now);
    const user = kvKeys.user("directory_user_01OLDEST");
    const chunk = kvKeys.chunk(kvKeys.directoryUsers("directory_01OLDEST"), "c");
    await env.CACHE.put(user, "{}");
    await env.CACHE.put(chunk, "[]");
    await new KvReader(env.CACHE, tier).getMany([user, chunk]);
    clock.now += 800;
    const reader = new KvReader(env.CACHE, tier);
    await reader.getMany([user, chunk]);
    // The user was read 800 ms ago: an answer built now is already that old.
    expect(reader.oldest).toBe(1_000_000);
    expect(reader.roundTrips).toBe(0);
    // An immutable chunk does not age an answer, however long ago it was read.
    clock.now += MAX_AGE_MS * 10;
    const later = new KvReader(env.CACHE, tier);
    await later.get(chunk);
    expect(later.oldest).toBeUndefined();
  });

  it("never waits on another request's read of the same key: that read may never settle", async () => {
    const tier = new MemoryTier();
    const key = kvKeys.user("directory_user_01NOTSHARED");
    await env.CACHE.put(key, '{"id":"x"}');
    // The first request's read never settles, as one of a request the runtime cancelled.
    let calls = 0;
    const stuckOnce = new Proxy(env.CACHE, {
      get(target, prop, receiver) {
        if (prop !== "get") return Reflect.get(target, prop, receiver);
        return (...args: Parameters<KVNamespace["get"]>) =>
          ++calls === 1 ? new Promise(() => undefined) : (target.get as (...a: unknown[]) => unknown)(...args);
      },
    });
    void new KvReader(stuckOnce, tier).get(key);
    const second = new KvReader(stuckOnce, tier);
    expect(await second.get(key)).toBe('{"id":"x"}');
    expect(second.roundTrips).toBe(1);
  });
});
