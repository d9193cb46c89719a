/**
 * Random requests over every route: ids and parameters of any length and encoding, any method.
 * Whatever comes in, the answer is JSON in the WorkOS error shape (or a success), never a 500.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADMIN_KEY, READ_KEY } from "../support/settings";
import { deliver, handle } from "../support/worker";

/** 503s that say a feature is switched off in this configuration, not that something broke. */
const CONFIGURED_OFF = new Set(["not_configured", "pull_disabled", "upstream_unavailable"]);

const piece = fc.oneof(
  fc.string({ minLength: 0, maxLength: 40 }),
  fc.string({ unit: "grapheme", minLength: 100, maxLength: 400 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
  fc.constantFrom("directory_01X", "directory_user_01X", "directory_group_01X", "org_01X", "", "%", "%00", "..", "a/b"),
  fc.nat({ max: 700 }).map((n) => "x".repeat(n)),
  fc.nat({ max: 300 }).map((n) => "é".repeat(n)),
);
const enc = (s: string) => encodeURIComponent(s);
const param = fc.tuple(
  fc.constantFrom(
    "directory",
    "group",
    "user",
    "email",
    "idp_id",
    "after",
    "before",
    "limit",
    "order",
    "organization_id",
    "search",
    "domain",
    "events",
  ),
  piece,
);
const route = fc.oneof(
  fc.constantFrom("/directories", "/directory_users", "/directory_groups", "/admin/status", "/events"),
  piece.map((id) => `/directories/${enc(id)}`),
  piece.map((id) => `/directory_users/${enc(id)}`),
  piece.map((id) => `/directory_groups/${enc(id)}`),
  fc.tuple(piece, fc.constantFrom("users", "groups")).map(([d, w]) => `/directories/${enc(d)}/${w}`),
  fc
    .tuple(piece, fc.constantFrom("users", "groups"), piece)
    .map(([d, w, id]) => `/directories/${enc(d)}/${w}/${enc(id)}`),
  piece.map((id) => `/admin/directories/${enc(id)}/sync`),
);
const request = fc.record({
  method: fc.constantFrom("GET", "GET", "GET", "POST", "DELETE", "PUT"),
  path: route,
  params: fc.array(param, { maxLength: 4 }),
  key: fc.constantFrom(READ_KEY, ADMIN_KEY, "sk_wrong"),
});

describe("any request", () => {
  it("gets JSON and never a 500 (1,500 random requests)", async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, params, key }) => {
        const query = params.map(([k, v]) => `${k}=${enc(v)}`).join("&");
        const res = await handle(
          new Request(`http://cache${path}${query ? `?${query}` : ""}`, {
            method,
            headers: { Authorization: `Bearer ${key}` },
          }),
        );
        const text = await res.text();
        expect(res.headers.get("content-type") ?? "", `${method} ${path}`).toContain("application/json");
        const body = JSON.parse(text) as { code?: string; message?: string };
        if (res.status >= 400) expect(typeof body.message === "string" && typeof body.code === "string").toBe(true);
        expect(
          res.status === 500 || (res.status > 500 && !CONFIGURED_OFF.has(body.code ?? "")),
          `${res.status} ${text}`,
        ).toBe(false);
      }),
      { numRuns: 1500, seed: 20261203 },
    );
  }, 120_000);

  it("a signed event with ids and lookup values of any size is recorded or refused, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(piece, piece, piece, async (id, idp, email) => {
        const res = await deliver({
          id: `event_fuzz_${Math.random()}`,
          event: "dsync.user.created",
          created_at: new Date().toISOString(),
          data: {
            object: "directory_user",
            id: `directory_user_${id}`.slice(0, 200),
            directory_id: "directory_01FUZZ",
            organization_id: "org_01FUZZ",
            idp_id: idp,
            email,
            state: "active",
            raw_attributes: {},
            custom_attributes: {},
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          },
        });
        expect([200, 422], await res.text()).toContain(res.status);
      }),
      { numRuns: 60, seed: 20261203 },
    );
  }, 120_000);
});
