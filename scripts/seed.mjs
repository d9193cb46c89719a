#!/usr/bin/env node
// Loads a demo directory into a running cache (`npm run dev`) the way WorkOS would: through
// signed dsync.* webhooks. Then prints curl commands to try.
//   npm run seed                      -> http://localhost:8787
//   SEED_URL=http://127.0.0.1:9000 npm run seed
import { existsSync, readFileSync } from "node:fs";

const base = process.env.SEED_URL ?? "http://localhost:8787";
const settings = readSettings(existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example");
const secret = first(settings.WORKOS_WEBHOOK_SECRET, "WORKOS_WEBHOOK_SECRET");
const apiKey = first(settings.API_KEYS, "API_KEYS");

const DIR = "directory_01DEMOACME";
const ORG = "org_01DEMOACME";
const t0 = Date.parse("2026-03-02T09:00:00.000Z");
const iso = (ms) => new Date(ms).toISOString();
let n = 0;
const evt = (event, data, at) => ({
  id: `event_01DEMO${String(++n).padStart(6, "0")}`,
  event,
  data,
  created_at: iso(at),
});

const people = [
  "Ada Lovelace",
  "Grace Hopper",
  "Alan Turing",
  "Katherine Johnson",
  "Edsger Dijkstra",
  "Barbara Liskov",
  "Donald Knuth",
  "Margaret Hamilton",
  "Ken Thompson",
  "Frances Allen",
  "Dennis Ritchie",
  "Radia Perlman",
  "John McCarthy",
  "Shafi Goldwasser",
  "Leslie Lamport",
  "Hedy Lamarr",
  "Tim Berners-Lee",
  "Annie Easley",
  "Linus Torvalds",
  "Anita Borg",
  "Guido van Rossum",
  "Adele Goldberg",
  "Bjarne Stroustrup",
  "Sophie Wilson",
];
const teams = ["Engineering", "Sales", "Admins"];

const events = [
  evt(
    "dsync.activated",
    {
      object: "directory",
      id: DIR,
      organization_id: ORG,
      type: "okta scim v2.0",
      state: "active",
      name: "Acme Corp (demo)",
      external_key: "demo-acme",
      domains: [{ object: "organization_domain", id: "org_domain_01DEMO", domain: "acme.test" }],
      created_at: iso(t0),
      updated_at: iso(t0),
    },
    t0,
  ),
];
const groups = teams.map((name, i) => ({
  object: "directory_group",
  id: `directory_group_01DEMO${i}`,
  idp_id: `grp-${i}`,
  directory_id: DIR,
  organization_id: ORG,
  name,
  raw_attributes: {},
  created_at: iso(t0 + i * 1000),
  updated_at: iso(t0 + i * 1000),
}));
for (const g of groups) events.push(evt("dsync.group.created", g, t0 + 10_000));
people.forEach((full, i) => {
  const [first_name, ...rest] = full.split(" ");
  const email = `${full.toLowerCase().replace(/[^a-z]+/g, ".")}@acme.test`;
  const at = t0 + 60_000 + i * 60_000;
  const user = {
    object: "directory_user",
    id: `directory_user_01DEMO${String(i).padStart(3, "0")}`,
    directory_id: DIR,
    organization_id: ORG,
    idp_id: `00u${1000 + i}`,
    email,
    first_name,
    last_name: rest.join(" "),
    emails: [{ primary: true, type: "work", value: email }],
    state: i % 8 === 7 ? "inactive" : "active",
    raw_attributes: {},
    custom_attributes: { department: teams[i % 2] },
    created_at: iso(at),
    updated_at: iso(at),
  };
  events.push(evt("dsync.user.created", user, at));
  events.push(evt("dsync.group.user_added", { directory_id: DIR, user, group: groups[i % 2] }, at + 1));
  if (i % 5 === 0) events.push(evt("dsync.group.user_added", { directory_id: DIR, user, group: groups[2] }, at + 2));
});

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
  if (tries > 150) throw new Error(`the cache did not show the whole demo directory after 15 s`);
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
  curl ${auth} ${base}/directory_users/directory_user_01DEMO000`);

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

function readSettings(file) {
  const out = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^["']|["']$/g, "");
  }
  return out;
}

function first(list, name) {
  const value = list?.split(",")[0]?.trim();
  if (!value) throw new Error(`${name} is not set in .dev.vars / .dev.vars.example`);
  return value;
}
