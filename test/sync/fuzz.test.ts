/**
 * The route fuzz with pulling on: misses go to (the stand-in of) WorkOS, lists of directories
 * not held are relayed, unknown ids are looked up. Still JSON, the WorkOS shape, never a 5xx.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { request, sendAndCheck } from "../support/fuzz";
import { standin } from "../support/standin-client";

describe("any request, pulling from WorkOS", () => {
  it("gets JSON and never a 5xx (1,000 random requests)", async () => {
    const before = (await standin.stats()).requests;
    await fc.assert(
      fc.asyncProperty(request, (r) => sendAndCheck(r, new Set())),
      { numRuns: 1000, seed: 20261204 },
    );
    // The fuzz reached WorkOS's paths, not only the cache's refusals.
    expect((await standin.stats()).requests - before).toBeGreaterThan(100);
  }, 300_000);
});
