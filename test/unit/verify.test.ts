import { describe, expect, it } from "vitest";
import { parseSignatureHeader, verifySignature } from "../../src/webhooks/verify";
import { hmacHex, signatureHeader } from "../support/sign";

// Official vector: .NET SDK WebhookTests.TestExpectedSignature (see shared reference §8).
const SECRET = "nTqlYkHe6GyqYkmUQWksUWYmQ";
const T = 1634310434103;
const BODY =
  '{"id":"wh_01FJ27WB8SNT7VN72KRMYJYV8P","data":{"id":"directory_user_01E1X1B89NH8Z3SDFJR4H7RGX7","state":"active","emails":[{"type":"work","value":"veda@example.com","primary":true}],"username":"veda@example.com","last_name":"Block","first_name":"Lela","directory_id":"directory_01E1X194NTJ3PYMAY79DYV0F0P"},"event":"dsync.user.created"}';
const V1 = "0de6f84a9c3dd217973c44dffbcb3fd1225a4ab453e08b608491479ebab382e8";
const HEADER = `t=${T}, v1=${V1}`;

const bytes = (s: string) => new TextEncoder().encode(s);
const TOLERANCE = 180_000;
const check = (body: string, header: string | undefined, secrets = [SECRET], now = T + 1000) =>
  verifySignature(bytes(body), header, secrets, now, TOLERANCE);

describe("WorkOS-Signature verification", () => {
  it("accepts the official test vector (clock injected)", async () => {
    expect(await check(BODY, HEADER)).toEqual({ ok: true });
  });

  it("matches the reference's computed vectors and plain-HMAC vectors", async () => {
    expect(await hmacHex("secret", '1700000000000.{"a":1}')).toBe(
      "4ef2732b0d632a6897af3a6d02a6de287f60d6c5f15dabdb0ceb045a34e3c5a7",
    );
    expect(await hmacHex("test_secret", "")).toBe("f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd");
    expect(await hmacHex("test_secret", "😀")).toBe("837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43");
    const header = "t=1700000000000, v1=2426cfde168738008eddac1fff550c61e990050d69588fcf85b508fea3418eec";
    const body = '{"id":"event_01","event":"dsync.user.updated"}';
    expect(await verifySignature(bytes(body), header, ["whsec_test"], 1700000000000, TOLERANCE)).toEqual({ ok: true });
  });

  it("tolerates the header without the space, in any order, with several v1", async () => {
    expect(await check(BODY, `t=${T},v1=${V1}`)).toEqual({ ok: true });
    expect(await check(BODY, `v1=${V1}, t=${T}`)).toEqual({ ok: true });
    expect(await check(BODY, `t=${T}, v1=${"0".repeat(64)}, v1=${V1}`)).toEqual({ ok: true });
  });

  it("bounds what an unauthenticated header can cost: at most 4 signatures and 1 KiB, else refused", async () => {
    const decoys = (n: number) => Array.from({ length: n }, (_, i) => `v1=${String(i).padStart(64, "0")}`);
    expect(await check(BODY, [`t=${T}`, ...decoys(3), `v1=${V1}`].join(", "))).toEqual({ ok: true });
    // The valid signature is there, but behind more candidates than any sender needs.
    expect(await check(BODY, [`t=${T}`, ...decoys(4), `v1=${V1}`].join(", "))).toEqual({
      ok: false,
      reason: "too many signatures in WorkOS-Signature",
    });
    expect(await check(BODY, [`t=${T}`, ...decoys(40), `v1=${V1}`].join(","))).toMatchObject({ ok: false });
    expect(await check(BODY, `${HEADER}, x=${"a".repeat(1024)}`)).toEqual({
      ok: false,
      reason: "WorkOS-Signature header is too long",
    });
  });

  it("accepts any configured secret (rotation) and rejects when none matches", async () => {
    expect(await check(BODY, HEADER, ["whsec_new", SECRET])).toEqual({ ok: true });
    expect(await check(BODY, HEADER, ["whsec_new"])).toMatchObject({ ok: false, reason: "signature does not match" });
  });

  it("rejects forged variants of a valid delivery", async () => {
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    const reordered = JSON.stringify({ event: "dsync.user.created", ...JSON.parse(BODY) });
    for (const body of [pretty, reordered, `\uFEFF${BODY}`, BODY.replace("Lela", "Lola"), `${BODY} `]) {
      expect(await check(body, HEADER)).toMatchObject({ ok: false, reason: "signature does not match" });
    }
    const flipped = V1.replace(/^0/, "1");
    expect(await check(BODY, `t=${T}, v1=${flipped}`)).toMatchObject({ ok: false });
    expect(await check(BODY, `t=${T + 1}, v1=${V1}`)).toMatchObject({ ok: false, reason: "signature does not match" });
  });

  it("rejects timestamps outside ±tolerance, both ways, and seconds-based timestamps", async () => {
    expect(await check(BODY, HEADER, [SECRET], T + TOLERANCE + 1)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("tolerance"),
    });
    expect(await check(BODY, HEADER, [SECRET], T - TOLERANCE - 1)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("tolerance"),
    });
    const now = Date.now();
    const seconds = `t=${Math.floor(now / 1000)}, v1=${await hmacHex(SECRET, `${Math.floor(now / 1000)}.${BODY}`)}`;
    expect(await verifySignature(bytes(BODY), seconds, [SECRET], now, TOLERANCE)).toMatchObject({ ok: false });
    expect(
      await verifySignature(bytes(BODY), await signatureHeader(BODY, SECRET, now), [SECRET], now, TOLERANCE),
    ).toEqual({
      ok: true,
    });
  });

  it("rejects missing, malformed and secret-less cases", async () => {
    expect(await check(BODY, undefined)).toMatchObject({ ok: false, reason: "missing WorkOS-Signature header" });
    for (const bad of [
      "",
      "garbage",
      `t=${T}`,
      `v1=${V1}`,
      `t=abc, v1=${V1}`,
      `t=${T}, t=${T}, v1=${V1}`,
      `t=NaN, v1=${V1}`,
    ]) {
      expect(await check(BODY, bad)).toMatchObject({ ok: false });
    }
    expect(await check(BODY, `t=${T}, v1=${V1.toUpperCase().slice(0, 63)}`)).toMatchObject({ ok: false });
    expect(await check(BODY, HEADER, [])).toMatchObject({ ok: false, reason: "no webhook secret is configured" });
  });

  it("parses by key and trims", () => {
    expect(parseSignatureHeader(` t=1 ,  v1=ab , x=y`)).toEqual({ t: "1", v1: ["ab"] });
  });
});

describe("API key comparison", () => {
  it("matches only the exact key, whatever the length or shared prefix", async () => {
    const { constantTimeEqual, matchesAnyKey } = await import("../../src/http/auth");
    expect(constantTimeEqual("sk_live_abc", "sk_live_abc")).toBe(true);
    for (const guess of ["", "s", "sk_live_ab", "sk_live_abd", "sk_live_abcd", "SK_LIVE_ABC", "sk_live_abc\u0000"]) {
      expect(constantTimeEqual(guess, "sk_live_abc"), JSON.stringify(guess)).toBe(false);
    }
    expect(matchesAnyKey("k2", ["k1", "k2", "k3"])).toBe(true);
    expect(matchesAnyKey("k4", ["k1", "k2", "k3"])).toBe(false);
  });
});
