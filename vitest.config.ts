import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { buildConsole } from "./scripts/build-console.mjs";
import { ADMIN_KEY, STANDIN_KEY, TEST_SETTINGS } from "./test/support/settings.ts";

// The worker imports the console's files as a generated module (wrangler's [build] step writes it
// for dev and deploy; the workerd test pool bundles the sources itself).
buildConsole();

export default defineConfig({
  test: {
    projects: [
      {
        // Unit and integration tests run inside workerd with real local KV and Durable Objects.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { ...TEST_SETTINGS } },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Sync with the WorkOS API: the same workerd pool, pulling from a stand-in of WorkOS
        // (test/support/workos-standin.ts) that a globalSetup runs on localhost.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...TEST_SETTINGS,
                ADMIN_API_KEYS: ADMIN_KEY,
                WORKOS_API_KEY: STANDIN_KEY,
                WORKOS_API_BASE_URL: inject("standinUrl"),
                // Push deliveries go to a subscriber on localhost, retried after 1 s (not 30).
                PUSH_ALLOW_HTTP_LOCALHOST: "true",
                PUSH_RETRY_BASE_SECONDS: "1",
                PUSH_TIMEOUT_SECONDS: "2",
              },
              // 3 retries (1 s, 2 s, 4 s), not 16, before the dead-letter queue.
              queueConsumers: {
                "workos-dsync-cache-deliveries": {
                  maxBatchSize: 10,
                  maxBatchTimeout: 1,
                  maxRetries: 3,
                  deadLetterQueue: "workos-dsync-cache-deliveries-dead",
                },
                "workos-dsync-cache-deliveries-dead": { maxBatchSize: 10, maxBatchTimeout: 1 },
              },
            },
          })),
        ],
        test: {
          name: "sync",
          include: ["test/sync/**/*.test.ts"],
          globalSetup: ["./test/support/standin-setup.ts"],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
      {
        // Node-side checks of the repository itself: import layering, the dev script.
        test: {
          name: "node",
          environment: "node",
          include: ["test/node/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        // The operator console in Debian's Chromium, against the worker under `npm run dev`.
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
      {
        // End-to-end: the built worker on localhost, driven over HTTP by the official SDK.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
