/**
 * Random requests over every route: ids and parameters of any length and encoding, any method.
 * Whatever comes in, the answer is JSON in the WorkOS error shape (or a success), never a 500.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { piece, request, sendAndCheck } from "../support/fuzz";
import { deliver } from "../support/worker";

/** 503s that say a feature is switched off in this configuration, not that something broke. */
const CONFIGURED_OFF = new Set(["not_configured", "pull_disabled", "upstream_unavailable"]);

describe("any request", () => {
  it("gets JSON and never a 500 (1,500 random requests)", async () => {
    await fc.assert(
      fc.asyncProperty(request, (r) => sendAndCheck(r, CONFIGURED_OFF)),
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
