/**
 * Whether a subscriber URL may be delivered to. Only https, to a public host: loopback, private,
 * link-local and other internal targets are refused (no request of the cache's may be aimed at
 * the network it runs in), as are URLs carrying credentials. `allowHttpLocalhost` (a development
 * setting) lets `http://localhost` and `http://127.0.0.1` through, for a consumer on the same
 * machine.
 */
export type TargetCheck = { ok: true; url: string } | { ok: false; reason: string };

const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa)$/i;

export function checkTarget(raw: string, allowHttpLocalhost: boolean): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not an absolute URL" };
  }
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials" };
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const loopbackName = host === "localhost" || host === "127.0.0.1" || host === "::1";
  if (url.protocol === "http:" && allowHttpLocalhost && loopbackName) return { ok: true, url: url.toString() };
  if (url.protocol !== "https:") return { ok: false, reason: "must be https" };
  if (INTERNAL_NAMES.test(host) || (!host.includes(".") && !host.includes(":")))
    return { ok: false, reason: "must name a public host" };
  if (isInternalAddress(host)) return { ok: false, reason: "must not be a loopback, private or link-local address" };
  return { ok: true, url: url.toString() };
}

/** IPv4 and IPv6 literals of loopback, private, link-local, shared, unspecified or multicast ranges. */
function isInternalAddress(host: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return internalV4(v4.slice(1).map(Number) as [number, number, number, number]);
  if (!host.includes(":")) return false;
  // IPv4-mapped (::ffff:a.b.c.d, or as hex words after URL normalisation).
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(host);
  if (mapped) {
    if (mapped[1]) return isInternalAddress(mapped[1]);
    const hi = Number.parseInt(mapped[2] as string, 16);
    const lo = Number.parseInt(mapped[3] as string, 16);
    return internalV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  if (host === "::" || host === "::1") return true;
  const first = Number.parseInt(host.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (first & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (first & 0xff00) === 0xff00 // ff00::/8 multicast
  );
}

function internalV4([a, b]: [number, number, number, number]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}
