import { describe, expect, inject, it } from "vitest";
import { retryAfterMs, UpstreamError, WorkOSClient } from "../../src/upstream/client";
import { STANDIN_KEY } from "../support/settings";
import { standin } from "../support/standin-client";
import { publish, upstreamDirectory } from "./helpers";

/** A real client against the stand-in, recording the waits it would sleep instead of sleeping. */
function client(opts: { random?: () => number; timeoutMs?: number } = {}) {
  const waits: number[] = [];
  const c = new WorkOSClient({
    apiKey: STANDIN_KEY,
    baseUrl: inject("standinUrl"),
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: opts.random ?? (() => 0.5),
    timeoutMs: opts.timeoutMs ?? 2_000,
  });
  return { c, waits };
}

describe("WorkOS client", () => {
  const d = upstreamDirectory("directory_01CLIENT", 3, 1);

  it("retries 429 and 5xx, waiting what Retry-After says", async () => {
    await publish(d);
    await standin.fault({
      match: "/directories/directory_01CLIENT",
      mode: "status",
      status: 429,
      times: 2,
      retryAfter: 2,
      body: "Ratelimited",
    });
    const { c, waits } = client();
    expect((await c.getDirectory(d.dir.id)).id).toBe(d.dir.id);
    expect(waits).toEqual([2000, 2000]);
  });

  it("backs off with jitter when no Retry-After comes, then gives up after its retries", async () => {
    await standin.fault({ match: "directory_group_CLIENT_000", mode: "status", status: 503 });
    const before = (await standin.stats("", "directory_group_CLIENT_000")).requests;
    const low = client({ random: () => 0 });
    const err = await low.c.getGroup(d.gid(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(503);
    expect(low.waits).toEqual([250, 375, 562.5]);
    expect((await standin.stats("", "directory_group_CLIENT_000")).requests - before).toBe(4);
    const high = client({ random: () => 0.999 });
    await high.c.getGroup(d.gid(0)).catch(() => undefined);
    expect(high.waits.every((w, i) => w > 500 * 1.5 ** i * 1.4)).toBe(true);
    await standin.clearFaults("directory_group_CLIENT_000");
  });

  it("does not retry a 404, and times out a request that never answers", async () => {
    const { c, waits } = client();
    const missing = await c.getUser("directory_user_CLIENT_none").catch((e: unknown) => e);
    expect((missing as UpstreamError).status).toBe(404);
    expect(waits).toEqual([]);

    await standin.fault({ match: "directory_user_CLIENT_hang", mode: "hang", times: 1 });
    await standin.put({ users: [{ ...d.users[0], id: "directory_user_CLIENT_hang" }] });
    const slow = client({ timeoutMs: 300 });
    expect((await slow.c.getUser("directory_user_CLIENT_hang")).id).toBe("directory_user_CLIENT_hang");
    expect(slow.waits).toHaveLength(1);
  });

  it("refuses an answer that does not match the schema", async () => {
    await standin.fault({
      match: "directory_user_CLIENT_odd",
      mode: "status",
      status: 200,
      times: 1,
      body: { id: 42 },
    });
    const err = await client()
      .c.getUser("directory_user_CLIENT_odd")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toContain("unexpected shape");
  });

  it("reads Retry-After as seconds or an HTTP date, capped at a minute", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs("600")).toBe(60_000);
    expect(
      retryAfterMs(new Date(Date.parse("2026-01-01T00:00:10Z")).toUTCString(), Date.parse("2026-01-01T00:00:00Z")),
    ).toBe(10_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});
