/**
 * Freshness, as a caller sees it: the time from a webhook's 200 to the change being visible
 * through a default read, by id and in a list page. Each sample creates a user newer than every
 * other (so it lands on the list's first page), then polls both reads until they show it.
 */
import autocannon from "autocannon";

const POLL_MS = 25;
/** Every sample's user is newer than all before it, in every phase: it must land on the first page. */
let newest = 50_000_000;
const GIVE_UP_MS = 30_000;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/**
 * `post(body)` delivers one signed webhook and resolves on its 200; `user(id, i)` builds a user
 * of the directory, `i` ordering it (higher: newer); `flood`, when given, is an autocannon
 * target run for as long as the samples take (the ingestion load the samples are taken under).
 */
export async function measureFreshness({ base, directoryId, samples, headers, post, user, event, flood, tag }) {
  let load;
  if (flood) load = autocannon({ connections: 8, duration: 3600, ...flood }, () => undefined);
  const byId = [];
  const inList = [];
  try {
    for (let k = 0; k < samples; k++) {
      const id = `directory_user_fresh_${tag}_${k}`;
      await post(JSON.stringify(event("dsync.user.created", user(id, ++newest))));
      const acked = performance.now();
      let idAt = null;
      let listAt = null;
      while (idAt === null || listAt === null) {
        const elapsed = performance.now() - acked;
        if (elapsed > GIVE_UP_MS) {
          idAt ??= elapsed;
          listAt ??= elapsed;
          break;
        }
        if (idAt === null) {
          const res = await fetch(`${base}directory_users/${id}`, { headers });
          await res.arrayBuffer();
          if (res.status === 200) idAt = performance.now() - acked;
        }
        if (listAt === null) {
          const res = await fetch(`${base}directory_users?directory=${directoryId}&limit=5`, { headers });
          if ((await res.text()).includes(`"${id}"`)) listAt = performance.now() - acked;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      byId.push(idAt);
      inList.push(listAt);
    }
  } finally {
    load?.stop();
  }
  const summary = (xs) => ({
    p50: Math.round(pct(xs, 50)),
    p99: Math.round(pct(xs, 99)),
    max: Math.round(Math.max(...xs)),
  });
  return { byId: summary(byId), inList: summary(inList), samples };
}
