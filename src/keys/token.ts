/** Access keys: `sk_cache_` and 256 random bits (base64url, bearer-token safe); stored only hashed. */
const PREFIX = "sk_cache_";

export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${PREFIX}${b64}`;
}

/** The SHA-256 of a presented key, hex: what is stored and looked up, never the key. */
export async function keyHash(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What the admin API shows of a key: enough characters to tell keys apart, far too few to use. */
export const displayPrefix = (key: string) => key.slice(0, PREFIX.length + 4);

/** Only keys of this form are looked up (anything else cannot be a stored key). */
export const looksStored = (key: string) => key.startsWith(PREFIX);
