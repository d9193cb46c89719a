import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyHash } from "../../src/keys/token";
import { ADMIN_KEY, READ_KEY } from "../support/settings";
import { waitFor } from "../support/wait";
import { get, json } from "../support/worker";

type Key = {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  key?: string;
  revoked_at: string | null;
  last_used_at: string | null;
};

const adminCall = (path: string, method = "GET", body?: unknown, key = ADMIN_KEY) =>
  exports.default.fetch(`http://cache/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function create(body: object): Promise<Key> {
  const res = await adminCall("/keys", "POST", body);
  expect(res.status).toBe(201);
  return json<Key>(res);
}

describe("access keys managed by the admin API", () => {
  it("shows a key once, stores only its hash, and lets it do what its scopes say", async () => {
    const reader = await create({ name: "sessions service", scopes: ["read"] });
    expect(reader.key).toMatch(/^sk_cache_[A-Za-z0-9_-]{43}$/);
    expect(reader.prefix).toBe((reader.key as string).slice(0, 13));
    const shown = await json<Key>(await adminCall(`/keys/${reader.id}`));
    expect(shown).not.toHaveProperty("key");
    expect(JSON.stringify(await json(await adminCall("/keys")))).not.toContain(reader.key as string);

    const key = reader.key as string;
    expect((await get("/directories?limit=1", key)).status).toBe(200);
    // Scopes: a read key may not read the feed nor administer.
    expect((await get("/events", key)).status).toBe(403);
    expect((await adminCall("/keys", "GET", undefined, key)).status).toBe(403);
    const feed = await create({ name: "audit", scopes: ["events"] });
    expect((await get("/events", feed.key)).status).toBe(200);
    expect((await get("/directories?limit=1", feed.key)).status).toBe(403);
    const admin = await create({ name: "console", scopes: ["admin"] });
    expect((await adminCall("/keys", "GET", undefined, admin.key)).status).toBe(200);
    // Bootstrap keys keep working, unrestricted.
    expect((await get("/events", READ_KEY)).status).toBe(200);
    // Its use is noted.
    const used = await waitFor(async () => {
      const k = await json<Key>(await adminCall(`/keys/${reader.id}`));
      return k.last_used_at ? k : undefined;
    }, "the key's last use");
    expect(used.last_used_at).not.toBeNull();
  });

  it("refuses a revoked key at once in this isolate, and an expired one", async () => {
    const k = await create({ name: "short-lived", scopes: ["read"] });
    expect((await get("/directories", k.key)).status).toBe(200);
    const revoked = await adminCall(`/keys/${k.id}`, "DELETE");
    expect(revoked.status).toBe(200);
    expect(await json<Key>(revoked)).toMatchObject({ id: k.id, revoked_at: expect.any(String) });
    expect((await get("/directories", k.key)).status).toBe(401);
    expect((await adminCall("/keys/key_unknown", "DELETE")).status).toBe(404);

    const expiring = await create({
      name: "expiring",
      scopes: ["read"],
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await get("/directories", expiring.key)).status).toBe(200);
    await waitFor(
      async () => ((await get("/directories", expiring.key)).status === 401 ? true : undefined),
      "the key's expiry",
      10_000,
    );
  });

  it("checks what a key is created with", async () => {
    for (const body of [
      { name: "", scopes: ["read"] },
      { name: "x", scopes: [] },
      { name: "x", scopes: ["write"] },
      { name: "x", scopes: ["read"], expires_at: "2020-01-01T00:00:00Z" },
      { name: "x", scopes: ["admin"], organization_ids: ["org_A"] },
      { name: "x", scopes: ["read"], organization_ids: [] },
      { name: "x", scopes: ["read"], organization_ids: [""] },
    ]) {
      const res = await adminCall("/keys", "POST", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
  });

  it("refuses a key revoked through another isolate within the stated local bound", async () => {
    const k = await create({ name: "elsewhere", scopes: ["read"] });
    expect((await get("/directories", k.key)).status).toBe(200);
    // Another isolate's revocation: the revoked marker lands in KV; this isolate is not told.
    const grantKey = `v1:access-key:${await keyHash(k.key as string)}`;
    await env.CACHE.put(grantKey, JSON.stringify({ id: k.id, revoked: true }));
    await waitFor(
      async () => ((await get("/directories", k.key)).status === 401 ? true : undefined),
      "the revocation seen here",
      // The bound README states (6 s), with a margin for a loaded machine.
      8_000,
    );
  });
});
