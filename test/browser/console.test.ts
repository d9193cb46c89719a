/**
 * The operator console in a real browser (Debian's Chromium through playwright-core), against
 * the worker under `npm run dev` (wrangler dev, embedded storage) loaded by `npm run seed`,
 * pulling from a WorkOS stand-in on localhost and pushing to a subscriber that answers 500.
 */
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  DEMO_DIRECTORY,
  DEMO_ORGANIZATION,
  events as demoEvents,
  groups as demoGroups,
  people,
  readSettings,
} from "../../scripts/demo-data.mjs";
import { launchChromium } from "../support/browser";
import { type DevServer, startDev } from "../support/dev-server";
import { directory, event, group, T0, user } from "../support/events";
import { ROOT } from "../support/server";
import { STANDIN_KEY } from "../support/settings";
import { signatureHeader } from "../support/sign";
import { Subscriber } from "../support/subscriber";
import { waitFor } from "../support/wait";
import { WorkOSStandIn } from "../support/workos-standin";

/** Where CI keeps the screenshots (one of them is the README's). */
const SHOTS = join(ROOT, "test-output", "console");
const settings = readSettings(join(ROOT, ".dev.vars.example"));
const first = (list: string | undefined) => (list ?? "").split(",")[0]?.trim() ?? "";
const ADMIN = first(settings.ADMIN_API_KEYS);
const SECRET = first(settings.WORKOS_WEBHOOK_SECRET);

/** A second directory, only at WorkOS: its activation webhook starts a backfill from the stand-in. */
const SYNCED = "directory_01CONSOLESYNC";
const SYNCED_ORG = "org_01CONSOLESYNC";
/** A directory whose next crawl would remove most of its users: the deletion brake holds it. */
const BRAKED = "directory_01CONSOLEBRAKE";
const BRAKED_USERS = Array.from({ length: 15 }, (_, i) => `directory_user_brake_${String(i).padStart(2, "0")}`);
/** What a customer's identity provider may send as names: each would set `__pwned` if rendered as markup. */
const HOSTILE_GROUP = `<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;
const HOSTILE_USER = `"><img src=x onerror="window.__pwned=3">`;

const standin = new WorkOSStandIn(STANDIN_KEY);
const subscriber = new Subscriber();
let standinUrl: string;
let subscriberUrl: string;
let dev: DevServer;
let browser: Browser;

async function webhook(e: { id: string; event: string; data: unknown; created_at: string }) {
  const body = JSON.stringify(e);
  const res = await fetch(`${dev.url}/webhooks/workos`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "WorkOS-Signature": await signatureHeader(body, SECRET) },
    body,
  });
  expect(res.status).toBe(200);
}

const admin = async (path: string, init: { method?: string; body?: unknown } = {}) => {
  const res = await fetch(`${dev.url}/admin${path}`, {
    method: init.method ?? "GET",
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return res.json() as Promise<Record<string, unknown>>;
};

beforeAll(async () => {
  // WorkOS holds the demo directory as the seed delivers it, and the second directory.
  for (const e of demoEvents) {
    const d = e.data as Record<string, unknown> & { id: string; created_at: string };
    // The API calls a directory's state `linked` where its webhooks say `active`.
    if (e.event === "dsync.activated") standin.putDirectory({ ...d, state: "linked" });
    if (e.event === "dsync.group.created") standin.putGroup(d);
    if (e.event === "dsync.user.created") standin.putUser(d);
    if (e.event === "dsync.group.user_added") {
      const m = e.data as { user: { id: string }; group: { id: string } };
      standin.addMember(m.user.id, m.group.id);
    }
  }
  standin.putDirectory(directory(SYNCED, { name: "Console Sync Co", organization_id: SYNCED_ORG, state: "linked" }));
  standin.putGroup(group("directory_group_hostile", SYNCED, { name: HOSTILE_GROUP, organization_id: SYNCED_ORG }));
  standin.putUser(user("directory_user_hostile", SYNCED, { first_name: HOSTILE_USER, organization_id: SYNCED_ORG }));
  standin.addMember("directory_user_hostile", "directory_group_hostile");
  standin.putDirectory(directory(BRAKED, { name: "Brake Co", organization_id: SYNCED_ORG, state: "linked" }));
  for (const [i, id] of BRAKED_USERS.entries())
    standin.putUser(
      user(id, BRAKED, { organization_id: SYNCED_ORG, created_at: new Date(T0 + i * 1000).toISOString() }),
    );
  standinUrl = await standin.listen();
  subscriberUrl = await subscriber.listen();
  await fetch(`${subscriberUrl}/_subscriber/status?name=failing&status=500`);

  dev = await startDev([
    "--env-file",
    ".dev.vars.example",
    "--var",
    `WORKOS_API_KEY:${STANDIN_KEY}`,
    "--var",
    `WORKOS_API_BASE_URL:${standinUrl}`,
  ]);
  // A subscriber that refuses every delivery, subscribed before the demo's events arrive.
  await admin("/subscriptions", { method: "POST", body: { url: `${subscriberUrl}/failing` } });
  // The README's demo-data command, against this server (async: the stand-in answers from this process).
  await promisify(execFile)("node", ["scripts/seed.mjs"], {
    cwd: ROOT,
    env: { ...process.env, SEED_URL: dev.url, SEED_ENV_FILE: ".dev.vars.example" },
  });
  await webhook(event("dsync.activated", directory(SYNCED, { name: "Console Sync Co", organization_id: SYNCED_ORG })));
  await webhook(event("dsync.activated", directory(BRAKED, { name: "Brake Co", organization_id: SYNCED_ORG })));
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  dev?.stop();
  await standin.close();
  await subscriber.close();
});

/** Contexts a test opened, closed after it whatever its outcome. */
const contexts: BrowserContext[] = [];
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

/** A fresh browser context (its own sessionStorage) on the console, page errors collected. */
async function openConsole(viewport = { width: 1280, height: 800 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${dev.url}/admin/console`);
  return { page, errors };
}

/** The console, signed in with the admin key (by keyboard only: the key field has focus, Enter submits). */
async function signedIn(viewport?: { width: number; height: number }) {
  const opened = await openConsole(viewport);
  await opened.page.keyboard.type(ADMIN);
  await opened.page.keyboard.press("Enter");
  await opened.page.locator(`[data-directory="${DEMO_DIRECTORY}"]`).waitFor();
  return opened;
}

const card = (page: Page, id: string) => page.locator(`[data-directory="${id}"]`);

/** Waits until a directory's card shows its crawl complete (the page refreshes every 5 s). */
const completed = (directory: Locator, timeout = 60_000) =>
  directory.locator('[data-sync-state="complete"]').waitFor({ timeout });

/** Clicks an action, then Confirm in the console's dialog; answers the outcome it announced. */
async function confirmed(page: Page, button: Locator): Promise<string> {
  await page.locator("#outcome").evaluate((el) => {
    el.textContent = "";
  });
  await button.click();
  await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
  await page.locator("#outcome:not(:empty)").waitFor();
  return (await page.locator("#outcome").textContent()) ?? "";
}

describe("operator console", () => {
  it("refuses a wrong admin key with an error, and shows no data", async () => {
    const { page } = await openConsole();
    await page.getByLabel("Admin key").fill("sk_not_an_admin_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "refused" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("This key was refused (401)");
    expect(await page.locator("#console").isHidden()).toBe(true);
    expect(await page.locator("[data-directory]").count()).toBe(0);
    expect(await page.content()).not.toContain(DEMO_DIRECTORY);
    expect(await page.evaluate("Object.keys(sessionStorage)")).toEqual([]);
  });

  it("signs in and shows every seeded directory with its counts", async () => {
    const { page, errors } = await signedIn();
    const demo = card(page, DEMO_DIRECTORY);
    expect(await demo.locator('[data-count="users"]').textContent()).toBe(String(people.length));
    expect(await demo.locator('[data-count="groups"]').textContent()).toBe(String(demoGroups.length));
    expect(await demo.getByRole("heading").textContent()).toBe("Acme Corp (demo)");
    // The second directory is backfilled from WorkOS; the page follows it as it refreshes.
    const synced = card(page, SYNCED);
    await completed(synced);
    await synced.locator('[data-count="users"]', { hasText: "1" }).waitFor();
    expect(await synced.locator('[data-count="groups"]').textContent()).toBe("1");
    // The key is kept for this tab only, never in a cookie or the URL.
    expect(await page.evaluate("Object.values(sessionStorage)")).toEqual([ADMIN]);
    expect(await page.context().cookies()).toEqual([]);
    expect(page.url()).not.toContain(ADMIN);
    expect(errors).toEqual([]);
  });

  it("resyncs a directory and shows its state change from running to complete", async () => {
    const { page } = await signedIn();
    const synced = card(page, SYNCED);
    await completed(synced);
    const before = Number((await admin(`/directories/${SYNCED}/sync`)).generation);
    // WorkOS holds every request about the directory until the test lets it go.
    await fetch(`${standinUrl}/_standin/faults`, {
      method: "POST",
      body: JSON.stringify({ match: SYNCED, mode: "hold" }),
    });
    const said = await confirmed(page, synced.getByRole("button", { name: "Resync" }));
    expect(said).toBe(`Resync of ${SYNCED} started: generation ${before + 1}, running.`);
    await synced.locator('[data-sync-state="running"]').waitFor();
    expect(await synced.getByText(`Generation ${before + 1}:`).count()).toBe(1);
    await fetch(`${standinUrl}/_standin/faults?match=${SYNCED}`, { method: "DELETE" });
    await fetch(`${standinUrl}/_standin/unhold`, { method: "POST", body: "{}" });
    await completed(synced);
    expect(await synced.getByText(`Generation ${before + 1}: complete`).count()).toBe(1);
  });

  it("creates a limited key shown once, lists it without its secret, and revokes it", async () => {
    const { page } = await signedIn();
    await page.getByText("New key").click();
    await page.getByLabel("Name (which service uses it)").fill("billing-service");
    await page.getByLabel("Organizations (comma-separated; empty for every one)").fill(DEMO_ORGANIZATION);
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.locator("#secret-value");
    await shown.waitFor();
    const key = (await shown.textContent()) ?? "";
    expect(key).toMatch(/^sk_cache_/);
    // It reads its organization's directory, and only that one.
    const read = (id: string) => fetch(`${dev.url}/directories/${id}`, { headers: { Authorization: `Bearer ${key}` } });
    expect((await read(DEMO_DIRECTORY)).status).toBe(200);
    expect((await read(SYNCED)).status).toBe(404);

    await page.getByRole("button", { name: "Done, hide it" }).click();
    const row = page.getByRole("row").filter({ hasText: "billing-service" });
    await row.waitFor();
    expect(await row.textContent()).toContain(DEMO_ORGANIZATION);
    expect(await row.textContent()).toContain(key.slice(0, 13));
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator("#refreshed").waitFor();
    expect(await page.content()).not.toContain(key);

    const said = await confirmed(page, row.getByRole("button", { name: "Revoke" }));
    expect(said).toBe('Key "billing-service" revoked: done.');
    await row.getByText("revoked").waitFor();
    await waitFor(async () => ((await read(DEMO_DIRECTORY)).status === 401 ? true : undefined), "the key refused");
    expect(await page.content()).not.toContain(key);
  });

  it("shows a failing subscription's last failure", async () => {
    const { page } = await signedIn();
    const row = page.getByRole("row").filter({ hasText: `${subscriberUrl}/failing` });
    const failure = row.locator(".failure");
    await failure.waitFor({ timeout: 60_000 });
    expect(await failure.textContent()).toMatch(/ ago: .*\b500\b/);
  });

  it("creates a subscription with its secret shown once, then pauses, resumes, rotates and deletes it", async () => {
    const { page } = await signedIn();
    const url = `${subscriberUrl}/console`;
    await page.getByText("New subscription").click();
    await page.getByLabel("URL (https)").fill(url);
    await page.getByLabel(/^Event types/).fill("dsync.user.created, dsync.user.updated");
    await page.getByRole("button", { name: "Create subscription" }).click();
    await page.locator("#secret-value").waitFor();
    const secret = (await page.locator("#secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole("button", { name: "Done, hide it" }).click();
    const row = page.getByRole("row").filter({ hasText: url });
    await row.waitFor();
    expect(await row.textContent()).toContain("dsync.user.created, dsync.user.updated");
    expect(await page.content()).not.toContain(secret);

    expect(await confirmed(page, row.getByRole("button", { name: "Pause" }))).toBe("Subscription paused: done.");
    await row.getByText("paused", { exact: true }).waitFor();
    expect(await confirmed(page, row.getByRole("button", { name: "Resume" }))).toBe("Subscription resumed: done.");
    await row.getByText("active", { exact: true }).waitFor();
    expect(await confirmed(page, row.getByRole("button", { name: "Rotate secret" }))).toBe("Secret rotated: done.");
    const rotated = (await page.locator("#secret-value").textContent()) ?? "";
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.getByRole("button", { name: "Done, hide it" }).click();
    expect(await page.content()).not.toContain(rotated);

    // Cancelling the dialog does nothing; confirming deletes.
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await page.locator("#outcome", { hasText: "cancelled" }).waitFor();
    expect(await row.count()).toBe(1);
    expect(await confirmed(page, row.getByRole("button", { name: "Delete" }))).toBe("Subscription deleted: done.");
    await row.waitFor({ state: "detached" });
    const listed = (await admin("/subscriptions")) as { data: { url: string }[] };
    expect(listed.data.map((x) => x.url)).not.toContain(url);
  });

  it("reconciles every directory with WorkOS on demand", async () => {
    const { page } = await signedIn();
    const said = await confirmed(page, page.getByRole("button", { name: "Reconcile all directories" }));
    expect(said).toBe("Reconcile: 3 directories listed at WorkOS, 0 removed.");
    expect(Date.parse(String((await admin("/status")).lastReconcileAt))).toBeGreaterThan(Date.now() - 60_000);
  });

  it("shows a braked sweep and releases the brake, removing nothing", async () => {
    const { page } = await signedIn();
    const braked = card(page, BRAKED);
    await completed(braked);
    await braked.locator('[data-count="users"]', { hasText: String(BRAKED_USERS.length) }).waitFor();
    // WorkOS no longer lists 12 of the 15 users: a crawl would remove 80% of them.
    for (const id of BRAKED_USERS.slice(3)) standin.deleteUser(id);
    await confirmed(page, braked.getByRole("button", { name: "Resync" }));
    await braked.locator('[data-sync-state="braked"]').waitFor({ timeout: 60_000 });
    const attention = braked.locator(".attention");
    expect(await attention.textContent()).toContain(`would remove 12 of ${BRAKED_USERS.length} users`);
    const said = await confirmed(page, braked.getByRole("button", { name: "Release: remove nothing" }));
    expect(said).toBe("Brake on Brake Co released: done.");
    await completed(braked);
    expect(await braked.locator('[data-count="users"]').textContent()).toBe(String(BRAKED_USERS.length));
    expect(await attention.count()).toBe(0);
  });

  it("renders hostile group and user names as text: no markup, no script", async () => {
    const { page } = await signedIn();
    const synced = card(page, SYNCED);
    await synced.getByText("Groups and users").click();
    const groupCell = synced
      .getByRole("region", { name: "Groups" })
      .getByRole("cell", { name: HOSTILE_GROUP, exact: true });
    await groupCell.waitFor();
    expect(await groupCell.textContent()).toBe(HOSTILE_GROUP);
    // The user's name, and the group's name again in the user's groups.
    const userRow = synced
      .getByRole("region", { name: "Users" })
      .getByRole("row")
      .filter({ hasText: "directory_user_hostile@example.com" });
    expect(await userRow.getByRole("cell").first().textContent()).toBe(`${HOSTILE_USER} Block`);
    expect(await userRow.getByRole("cell").last().textContent()).toBe(HOSTILE_GROUP);
    // Injected markup would have made elements; none exist, and no handler ran.
    expect(await synced.locator("img, script").count()).toBe(0);
    expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
  });

  it("fits 1280x800 and a phone's width (screenshots for CI and the README)", async () => {
    for (const [name, viewport] of [
      ["1280", { width: 1280, height: 800 }],
      ["phone", { width: 390, height: 844 }],
    ] as const) {
      const { page, errors } = await signedIn(viewport);
      await completed(card(page, SYNCED));
      // Nothing wider than the screen: tables scroll inside their own region.
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: true });
      expect(errors).toEqual([]);
    }
  });
});
