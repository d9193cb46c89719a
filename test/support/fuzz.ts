/** Random requests over every route, and what any answer to one must look like (shared by the fuzz tests). */
import fc from "fast-check";
import { expect } from "vitest";
import { ADMIN_KEY, READ_KEY } from "./settings";
import { handle } from "./worker";

export const piece = fc.oneof(
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
export type RandomRequest = { method: string; path: string; params: [string, string][]; key: string };
export const request: fc.Arbitrary<RandomRequest> = fc.record({
  method: fc.constantFrom("GET", "GET", "GET", "POST", "DELETE", "PUT"),
  path: route,
  params: fc.array(param, { maxLength: 4 }),
  key: fc.constantFrom(READ_KEY, ADMIN_KEY, "sk_wrong"),
});

/**
 * Sends one random request to the worker and checks the answer: JSON, the WorkOS error shape for
 * any error, and no 5xx but a 503 whose code `allowed503` names (a feature this configuration
 * switches off).
 */
export async function sendAndCheck(r: RandomRequest, allowed503: Set<string>) {
  const { method, path, params, key } = r;
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
  expect(res.status === 500 || (res.status > 500 && !allowed503.has(body.code ?? "")), `${res.status} ${text}`).toBe(
    false,
  );
}
