import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { idOfSortKey } from "../../src/directory/model";
import { CHUNK_MAX, CHUNK_MIN, chunkBase, type Manifest, planWindow, splitIntoChunks } from "../../src/kv/chunks";
import { cutPage, type PageQuery, pageTake } from "../../src/read/pagination";
import type { Order } from "../../src/schemas/list";

// Sort keys "000..0N:oN": ascending position N is object oN.
const keys = (n: number) => Array.from({ length: n }, (_, i) => `${String(i).padStart(15, "0")}:o${i}`);
const sk = (i: number) => `${String(i).padStart(15, "0")}:o${i}`;
const full = (n: number) => ({ keys: keys(n), base: 0, total: n });
const page = (n: number, q: PageQuery) => {
  const p = cutPage(full(n), q, idOfSortKey);
  return { ids: p.keys.map(idOfSortKey), ...p.metadata };
};

describe("WorkOS pagination semantics", () => {
  it("desc (default): newest first; after = older, before = newer", () => {
    expect(page(10, { order: "desc", limit: 3 })).toEqual({ ids: ["o9", "o8", "o7"], before: null, after: "o7" });
    expect(page(10, { order: "desc", limit: 3, after: sk(7) })).toEqual({
      ids: ["o6", "o5", "o4"],
      before: "o6",
      after: "o4",
    });
    expect(page(10, { order: "desc", limit: 3, before: sk(4) })).toEqual({
      ids: ["o7", "o6", "o5"],
      before: "o7",
      after: "o5",
    });
    expect(page(10, { order: "desc", limit: 3, after: sk(2) })).toEqual({
      ids: ["o1", "o0"],
      before: "o1",
      after: null,
    });
  });

  it("asc: oldest first; after = newer, before = older", () => {
    expect(page(10, { order: "asc", limit: 4 })).toEqual({ ids: ["o0", "o1", "o2", "o3"], before: null, after: "o3" });
    expect(page(10, { order: "asc", limit: 4, after: sk(7) })).toEqual({
      ids: ["o8", "o9"],
      before: "o8",
      after: null,
    });
    expect(page(10, { order: "asc", limit: 2, before: sk(5) })).toEqual({
      ids: ["o3", "o4"],
      before: "o3",
      after: "o4",
    });
  });

  it("normal: newest first with the cursors flipped (after = newer, before = older)", () => {
    expect(page(10, { order: "normal", limit: 3 })).toEqual({ ids: ["o9", "o8", "o7"], before: "o7", after: null });
    expect(page(10, { order: "normal", limit: 3, before: sk(7) })).toEqual({
      ids: ["o6", "o5", "o4"],
      before: "o4",
      after: "o6",
    });
    expect(page(10, { order: "normal", limit: 3, after: sk(4) })).toEqual({
      ids: ["o7", "o6", "o5"],
      before: "o5",
      after: "o7",
    });
  });

  it("empty lists and pages past the end carry null cursors", () => {
    expect(page(0, { order: "desc", limit: 10 })).toEqual({ ids: [], before: null, after: null });
    expect(page(3, { order: "desc", limit: 10, after: sk(0) })).toEqual({ ids: [], before: null, after: null });
  });

  it("both cursors bound the page from both sides", () => {
    expect(page(10, { order: "desc", limit: 10, after: sk(8), before: sk(4) }).ids).toEqual(["o7", "o6", "o5"]);
  });

  it("following list_metadata.after visits every item once, in order (property)", () => {
    fc.assert(
      fc.property(
        fc.nat(250),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom<Order>("asc", "desc"),
        (n, limit, order) => {
          const seen: string[] = [];
          let after: string | undefined;
          for (let guard = 0; guard <= n + 1; guard++) {
            const p = cutPage(
              full(n),
              { order, limit, ...(after ? { after: sk(Number(after.slice(1))) } : {}) },
              idOfSortKey,
            );
            seen.push(...p.keys.map(idOfSortKey));
            if (!p.metadata.after) break;
            after = p.metadata.after;
          }
          const expected = keys(n).map(idOfSortKey);
          expect(seen).toEqual(order === "asc" ? expected : expected.reverse());
        },
      ),
    );
  });
});

describe("chunked list index", () => {
  it("cuts chunks between the size bounds and keeps unaffected chunks when one entry is added", () => {
    const all = keys(20_000);
    const chunks = splitIntoChunks(all);
    expect(chunks.flat()).toEqual(all);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(CHUNK_MIN);
      expect(c.length).toBeLessThanOrEqual(CHUNK_MAX);
    }
    const withOneMore = [...all.slice(0, 10_000), `${String(10_000).padStart(15, "0")}:extra`, ...all.slice(10_000)];
    const before = new Set(chunks.map((c) => JSON.stringify(c)));
    const changed = splitIntoChunks(withOneMore).filter((c) => !before.has(JSON.stringify(c)));
    expect(changed.length).toBeLessThanOrEqual(2);
  });

  it("the planned window yields the same page as the whole list (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom<Order>("asc", "desc", "normal"),
        fc.option(fc.tuple(fc.constantFrom("after" as const, "before" as const), fc.nat()), { nil: undefined }),
        (n, limit, order, cursor) => {
          const all = keys(n);
          const chunks = splitIntoChunks(all);
          const m: Manifest = { n, c: chunks.map((c, i) => [`h${i}`, c.length, c[0] as string]) };
          const q: PageQuery = { order, limit };
          if (cursor && n > 0) q[cursor[0]] = all[cursor[1] % n] as string;
          const plan = planWindow(m, q.after ?? q.before, pageTake(q), limit);
          if (!plan) {
            expect(n).toBe(0);
            return;
          }
          const [from, to] = plan;
          expect(to - from + 1).toBeLessThanOrEqual(Math.ceil(100 / CHUNK_MIN) + 1);
          const window = { keys: chunks.slice(from, to + 1).flat(), base: chunkBase(m, from), total: n };
          expect(cutPage(window, q, idOfSortKey)).toEqual(cutPage(full(n), q, idOfSortKey));
        },
      ),
      { numRuns: 300 },
    );
  });
});
