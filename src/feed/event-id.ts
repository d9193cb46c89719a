/** Crockford's base32, as ULIDs (and WorkOS's ids) use it. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A new `event_` id in WorkOS's form: a ULID (48-bit milliseconds, then 80 random bits), so ids
 * sort by the time they were made, like the ids of the events WorkOS creates.
 */
export function newEventId(now = Date.now()): string {
  let time = "";
  let t = Math.max(0, Math.trunc(now));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rest = "";
  for (const byte of random) rest += ALPHABET[byte % 32];
  return `event_${time}${rest}`;
}
