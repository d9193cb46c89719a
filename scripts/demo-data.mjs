// The demo directory `npm run seed` loads, as the dsync.* events WorkOS would deliver for it
// (shared with the console's browser test, which also serves it from its WorkOS stand-in).
import { readFileSync } from "node:fs";

export const DEMO_DIRECTORY = "directory_01DEMOACME";
const DIR = DEMO_DIRECTORY;
export const DEMO_ORGANIZATION = "org_01DEMOACME";
const ORG = DEMO_ORGANIZATION;
const t0 = Date.parse("2026-03-02T09:00:00.000Z");
const iso = (ms) => new Date(ms).toISOString();
let n = 0;
const evt = (event, data, at) => ({
  id: `event_01DEMO${String(++n).padStart(6, "0")}`,
  event,
  data,
  created_at: iso(at),
});

export const people = [
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

export const events = [
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
export const groups = teams.map((name, i) => ({
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

/** The settings in a .dev.vars-style file (NAME=value lines). */
export function readSettings(file) {
  const out = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^["']|["']$/g, "");
  }
  return out;
}
