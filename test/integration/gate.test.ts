import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ACCOUNT_INTERVAL_MS } from "../../src/upstream/gate";

describe("the account-wide WorkOS pacer", () => {
  it("bounds its queue: a caller whose slot would come too late is refused at once and takes no slot", async () => {
    const gate = env.UPSTREAM_GATE.getByName("gate-bounded");
    const waits = await Promise.all(Array.from({ length: 300 }, () => gate.reserve(1_000)));
    const granted = waits.filter((w): w is number => w !== null);
    // About a second's worth of slots, then refusals; none granted past the bound.
    expect(granted.length).toBeGreaterThan(50);
    expect(Math.max(...granted)).toBeLessThanOrEqual(1_000);
    expect(waits.filter((w) => w === null).length).toBeGreaterThan(100);
    // Refusals took no slot: a patient caller queues right after the last one granted.
    const next = (await gate.reserve(60_000)) as number;
    expect(next).toBeLessThanOrEqual(Math.max(...granted) + 2 * ACCOUNT_INTERVAL_MS);
  });
});
