import { describe, expect, it } from "vitest";
import { splitIntoChunks } from "../../src/kv/chunks";
import { fnv64 } from "../../src/kv/keys";
import { type ChunkRow, readSorted, rechunk } from "../../src/kv/rechunk";

/** A seeded generator, so a failing case can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const keyOf = (i: number) => `2026-01-01T00:00:00.000Z~user_${String(i).padStart(7, "0")}`;

/** The layout a full rebuild gives: what the incremental one must equal. */
const rebuilt = (keys: readonly string[]): ChunkRow[] =>
  splitIntoChunks(keys).map((c) => ({
    first: c[0] as string,
    last: c.at(-1) as string,
    count: c.length,
    hash: fnv64(JSON.stringify(c)),
  }));

describe("incremental list index chunks", () => {
  it("equal a full rebuild after random changes: inserts, deletes, re-creates, at sizes crossing chunk boundaries", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = random(seed);
      const universe = 200 + Math.floor(rnd() * 6000);
      const live = new Set<number>();
      for (let i = 0; i < universe; i++) if (rnd() < 0.5) live.add(i);
      let keys = [...live].sort((a, b) => a - b).map(keyOf);
      let layout = rebuilt(keys);
      for (let round = 0; round < 12; round++) {
        // A batch of changes: a few scattered, or a run (a bulk load), or nearly everything.
        const touched: string[] = [];
        const kind = rnd();
        const n = kind < 0.6 ? 1 + Math.floor(rnd() * 5) : kind < 0.9 ? 50 + Math.floor(rnd() * 400) : universe;
        const start = Math.floor(rnd() * universe);
        for (let j = 0; j < n; j++) {
          const i = kind < 0.6 ? Math.floor(rnd() * (universe + 50)) : (start + j) % (universe + 50);
          if (live.has(i)) live.delete(i);
          else live.add(i);
          touched.push(keyOf(i));
        }
        // A touch that changed nothing (an update with the same sort key) is harmless.
        touched.push(keyOf(Math.floor(rnd() * universe)));
        keys = [...live].sort((a, b) => a - b).map(keyOf);
        const next = rechunk(layout, touched, readSorted(keys));
        const expected = rebuilt(keys);
        expect(next.layout, `seed ${seed} round ${round}`).toEqual(expected);
        // Every chunk not carried over from the old layout is built with its body.
        const oldHashes = new Set(layout.map((c) => c.hash));
        for (const c of next.layout)
          if (!oldHashes.has(c.hash)) expect(next.fresh.some((f) => f.hash === c.hash)).toBe(true);
        for (const f of next.fresh) expect(f.keys).toHaveLength(f.count);
        layout = next.layout;
      }
      // Emptied, then refilled.
      const emptied = rechunk(layout, keys, readSorted([]));
      expect(emptied.layout).toEqual([]);
    }
  });

  it("reads only around a change, not the whole list", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => keyOf(i * 2));
    const layout = rebuilt(keys);
    // One user created in the middle of a 100k list.
    const added = keyOf(100_001);
    const after = [...keys, added].sort();
    const next = rechunk(layout, [added], readSorted(after));
    expect(next.layout).toEqual(rebuilt(after));
    expect(next.read).toBeLessThan(3_000);
    expect(next.fresh.length).toBeLessThanOrEqual(3);
    // And one deleted near the start, one near the end: two places, still a few chunks each.
    const gone = [keys[5] as string, keys[99_990] as string];
    const fewer = after.filter((k) => !gone.includes(k));
    const again = rechunk(next.layout, gone, readSorted(fewer));
    expect(again.layout).toEqual(rebuilt(fewer));
    expect(again.read).toBeLessThan(6_000);
  });

  it("rebuilds everything when the changes are unknown", () => {
    const keys = Array.from({ length: 3000 }, (_, i) => keyOf(i));
    const full = rechunk(rebuilt(keys.slice(0, 10)), null, readSorted(keys));
    expect(full.layout).toEqual(rebuilt(keys));
    expect(full.fresh).toHaveLength(full.layout.length);
  });
});
