/**
 * WorkOS-Signature: `t=<ms since epoch>, v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * Parsed by key (any order, with or without the space, several v1 allowed), checked against
 * every configured secret in constant time, and the timestamp must be within the tolerance on
 * both sides of now.
 *
 * Unauthenticated callers choose the header, so its cost is bounded before any HMAC: at most
 * MAX_HEADER_BYTES and MAX_SIGNATURES `v1` values (WorkOS sends one; a rotation may add one),
 * else a 401. The body is signed once per secret, whatever the number of candidates.
 */
export const MAX_HEADER_BYTES = 1024;
export const MAX_SIGNATURES = 4;
export type Verdict = { ok: true } | { ok: false; reason: string };

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(secret, key);
  }
  return key;
}

export function parseSignatureHeader(header: string): { t: string; v1: string[] } | null {
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t") {
      if (t !== undefined) return null;
      t = value;
    } else if (name === "v1") v1.push(value);
  }
  if (t === undefined || !/^\d{1,16}$/.test(t) || v1.length === 0) return null;
  return { t, v1 };
}

function hexToBytes(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export async function verifySignature(
  body: Uint8Array,
  header: string | undefined,
  secrets: readonly string[],
  nowMs: number,
  toleranceMs: number,
): Promise<Verdict> {
  if (secrets.length === 0) return { ok: false, reason: "no webhook secret is configured" };
  if (!header) return { ok: false, reason: "missing WorkOS-Signature header" };
  if (header.length > MAX_HEADER_BYTES) return { ok: false, reason: "WorkOS-Signature header is too long" };
  const parsed = parseSignatureHeader(header);
  if (!parsed) return { ok: false, reason: "malformed WorkOS-Signature header" };
  if (parsed.v1.length > MAX_SIGNATURES) return { ok: false, reason: "too many signatures in WorkOS-Signature" };
  if (Math.abs(nowMs - Number(parsed.t)) > toleranceMs) {
    return { ok: false, reason: "signature timestamp is outside the tolerance" };
  }
  const prefix = encoder.encode(`${parsed.t}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const candidates = parsed.v1.map(hexToBytes).filter((b): b is Uint8Array => b !== null);
  let valid = false;
  for (const secret of secrets) {
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), signed));
    for (const mac of candidates) {
      if (crypto.subtle.timingSafeEqual(expected, mac)) valid = true;
    }
  }
  return valid ? { ok: true } : { ok: false, reason: "signature does not match" };
}
