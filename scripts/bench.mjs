#!/usr/bin/env node
/**
 * Side-by-side benchmark: the cache against a bare worker that returns the same bytes, both
 * straight on workerd through Miniflare (no dev proxy), driven by autocannon over loopback.
 * Throughput on this kind of machine swings 2-3x between runs, so cache and baseline alternate
 * over several rounds and the figure that counts is the median of the per-round ratios.
 *
 *   npm run bench                      # prints the report
 *   npm run bench -- --write           # and writes docs/benchmarks.md
 *   BENCH_ROUNDS=7 BENCH_SECONDS=4 BENCH_BIG_USERS=100000 npm run bench
 *   npm run bench -- --serve           # load, then keep both workers up (for bench:blackbox)
 *   BENCH_RUNTIME_LOG=/tmp/workerd.log npm run bench   # keep the worker's own log lines
 */
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { measureFreshness } from "./freshness.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const BIG = Number(process.env.BENCH_BIG_USERS ?? 100_000);
/** Freshness samples per directory and phase (0: not measured), and the flood's events per second. */
const FRESH_SAMPLES = Number(process.env.BENCH_FRESHNESS_SAMPLES ?? 20);
const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? 100);
const READ_KEY = "sk_bench_reader";
const ADMIN_KEY = "sk_bench_admin";
const SECRET = "whsec_bench";
const T0 = Date.parse("2026-01-15T12:00:00.000Z");
const iso = (ms) => new Date(ms).toISOString();
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------- workers ----------
function build() {
  const outdir = mkdtempSync(join(tmpdir(), "dsync-bench-"));
  execFileSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return join(outdir, "index.js");
}

const workerdPids = () => {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "workerd"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean);
  } catch {
    return [];
  }
};
const rssMiB = (pid) => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
};

// workerd's stdout carries the worker's JSON log lines: drained (the logging still happens), or
// kept in BENCH_RUNTIME_LOG to see what the worker said during a run.
const runtimeLog = process.env.BENCH_RUNTIME_LOG
  ? createWriteStream(process.env.BENCH_RUNTIME_LOG, { flags: "a" })
  : null;

async function start(options) {
  const before = new Set(workerdPids());
  const drain = (stdout, stderr) => {
    if (runtimeLog) stdout.pipe(runtimeLog, { end: false });
    else stdout.resume();
    stderr.pipe(process.stderr);
  };
  const mf = new Miniflare({ host: "127.0.0.1", port: 0, handleRuntimeStdio: drain, ...options });
  const url = await mf.ready;
  const pid = workerdPids().find((p) => !before.has(p)) ?? null;
  return { mf, url, pid };
}

async function startCache(scriptPath, settings = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  return start({
    ...workerOptions,
    modules: true,
    modulesRoot: dirname(scriptPath),
    scriptPath,
    bindings: {
      ...(workerOptions.bindings ?? {}),
      API_KEYS: READ_KEY,
      ADMIN_API_KEYS: ADMIN_KEY,
      WORKOS_WEBHOOK_SECRET: SECRET,
      ...settings,
    },
  });
}

/** The baseline: a worker that answers each benchmarked request with the cache's own bytes. */
function startBare(responses, compatibilityDate) {
  const script = `const R = ${JSON.stringify(responses)};
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "POST") await request.arrayBuffer();
    const r = R[request.method + " " + url.pathname + url.search] ?? R[request.method + " " + url.pathname];
    return r ? new Response(r.body, { status: r.status, headers: r.headers }) : new Response("{}", { status: 404 });
  },
};`;
  return start({ modules: true, script, compatibilityDate });
}

// ---------- data, through signed webhooks ----------
let seq = 0;
const sign = (body) => {
  const t = Date.now();
  return `t=${t}, v1=${createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex")}`;
};
const ev = (event, data, at = T0) => ({ id: `event_bench_${++seq}`, event, data, created_at: iso(at) });
const dir = (id) => ({
  object: "directory",
  id,
  organization_id: "org_bench",
  type: "okta scim v2.0",
  state: "active",
  name: `Bench ${id}`,
  external_key: id,
  domains: [],
  created_at: iso(T0),
  updated_at: iso(T0),
});
const usr = (id, d, i, email = true) => ({
  object: "directory_user",
  id,
  directory_id: d,
  organization_id: "org_bench",
  idp_id: `idp_${id}`,
  email: email ? `${id}@bench.test` : null,
  first_name: "Bench",
  last_name: String(i),
  state: "active",
  raw_attributes: {},
  custom_attributes: {},
  created_at: iso(T0 + i * 1000),
  updated_at: iso(T0 + i * 1000),
});
const grp = (id, d, i) => ({
  object: "directory_group",
  id,
  idp_id: `idp_${id}`,
  directory_id: d,
  organization_id: "org_bench",
  name: `Group ${i}`,
  raw_attributes: {},
  created_at: iso(T0 + i),
  updated_at: iso(T0 + i),
});

/** Deliveries retried after a connection reset or a 5xx, by cause, as WorkOS retries (the cache dedupes by event id). */
const redelivered = new Map();

async function post(base, body) {
  for (let attempt = 1; ; attempt++) {
    let failure;
    try {
      const res = await fetch(`${base}webhooks/workos`, {
        method: "POST",
        headers: { "WorkOS-Signature": sign(body) },
        body,
      });
      const text = await res.text();
      if (res.status === 200) return;
      if (res.status < 500) throw new Error(`webhook ${res.status}: ${text}`);
      failure = `HTTP ${res.status}`;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      failure = String(err.cause?.code ?? err.cause ?? err);
    }
    if (attempt === 5) throw new Error(`webhook delivery failed 5 times: ${failure}`);
    redelivered.set(failure, (redelivered.get(failure) ?? 0) + 1);
    log(`redelivering after ${failure} (attempt ${attempt + 1})`);
    await new Promise((r) => setTimeout(r, 250 * attempt));
  }
}

async function deliver(base, events, concurrency = 32) {
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events.length) await post(base, JSON.stringify(events[next++]));
    }),
  );
  return events.length / ((Date.now() - started) / 1000);
}

async function adminStatus(base) {
  const res = await fetch(`${base}admin/status`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  return res.json();
}

/** Waits for the writers to drain; a writer that stops flushing for 2 minutes fails the run. */
async function untilFlushed(base, directories) {
  let seen = "";
  let since = Date.now();
  for (;;) {
    const s = await adminStatus(base);
    const mine = s.directories.filter((d) => directories.includes(d.directoryId));
    if (mine.length === directories.length && mine.every((d) => d.pendingKvWrites === 0)) return s;
    const progress = JSON.stringify(mine.map((d) => [d.pendingKvWrites, d.lastFlush?.at]));
    if (progress !== seen) [seen, since] = [progress, Date.now()];
    if (Date.now() - since > 120_000) throw new Error(`writers stopped flushing: ${JSON.stringify(mine)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// ---------- measuring ----------
function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function capture(base, method, path, headers, body) {
  const res = await fetch(`${base}${path.slice(1)}`, { method, headers, body });
  const text = await res.text();
  const keep = ["content-type", "etag", "cache-control", "x-request-id", "x-kv-operations", "x-kv-round-trips"];
  return {
    status: res.status,
    body: text,
    headers: Object.fromEntries([...res.headers].filter(([k]) => keep.includes(k))),
    kvOps: Number(res.headers.get("x-kv-operations") ?? "NaN"),
    roundTrips: Number(res.headers.get("x-kv-round-trips") ?? "NaN"),
  };
}

async function main() {
  log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  log("building the worker (wrangler deploy --dry-run)…");
  const scriptPath = build();
  // The cache under test delivers its change feed to one push subscriber; `plain` is the same
  // cache with the feed off, the baseline of ingestion with the feed.
  const cache = await startCache(scriptPath, { PUSH_ALLOW_HTTP_LOCALHOST: "true" });
  const plain = await startCache(scriptPath, { CHANGE_FEED: "off" });
  const base = cache.url.href;

  const D1 = "directory_bench_1k";
  const DB = "directory_bench_big";
  const DI = "directory_bench_ingest";
  const groups = Array.from({ length: 10 }, (_, i) => grp(`directory_group_bench_${i}`, D1, i));
  const small = [ev("dsync.activated", dir(D1))];
  for (let i = 0; i < 1000; i++) {
    const u = usr(`directory_user_s${String(i).padStart(6, "0")}`, D1, i);
    small.push(ev("dsync.group.user_added", { directory_id: D1, user: u, group: groups[i % 10] }, T0 + i));
  }
  log(`loading 1,000 users with memberships through ${small.length} signed webhooks…`);
  const smallRate = await deliver(base, small);
  log(`loading ${BIG.toLocaleString()} users through signed webhooks…`);
  const big = [ev("dsync.activated", dir(DB))];
  for (let i = 0; i < BIG; i++)
    big.push(ev("dsync.user.created", usr(`directory_user_b${String(i).padStart(7, "0")}`, DB, i, false)));
  const bigRate = await deliver(base, big, 64);
  log(`delivered (${Math.round(smallRate)}/s, ${Math.round(bigRate)}/s); waiting for the writers to flush to KV…`);
  const flushStarted = Date.now();
  await untilFlushed(base, [D1, DB]);
  const flushSeconds = Math.round((Date.now() - flushStarted) / 1000);
  log(`flushed in ${flushSeconds} s`);

  const auth = { Authorization: `Bearer ${READ_KEY}` };
  // A stored key limited to the benchmark's organization (issue 10): its check and the
  // organization check run on every request, against the same bare baseline.
  const made = await fetch(`${base}admin/keys`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "bench", scopes: ["read"], organization_ids: ["org_bench"] }),
  });
  if (made.status !== 201) throw new Error(`creating a limited key: ${made.status} ${await made.text()}`);
  const limited = { Authorization: `Bearer ${(await made.json()).key}` };
  const mid1 = "directory_user_s000500";
  const midBig = `directory_user_b${String(Math.floor(BIG / 2)).padStart(7, "0")}`;
  const scenarios = [
    { name: "GET user by id (hot)", path: `/directory_users/${mid1}` },
    { name: "list page of 100", path: `/directory_users?directory=${D1}&limit=100` },
    { name: "limited key: GET user by id (hot)", path: `/directory_users/${mid1}`, auth: limited },
    { name: "limited key: list page of 100", path: `/directory_users?directory=${D1}&limit=100`, auth: limited },
    // Answered by the directory's writer, not KV (issue 11): what a strong read costs.
    {
      name: "strong GET user by id (Cache-Control: no-cache)",
      path: `/directory_users/${mid1}`,
      auth: { ...auth, "Cache-Control": "no-cache" },
    },
    { name: "lookup by email", path: `/directory_users?directory=${D1}&email=${mid1}@bench.test` },
    { name: "group members page", path: `/directory_users?group=${groups[3].id}&limit=100` },
    // The directory-scoped routes of SDK 12: same reads, users served without `groups`.
    { name: "scoped GET user (SDK 12)", path: `/directories/${D1}/users/${mid1}` },
    { name: "scoped list page of 100 (SDK 12)", path: `/directories/${D1}/users?limit=100` },
    { name: "list page, 1k users, mid-list cursor", path: `/directory_users?directory=${D1}&limit=100&after=${mid1}` },
    {
      name: `list page, ${BIG / 1000}k users, mid-list cursor`,
      path: `/directory_users?directory=${DB}&limit=100&after=${midBig}`,
    },
  ];
  const responses = {};
  for (const s of scenarios) {
    const first = await capture(base, "GET", s.path, s.auth ?? auth);
    if (first.status !== 200) throw new Error(`${s.path}: ${first.status} ${first.body.slice(0, 200)}`);
    s.coldOps = first.kvOps;
    s.coldTrips = first.roundTrips;
    s.hotOps = (await capture(base, "GET", s.path, s.auth ?? auth)).kvOps;
    responses[`GET ${s.path}`] = first;
  }
  // Ingestion: every request a new signed event (a new user) for one directory.
  let n = 0;
  const ingestBody = () => JSON.stringify(ev("dsync.user.created", usr(`directory_user_i${++n}`, DI, n)));
  const sample = await capture(base, "POST", "/webhooks/workos", { "WorkOS-Signature": sign(ingestBody()) }, undefined);
  responses["POST /webhooks/workos"] = {
    ...sample,
    status: 200,
    body: '{"status":"applied","event_id":"event_bench_0"}',
  };
  const bare = await startBare(responses, "2026-04-26");
  if (process.argv.includes("--serve")) {
    await plain.mf.dispose();
    return serve(cache, bare, auth, scenarios);
  }

  // The first answer that is not a 2xx or 304, as the load generator saw it (not a later probe).
  let firstBad = null;
  const target = (url, s) => ({
    url: `${url.href}${s.path.slice(1)}`,
    headers: s.auth ?? auth,
    requests: [
      {
        onResponse: (status, body, _context, headers) => {
          if ((status < 200 || status >= 300) && status !== 304 && !firstBad)
            firstBad = { status, body: String(body).slice(0, 300), headers };
        },
      },
    ],
  });
  const ingestTarget = (url) => ({
    url: `${url.href}webhooks/workos`,
    method: "POST",
    requests: [
      {
        setupRequest: (req) => {
          const body = ingestBody();
          return {
            ...req,
            method: "POST",
            body,
            headers: { "Content-Type": "application/json", "WorkOS-Signature": sign(body) },
          };
        },
      },
    ],
  });
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  const all = [
    ...scenarios.map((s) => ({ ...s, make: (u) => target(u, s) })),
    { name: "webhook ingestion (events/s)", make: ingestTarget, coldOps: "-", hotOps: "-", coldTrips: "-" },
    {
      name: "webhook ingestion, feed + 1 subscription vs feed off (events/s; 'bare' = feed off)",
      make: ingestTarget,
      baseline: plain.url,
      coldOps: "-",
      hotOps: "-",
      coldTrips: "-",
    },
  ];
  if (only) all.splice(0, all.length, ...all.filter((s) => only.test(s.name)));
  for (const s of all) s.rounds = [];

  // Reads first, ingestion last: locally the writers share workerd's one thread with the read
  // worker, so a flood's KV flush backlog would slow the read rounds after it (in production the
  // Durable Objects run elsewhere). Each ingestion round starts once the writers have drained.
  const reads = all.filter((s) => !s.name.startsWith("webhook"));
  const floods = all.filter((s) => s.name.startsWith("webhook"));
  const measure = async (s, round) => {
    const order = round % 2 ? ["cache", "bare"] : ["bare", "cache"];
    const r = {};
    for (const side of order) {
      const url = side === "cache" ? cache.url : (s.baseline ?? bare.url);
      const res = await run(s.make(url));
      if (res.non2xx > 0) {
        throw new Error(
          `${s.name} (${side}): ${res.non2xx} non-2xx answers (by status: ${JSON.stringify(res.statusCodeStats)}); first: ${JSON.stringify(firstBad)}`,
        );
      }
      r[side] = { rps: res.requests.average, p50: res.latency.p50, p99: res.latency.p99 };
    }
    s.rounds.push(r);
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of reads) await measure(s, round);
    log(`read round ${round}/${ROUNDS} done`);
  }
  if (floods.length) {
    await deliver(base, [ev("dsync.activated", dir(DI))]);
    await deliver(plain.url.href, [ev("dsync.activated", dir(DI))]);
    // The subscriber: the bare worker, which answers any POST /webhooks/workos with a 200.
    const res = await fetch(`${base}admin/subscriptions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: `${bare.url.href}webhooks/workos` }),
    });
    if (res.status !== 201) throw new Error(`subscribing: ${res.status} ${await res.text()}`);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of floods) {
      await untilFlushed(base, [D1, DB, DI]);
      await untilFlushed(plain.url.href, [DI]);
      await measure(s, round);
    }
    log(`ingestion round ${round}/${ROUNDS} done`);
  }
  if (floods.length) await untilFlushed(base, [D1, DB, DI]);

  // Freshness (issue 11): from a webhook's 200 to a default read showing it, by id and in a list
  // page, at rest and while the same directory takes an ingestion flood, at both sizes.
  const freshness = [];
  const sizes = FRESH_SAMPLES > 0 && (!only || only.test("freshness")) ? [D1, DB] : [];
  for (const d of sizes) {
    const size = d === D1 ? "1k" : `${BIG / 1000}k`;
    await untilFlushed(base, [D1, DB]);
    const common = {
      base,
      directoryId: d,
      samples: FRESH_SAMPLES,
      headers: auth,
      post: (body) => post(base, body),
      user: (id, i) => usr(id, d, i),
      event: ev,
    };
    const rest = await measureFreshness({ ...common, tag: `${size}_rest` });
    log(`freshness at ${size}, at rest: ${JSON.stringify(rest)}`);
    let n = 0;
    const flood = {
      url: `${base}webhooks/workos`,
      method: "POST",
      overallRate: FLOOD_RATE,
      requests: [
        {
          setupRequest: (req) => {
            // Older than every other user: the flood does not push the samples off the first page.
            const body = JSON.stringify(ev("dsync.user.created", usr(`directory_user_flood_${size}_${++n}`, d, -n)));
            return {
              ...req,
              method: "POST",
              body,
              headers: { "Content-Type": "application/json", "WorkOS-Signature": sign(body) },
            };
          },
        },
      ],
    };
    const flooded = await measureFreshness({ ...common, tag: `${size}_flood`, flood });
    log(`freshness at ${size}, during a flood of ${n} events: ${JSON.stringify(flooded)}`);
    freshness.push({ size, rest, flooded, floodEvents: n });
  }

  const status = await adminStatus(base);
  const sameKey = status.directories.reduce((a, d) => a + d.kvSameKeyWritesUnderOneSecond, 0);
  const ingested = status.directories.find((d) => d.directoryId === DI);
  const memory = { cache: cache.pid ? rssMiB(cache.pid) : null, bare: bare.pid ? rssMiB(bare.pid) : null };

  const rows = all.map((s) => {
    const ratios = s.rounds.map((r) => r.cache.rps / r.bare.rps);
    return {
      name: s.name,
      cacheRps: median(s.rounds.map((r) => r.cache.rps)),
      bareRps: median(s.rounds.map((r) => r.bare.rps)),
      ratio: median(ratios),
      ratios,
      cacheP50: median(s.rounds.map((r) => r.cache.p50)),
      cacheP99: median(s.rounds.map((r) => r.cache.p99)),
      bareP50: median(s.rounds.map((r) => r.bare.p50)),
      bareP99: median(s.rounds.map((r) => r.bare.p99)),
      coldOps: s.coldOps,
      hotOps: s.hotOps,
      coldTrips: s.coldTrips,
      rounds: s.rounds,
    };
  });
  const row = (prefix) => rows.find((r) => r.name.startsWith(prefix));
  const hot = row("GET user by id");
  const hotLimited = row("limited key: GET user by id");
  const page = row("list page of 100");
  const small1k = row("list page, 1k");
  const large = row(`list page, ${BIG / 1000}k`);
  const feed = row("webhook ingestion, feed");
  const scale = small1k && large ? median(small1k.rounds.map((r, i) => r.cache.rps / large.rounds[i].cache.rps)) : null;
  const checks = [
    hot && ["hot GET by id >= 0.85x bare", hot.ratio >= 0.85, hot.ratio.toFixed(2)],
    hotLimited && [
      "hot GET by id, key limited to organizations, >= 0.85x bare",
      hotLimited.ratio >= 0.85,
      hotLimited.ratio.toFixed(2),
    ],
    page && ["list page of 100 >= 0.60x bare", page.ratio >= 0.6, page.ratio.toFixed(2)],
    scale !== null && [
      `list page at ${BIG / 1000}k within 1.2x of 1k (time per request)`,
      scale <= 1.2,
      `${scale.toFixed(2)}x`,
    ],
    ["zero same-key KV writes within 1 s (whole run, incl. ingestion flood)", sameKey === 0, String(sameKey)],
    feed && ["ingestion with the feed and 1 subscription >= 0.8x without", feed.ratio >= 0.8, feed.ratio.toFixed(2)],
    ...freshness.flatMap(({ size, rest, flooded }) => [
      [
        `freshness by id at ${size}, p99 <= 2 s (at rest / flood)`,
        Math.max(rest.byId.p99, flooded.byId.p99) <= 2000,
        `${rest.byId.p99} / ${flooded.byId.p99} ms`,
      ],
      [
        `freshness in a list page at ${size}, p99 <= 2.5 s (at rest / flood)`,
        Math.max(rest.inList.p99, flooded.inList.p99) <= 2500,
        `${rest.inList.p99} / ${flooded.inList.p99} ms`,
      ],
    ]),
  ].filter(Boolean);

  const f = (x) => (typeof x === "number" ? (x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(2)) : String(x));
  const lines = [];
  lines.push(
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, workerd via Miniflare ${JSON.parse(readFileSync(join(ROOT, "node_modules/miniflare/package.json"), "utf8")).version}.`,
  );
  lines.push(
    `Run: ${ROUNDS} rounds x ${SECONDS} s per side per scenario, ${CONNECTIONS} connections, cache and bare alternating; figures are medians over rounds.`,
  );
  lines.push("");
  lines.push(
    "| scenario | cache req/s | bare req/s | ratio (median of rounds) | cache p50 / p99 ms | bare p50 / p99 ms | KV ops cold / hot | KV round trips cold |",
  );
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${f(r.cacheRps)} | ${f(r.bareRps)} | **${r.ratio.toFixed(2)}x** (${r.ratios.map((x) => x.toFixed(2)).join(", ")}) | ${r.cacheP50} / ${r.cacheP99} | ${r.bareP50} / ${r.bareP99} | ${r.coldOps} / ${r.hotOps} | ${r.coldTrips} |`,
    );
  }
  lines.push("");
  lines.push(
    `Loading: ${Math.round(smallRate)} webhooks/s (1k users with memberships), ${Math.round(bigRate)} webhooks/s (${BIG.toLocaleString("en")} users); the writers finished flushing to KV ${flushSeconds} s after the last delivery.`,
  );
  const redeliveries = [...redelivered.values()].reduce((a, b) => a + b, 0);
  const causes = [...redelivered].map(([cause, n]) => `${cause}: ${n}`).join(", ");
  lines.push(
    `Redelivered during loading (connection reset or 5xx, retried as WorkOS would): ${redeliveries}${causes ? ` (${causes})` : ""}.`,
  );
  lines.push(
    `Ingestion flood: ${ingested ? ingested.counts.active.toLocaleString("en") : "?"} users created in directory ${DI}; same-key KV writes under one second, all writers, whole run: **${sameKey}**.`,
  );
  lines.push(
    `Memory (RSS of the workerd process after the run): cache ${memory.cache ?? "?"} MiB, bare ${memory.bare ?? "?"} MiB.`,
  );
  if (freshness.length) {
    lines.push("");
    lines.push(
      `Freshness: from a webhook's 200 to a default read showing the new user (${FRESH_SAMPLES} samples each; polled every 25 ms; flood: signed user.created events into the same directory at ${FLOOD_RATE}/s).`,
    );
    lines.push("");
    lines.push("| directory | phase | by id p50 / p99 ms | in a list page p50 / p99 ms |");
    lines.push("|---|---|---:|---:|");
    for (const { size, rest, flooded, floodEvents } of freshness) {
      lines.push(
        `| ${size} users | at rest | ${rest.byId.p50} / ${rest.byId.p99} | ${rest.inList.p50} / ${rest.inList.p99} |`,
      );
      lines.push(
        `| ${size} users | flood (${floodEvents.toLocaleString("en")} events) | ${flooded.byId.p50} / ${flooded.byId.p99} | ${flooded.inList.p50} / ${flooded.inList.p99} |`,
      );
    }
  }
  lines.push("");
  lines.push("| target | met | measured |");
  lines.push("|---|---|---|");
  for (const [name, ok, value] of checks) lines.push(`| ${name} | ${ok ? "yes" : "**no**"} | ${value} |`);
  const report = lines.join("\n");
  console.log(report);

  if (process.argv.includes("--write")) {
    const doc = readFileSync(join(ROOT, "docs/benchmarks.md"), "utf8");
    const marker = "<!-- bench:results -->";
    const [head] = doc.split(marker);
    writeFileSync(join(ROOT, "docs/benchmarks.md"), `${head}${marker}\n${report}\n`);
    log("wrote docs/benchmarks.md");
  }
  await cache.mf.dispose();
  await plain.mf.dispose();
  await bare.mf.dispose();
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
}

/**
 * `--serve`: keep both loaded workers up for a measurement of someone else's making (see
 * scripts/bench-blackbox.mjs) instead of measuring; one JSON line on stdout says where they are.
 */
async function serve(cache, bare, auth, scenarios) {
  const targets = {
    cache: cache.url.href,
    bare: bare.url.href,
    headers: auth,
    scenarios: scenarios.map(({ name, path, auth: headers }) => ({ name, path, ...(headers ? { headers } : {}) })),
  };
  console.log(JSON.stringify(targets));
  log("serving both workers until stopped (SIGINT/SIGTERM)");
  await new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await cache.mf.dispose();
  await bare.mf.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
