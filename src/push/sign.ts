/**
 * Signatures of a delivery, so a consumer verifies it with the tooling it already has:
 * - `WorkOS-Signature: t=<ms>, v1=<hex>`: HMAC-SHA256 over `<t>.<body>` keyed with the secret's
 *   UTF-8 bytes, exactly as WorkOS signs (the SDKs' `webhooks.constructEvent` verifies it);
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp` in seconds, `webhook-signature:
 *   v1,<base64>` over `<id>.<timestamp>.<body>` keyed with the base64 part of `whsec_<base64>`).
 */
const encoder = new TextEncoder();

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(message)));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** A new subscription secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks' form). */
export function newSecret(): string {
  return `whsec_${base64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function deliveryHeaders(
  secret: string,
  eventId: string,
  body: string,
  now = Date.now(),
): Promise<Record<string, string>> {
  const workos = hex(await hmac(encoder.encode(secret), `${now}.${body}`));
  const seconds = Math.floor(now / 1000);
  const key = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const standard = base64(await hmac(key, `${eventId}.${seconds}.${body}`));
  return {
    "Content-Type": "application/json",
    "WorkOS-Signature": `t=${now}, v1=${workos}`,
    "webhook-id": eventId,
    "webhook-timestamp": String(seconds),
    "webhook-signature": `v1,${standard}`,
  };
}
