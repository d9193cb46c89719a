/** Signs a body the way WorkOS does: `t=<ms>, v1=<hex HMAC-SHA256("<t>.<body>")>`. */
export async function signatureHeader(body: string, secret: string, t = Date.now(), space = true): Promise<string> {
  return `t=${t},${space ? " " : ""}v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

export async function hmacHex(secret: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}
