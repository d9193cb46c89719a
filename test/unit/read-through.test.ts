/** Read-through's sharing of one WorkOS call among concurrent misses of an id. */
import { describe, expect, it } from "vitest";
import { shared } from "../../src/read/read-through";

describe("shared WorkOS calls", () => {
  it("concurrent callers of one key share one call", async () => {
    let calls = 0;
    let release: (v: string) => void = () => {};
    const call = () => {
      calls += 1;
      return new Promise<string>((r) => {
        release = r;
      });
    };
    const answers = Promise.all([shared("k1", call), shared("k1", call), shared("k1", call)]);
    release("user");
    expect(await answers).toEqual(["user", "user", "user"]);
    expect(calls).toBe(1);
    // Settled: the next miss asks again.
    const next = shared("k1", async () => "again");
    expect(await next).toBe("again");
  });

  it("a caller whose shared call never settles makes its own after a while, instead of hanging", async () => {
    // The first call belongs to a request that was cancelled: it never settles.
    const dead = shared("k2", () => new Promise<string>(() => {}), 50);
    let calls = 0;
    const live = () => {
      calls += 1;
      return Promise.resolve(`live ${calls}`);
    };
    expect(await shared("k2", live, 50)).toBe("live 1");
    expect(await Promise.race([dead.then(() => "settled"), Promise.resolve("pending")])).toBe("pending");
  });

  it("a failure of the shared call reaches every caller", async () => {
    let fail: (e: Error) => void = () => {};
    const call = () =>
      new Promise<string>((_, reject) => {
        fail = reject;
      });
    const a = shared("k3", call);
    const b = shared("k3", call);
    fail(new Error("WorkOS answered 500"));
    await expect(a).rejects.toThrow("500");
    await expect(b).rejects.toThrow("500");
  });
});
