import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { RegistryObject } from "../../src/registry/object";
import { directory, event, iso, T0 } from "../support/events";
import { applyAll, get, settle } from "../support/worker";

type List = { data: { id: string; name: string }[]; list_metadata: { before: string | null; after: string | null } };
const list = async (path: string) => {
  const res = await get(path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as List;
};

const id = (i: number) => `directory_01SEARCH${String(i).padStart(3, "0")}`;
const MATCHES = 150;

/** Follows `after` from `path` to the end, returning every id in the order served. */
async function walk(path: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const page: List = await list(`${path}${after ? `&after=${after}` : ""}`);
    ids.push(...page.data.map((d) => d.id));
    after = page.list_metadata.after;
  } while (after);
  return ids;
}

describe("GET /directories?search= past 100 matches", () => {
  beforeAll(async () => {
    const ids: string[] = [];
    for (let i = 0; i < MATCHES + 5; i++) {
      const matching = i < MATCHES;
      const d = directory(matching ? id(i) : `directory_01SEARCHX${i}`, {
        organization_id: matching ? "org_search" : "org_other",
        name: matching ? `Needle Corp ${i}` : `Haystack ${i}`,
        created_at: iso(T0 + i * 1000),
        updated_at: iso(T0 + i * 1000),
      });
      await applyAll(d.id, [event("dsync.activated", d)]);
      ids.push(d.id);
    }
    await settle(...ids);
  }, 120_000);

  it("serves the newest matches first and pages through all of them", async () => {
    const first = await list("/directories?search=needle&limit=10");
    expect(first.data.map((d) => d.id)).toEqual([149, 148, 147, 146, 145, 144, 143, 142, 141, 140].map(id));
    const all = Array.from({ length: MATCHES }, (_, i) => id(MATCHES - 1 - i));
    expect(await walk("/directories?search=NEEDLE&limit=7")).toEqual(all);
    expect(await walk("/directories?search=needle&order=asc&limit=100")).toEqual([...all].reverse());
    // Combined with the organization filter, and narrowed past 100 the same way.
    expect(await walk("/directories?search=corp&organization_id=org_search&limit=100")).toEqual(all);
  });

  it("goes back with `before` to exactly the page it came from", async () => {
    const first = await list("/directories?search=needle&limit=25");
    const second = await list(`/directories?search=needle&limit=25&after=${first.list_metadata.after}`);
    expect(second.data.map((d) => d.id)).toEqual(Array.from({ length: 25 }, (_, i) => id(124 - i)));
    const back = await list(`/directories?search=needle&limit=25&before=${second.list_metadata.before}`);
    expect(back.data.map((d) => d.id)).toEqual(first.data.map((d) => d.id));
    const last = await list(`/directories?search=needle&limit=25&after=${id(25)}`);
    expect(last.data.map((d) => d.id)).toEqual(Array.from({ length: 25 }, (_, i) => id(24 - i)));
    expect(last.list_metadata.after).toBeNull();
  });

  it("folds case in any script, not only ASCII", async () => {
    const named = [
      ["directory_01FOLD1", "ünïcode Ltd"],
      ["directory_01FOLD2", "Straße GmbH"],
      ["directory_01FOLD3", "ΣΊΣΥΦΟΣ Ltd"],
    ] as const;
    for (const [dirId, name] of named) await applyAll(dirId, [event("dsync.activated", directory(dirId, { name }))]);
    await settle(...named.map(([dirId]) => dirId));
    const found = async (search: string) =>
      (await list(`/directories?search=${encodeURIComponent(search)}`)).data.map((d) => d.id);
    expect(await found("ÜNÏ")).toEqual(["directory_01FOLD1"]);
    expect(await found("STRASSE")).toEqual(["directory_01FOLD2"]);
    expect(await found("σίσυφος")).toEqual(["directory_01FOLD3"]);
  });

  it("folds the names of a registry stored before folded names existed, once, when it starts", async () => {
    const stub = env.REGISTRY.getByName("registry-before-folding");
    const found = await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("ALTER TABLE directories DROP COLUMN name_folded");
      sql.exec(
        "INSERT INTO directories (id, organization_id, name, domain, sort_key) VALUES (?, ?, ?, ?, ?)",
        "directory_01OLDROW",
        "org_old",
        "Ünïcode Straße",
        null,
        "000000000000001:directory_01OLDROW",
      );
      const restarted = new RegistryObject(state, env);
      return restarted.search({ search: "STRASSE" });
    });
    expect(found).toEqual([{ sortKey: "000000000000001:directory_01OLDROW", json: null }]);
  });
});
