#!/usr/bin/env node
/**
 * Black-box cross-check of `npm run bench`: a different load generator (wrk, native code, from
 * Debian's packages: `apt-get install wrk`) drives the same two workers over HTTP with its own
 * alternation and its own arithmetic. Nothing of the bench's measuring is reused, only its loading
 * (`bench.mjs --serve` loads the data through signed webhooks and keeps both workers up).
 *
 *   BENCH_BIG_USERS=100000 npm run bench:blackbox
 *   BLACKBOX_ROUNDS=7 BLACKBOX_SECONDS=4 BLACKBOX_CONNECTIONS=16 npm run bench:blackbox
 */
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const ROUNDS = Number(process.env.BLACKBOX_ROUNDS ?? 5);
const SECONDS = Number(process.env.BLACKBOX_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BLACKBOX_CONNECTIONS ?? 16);
const log = (...a) => console.error("[blackbox]", ...a);
const run = promisify(execFile);

const ms = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];

/** One wrk run; its own report is the only source of the figures. */
async function wrk(url, headers) {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const { stdout } = await run("wrk", [...args, url]);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} non-2xx answers`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)$/m.exec(stdout);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)$/m.exec(stdout);
  if (!rps || !p50 || !p99) throw new Error(`unreadable wrk report:\n${stdout}`);
  return { rps: Number(rps[1]), p50: ms(p50[1], p50[2]), p99: ms(p99[1], p99[2]) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  await run("wrk", ["-v"]).catch((err) => {
    if (err.code === "ENOENT") throw new Error("wrk is not installed (apt-get install wrk)");
  });
  const server = spawn(process.execPath, [join(import.meta.dirname, "bench.mjs"), "--serve"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    // The first line on its stdout says where the workers are; an exit before it fails the run.
    const first = new Promise((resolve, reject) => {
      createInterface({ input: server.stdout }).once("line", resolve);
      server.once("exit", (code) => reject(new Error(`bench.mjs --serve exited (${code}) before serving`)));
    });
    const targets = JSON.parse(await first);
    log(`cache ${targets.cache}, bare ${targets.bare}; ${ROUNDS} rounds x ${SECONDS} s with wrk`);

    const rows = targets.scenarios.map((s) => ({ ...s, rounds: [] }));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of rows) {
        // Odd rounds start with the bare worker, even rounds with the cache.
        const order = round % 2 ? ["bare", "cache"] : ["cache", "bare"];
        const r = {};
        for (const side of order)
          r[side] = await wrk(`${targets[side]}${s.path.slice(1)}`, s.headers ?? targets.headers);
        s.rounds.push(r);
      }
      log(`round ${round}/${ROUNDS} done`);
    }

    const lines = [
      `wrk ${ROUNDS} rounds x ${SECONDS} s per side per scenario, ${CONNECTIONS} connections, 1 thread; medians over rounds.`,
      "",
      "| scenario | cache req/s | bare req/s | ratio (median of rounds) | cache p50 / p99 ms | bare p50 / p99 ms |",
      "|---|---:|---:|---:|---:|---:|",
    ];
    for (const s of rows) {
      const m = (side, k) => median(s.rounds.map((r) => r[side][k]));
      s.ratio = median(s.rounds.map((r) => r.cache.rps / r.bare.rps));
      lines.push(
        `| ${s.name} | ${Math.round(m("cache", "rps"))} | ${Math.round(m("bare", "rps"))} | **${s.ratio.toFixed(2)}x** (${s.rounds.map((r) => (r.cache.rps / r.bare.rps).toFixed(2)).join(", ")}) | ${m("cache", "p50").toFixed(2)} / ${m("cache", "p99").toFixed(2)} | ${m("bare", "p50").toFixed(2)} / ${m("bare", "p99").toFixed(2)} |`,
      );
    }
    const by = (prefix) => rows.find((s) => s.name.startsWith(prefix));
    const small = by("list page, 1k");
    const large = rows.find((s) => s.name.startsWith("list page, ") && s !== small);
    const scale = median(small.rounds.map((r, i) => r.cache.rps / large.rounds[i].cache.rps));
    const checks = [
      ["hot GET by id >= 0.85x bare", by("GET user by id").ratio >= 0.85, by("GET user by id").ratio.toFixed(2)],
      ["list page of 100 >= 0.60x bare", by("list page of 100").ratio >= 0.6, by("list page of 100").ratio.toFixed(2)],
      [`${large.name} within 1.2x of 1k (time per request)`, scale <= 1.2, `${scale.toFixed(2)}x`],
    ];
    lines.push("", "| target | met | measured |", "|---|---|---|");
    for (const [name, ok, value] of checks) lines.push(`| ${name} | ${ok ? "yes" : "**no**"} | ${value} |`);
    console.log(lines.join("\n"));
    if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
  } finally {
    server.kill("SIGINT");
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
