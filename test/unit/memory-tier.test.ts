import { describe, expect, it } from "vitest";
import { FRESH_MS, MAX_AGE_MS, MemoryTier } from "../../src/read/memory-tier";

describe("memory tier", () => {
  const clocked = (limits?: { entries: number; chars: number }) => {
    const clock = { now: 1_000_000 };
    return { clock, tier: new MemoryTier(() => clock.now, limits) };
  };

  it("serves fresh, then stale while one refresh is claimed, and never past the bound", () => {
    const { clock, tier } = clocked();
    tier.set("k", "v1");
    expect(tier.get("k")).toMatchObject({ value: "v1", stale: false });
    clock.now += FRESH_MS + 1;
    expect(tier.get("k")).toMatchObject({ value: "v1", stale: true });
    expect(tier.claimRefresh("k")).toBe(true);
    expect(tier.claimRefresh("k")).toBe(false);
    clock.now += MAX_AGE_MS;
    expect(tier.get("k")).toBeUndefined();
  });

  it("remembers absent keys too, and keeps immutable chunks past the bound", () => {
    const { clock, tier } = clocked();
    tier.set("missing", null);
    tier.set("v1:index:x:chunk:abc", "[]", true);
    expect(tier.get("missing")).toMatchObject({ value: null, stale: false });
    clock.now += MAX_AGE_MS * 10;
    expect(tier.get("missing")).toBeUndefined();
    expect(tier.get("v1:index:x:chunk:abc")).toMatchObject({ value: "[]", stale: false });
  });

  it("evicts least recently used entries past its size bounds", () => {
    const { tier } = clocked({ entries: 3, chars: 1_000 });
    for (const k of ["a", "b", "c"]) tier.set(k, "x");
    tier.get("a");
    tier.set("d", "x");
    expect(tier.get("b")).toBeUndefined();
    expect(tier.get("a")?.value).toBe("x");
    const small = clocked({ entries: 100, chars: 10 }).tier;
    small.set("k1", "12345");
    small.set("k2", "12345");
    expect(small.get("k1")).toBeUndefined();
    expect(small.size).toBe(1);
  });
});
