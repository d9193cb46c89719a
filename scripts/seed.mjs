#!/usr/bin/env node
// Loads a demo directory into a running cache (`npm run dev`) the way WorkOS would: through
// signed dsync.* webhooks. Then prints curl commands to try.
//   npm run seed                      -> http://localhost:8787
//   SEED_URL=http://127.0.0.1:9000 npm run seed
//   SEED_ENV_FILE=.dev.vars.example npm run seed   (settings from that file, not .dev.vars)
import { existsSync } from "node:fs";
import { DEMO_DIRECTORY as DIR, events, groups, people, readSettings } from "./demo-data.mjs";

const base = process.env.SEED_URL ?? "http://localhost:8787";
const settings = readSettings(
  process.env.SEED_ENV_FILE ?? (existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example"),
);
const secret = first(settings.WORKOS_WEBHOOK_SECRET, "WORKOS_WEBHOOK_SECRET");
const apiKey = first(settings.API_KEYS, "API_KEYS");

for (const e of events) await post(e);
console.log(`Delivered ${events.length} signed webhooks to ${base}/webhooks/workos.`);

// The writer flushes to KV within a second or two (each key at most once a second): wait
// until the reads show the whole demo, its counts and its last membership.
const expectAdmins = people.filter((_, i) => i % 5 === 0).length;
const read = async (path) => {
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${apiKey}` } });
  return res.ok ? res.json() : null;
};
for (let tries = 0; ; tries++) {
  const dir = await read(`/directories/${DIR}`);
  const admins = await read(`/directory_users?group=${groups[2].id}&limit=100`);
  const users = dir?.metadata ? dir.metadata.users.active + dir.metadata.users.inactive : 0;
  const last = admins?.data?.find((u) => u.id === "directory_user_01DEMO020");
  if (users === people.length && admins?.data.length === expectAdmins && last?.groups.length === 2) break;
  if (tries > 150)
    throw new Error(
      `the cache did not show the whole demo directory after 15 s: ${users}/${people.length} users, ` +
        `${admins?.data?.length ?? "no list of"} admins (${expectAdmins}), user 020 in ${last?.groups.length ?? "no"} groups (2)`,
    );
  await new Promise((r) => setTimeout(r, 100));
}
const auth = `-H "Authorization: Bearer ${apiKey}"`;
console.log(`
Try:
  curl ${auth} ${base}/directories
  curl ${auth} ${base}/directories/${DIR}
  curl ${auth} "${base}/directory_users?directory=${DIR}&limit=5"
  curl ${auth} "${base}/directory_users?group=${groups[2].id}"
  curl ${auth} "${base}/directory_groups?user=directory_user_01DEMO000"
  curl ${auth} ${base}/directory_users/directory_user_01DEMO000

Operator console: ${base}/admin/console (sign in with an admin key from ADMIN_API_KEYS).`);

async function post(e) {
  const body = JSON.stringify(e);
  const t = Date.now();
  const res = await fetch(`${base}/webhooks/workos`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "WorkOS-Signature": `t=${t}, v1=${await hmac(`${t}.${body}`)}` },
    body,
  }).catch((err) => {
    throw new Error(
      `cannot reach the cache at ${base} (is \`npm run dev\` running?): ${err.cause?.code ?? err.message}`,
    );
  });
  if (!res.ok) throw new Error(`${e.event} ${e.id}: ${res.status} ${await res.text()}`);
}

async function hmac(message) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
  return Buffer.from(mac).toString("hex");
}

function first(list, name) {
  const value = list?.split(",")[0]?.trim();
  if (!value) throw new Error(`${name} is not set in .dev.vars / .dev.vars.example`);
  return value;
}
