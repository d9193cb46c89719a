// @ts-check
/**
 * The operator console: sign-in, then every section from the admin API, refreshed every few
 * seconds; each action is confirmed, then answered with its outcome.
 */
import { ApiFailure, call, session } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { directoryCard, feedHead, keyTable, overview, records, subscriptionTable } from "./views.js";

const REFRESH_MS = 5000;
/** Charts change by the 5-minute bucket: each directory's is fetched again after this long. */
const CHART_REFRESH_MS = 60_000;
/** @type {Map<string, { at: number, data: any }>} */
const charts = new Map();
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let loading = false;
/** Which records panels are open, so a refresh keeps them open. */
const openPanels = new Set();

/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/**
 * Shows an action's outcome in the live region (read out by screen readers).
 * @param {string} text
 * @param {boolean} ok
 */
function announce(text, ok) {
  const el = byId("outcome");
  el.className = ok ? "outcome ok" : "outcome bad";
  el.textContent = text;
}

/**
 * Runs an action and reports how it went, then refreshes.
 * @param {string} label
 * @param {() => Promise<unknown>} run answers what to announce, or nothing for "done"
 */
async function act(label, run) {
  try {
    const said = await run();
    announce(typeof said === "string" ? said : `${label}: done.`, true);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return signOut("Your key was refused; sign in again.");
    announce(`${label}: failed: ${messageOf(err)}`, false);
  }
  await refresh();
}

/**
 * Asks first (a modal dialog), then acts.
 * @param {string} question
 * @param {string} label
 * @param {() => Promise<unknown>} run
 */
function confirmAct(question, label, run) {
  const dialog = /** @type {HTMLDialogElement} */ (byId("confirm"));
  byId("confirm-text").textContent = question;
  dialog.returnValue = "";
  dialog.addEventListener(
    "close",
    () => {
      if (dialog.returnValue === "ok") void act(label, run);
      else announce(`${label}: cancelled.`, true);
    },
    { once: true },
  );
  dialog.showModal();
  byId("confirm-cancel").focus();
}

/**
 * Shows a key or secret this once, with a copy button.
 * @param {string} label
 * @param {string} secret
 */
function showOnce(label, secret) {
  byId("secret-label").textContent = label;
  byId("secret-value").textContent = secret;
  byId("secret-once").hidden = false;
  byId("secret-copy").focus();
}

function hideSecret() {
  byId("secret-value").textContent = "";
  byId("secret-label").textContent = "";
  byId("secret-once").hidden = true;
}

const actions = {
  confirmAct,
  pullEnabled: false,
  /** @param {string} id */
  resync: async (id) => {
    const s = await call(`/directories/${encodeURIComponent(id)}/sync`, { method: "POST" });
    return `Resync of ${id} started: generation ${s.generation}, ${s.state}.`;
  },
  /**
   * @param {string} id
   * @param {string} decision
   * @param {number} generation
   */
  brake: async (id, decision, generation) => {
    await call(`/directories/${encodeURIComponent(id)}/brake`, { method: "POST", body: { decision, generation } });
  },
  /** @param {string} id */
  rotate: async (id) => {
    const s = await call(`/subscriptions/${encodeURIComponent(id)}/rotate`, { method: "POST" });
    showOnce(`New signing secret of ${s.url}:`, s.secret);
  },
  /**
   * @param {string} id
   * @param {HTMLElement} into
   */
  browse: async (id, into) => {
    openPanels.add(id);
    fill(into, h("p", { class: "muted" }, "Loading…"));
    try {
      const path = `/directories/${encodeURIComponent(id)}/records?limit=100&type=`;
      const [groups, users] = await Promise.all([call(`${path}groups`), call(`${path}users`)]);
      fill(into, ...records(groups, users));
    } catch (err) {
      fill(into, h("p", { class: "error" }, `Could not load records: ${messageOf(err)}`));
    }
  },
};

/**
 * A directory's 24 h activity, fetched at most once a CHART_REFRESH_MS (undefined if it fails).
 * @param {string} id
 */
async function chartOf(id) {
  const kept = charts.get(id);
  if (kept && Date.now() - kept.at < CHART_REFRESH_MS) return kept.data;
  try {
    const data = await call(`/directories/${encodeURIComponent(id)}/activity`);
    charts.set(id, { at: Date.now(), data });
    return data;
  } catch {
    return kept?.data;
  }
}

/** Loads everything and renders it; keeps keyboard focus on the same control across a refresh. */
async function refresh() {
  if (loading || !session.key()) return;
  loading = true;
  clearTimeout(timer);
  try {
    const [status, keys] = await Promise.all([call("/status"), call("/keys")]);
    const activity = await Promise.all(status.directories.map((/** @type {any} */ d) => chartOf(d.directoryId)));
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.key : undefined;
    actions.pullEnabled = status.pullEnabled;
    fill(byId("overview"), ...overview(status));
    /** @type {HTMLButtonElement} */ (byId("reconcile")).disabled = !status.pullEnabled;
    fill(
      byId("directories"),
      ...(status.directories.length
        ? status.directories.map((/** @type {any} */ d, /** @type {number} */ i) =>
            directoryCard(d, activity[i], actions),
          )
        : [h("p", { class: "muted" }, "No directories yet: they appear when WorkOS delivers their first webhook.")]),
    );
    for (const id of openPanels) {
      const details = document.querySelector(`details[data-key="browse-${CSS.escape(id)}"]`);
      if (details instanceof HTMLDetailsElement) details.open = true;
    }
    fill(byId("feed"), feedHead(status.feed.head));
    fill(byId("subscriptions"), subscriptionTable(status.feed.subscriptions, actions));
    fill(byId("keys"), keyTable(keys.data, actions));
    const again = focused ? document.querySelector(`[data-key="${CSS.escape(focused)}"]`) : null;
    if (again instanceof HTMLElement) again.focus();
    byId("load-error").textContent = "";
    byId("refreshed").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) {
      loading = false;
      return signOut("Your key was refused; sign in again.");
    }
    byId("load-error").textContent = `Could not load the console: ${messageOf(err)}`;
  } finally {
    loading = false;
  }
  // A tab in the background polls nothing; it refreshes when shown again.
  if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
}

function showConsole() {
  byId("sign-in").hidden = true;
  byId("console").hidden = false;
  byId("session").hidden = false;
}

/** @param {string} [why] */
function signOut(why) {
  session.forget();
  clearTimeout(timer);
  openPanels.clear();
  charts.clear();
  hideSecret();
  for (const id of ["overview", "directories", "feed", "subscriptions", "keys"]) fill(byId(id));
  byId("console").hidden = true;
  byId("session").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = why ?? "";
  byId("admin-key").focus();
}

/** @param {SubmitEvent} e */
async function signIn(e) {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId("admin-key"));
  const key = input.value.trim();
  const error = byId("sign-in-error");
  if (!key) {
    error.textContent = "Enter an admin key.";
    return;
  }
  error.textContent = "";
  try {
    // Checked before it is kept: a refused key is never stored.
    await call("/status", { key });
  } catch (err) {
    const why =
      err instanceof ApiFailure && (err.status === 401 || err.status === 403)
        ? `This key was refused (${err.status}): ${err.message}`
        : `Could not sign in: ${messageOf(err)}`;
    error.textContent = why;
    return;
  }
  input.value = "";
  session.keep(key);
  showConsole();
  byId("main").focus();
  await refresh();
}

/**
 * Values of a comma-separated field, or undefined when empty.
 * @param {FormData} form
 * @param {string} name
 */
function listOf(form, name) {
  const values = String(form.get(name) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return values.length ? values : undefined;
}

/** @param {SubmitEvent} e */
function createKey(e) {
  e.preventDefault();
  const formEl = /** @type {HTMLFormElement} */ (e.target);
  const form = new FormData(formEl);
  const expires = String(form.get("expires") ?? "");
  const body = {
    name: String(form.get("name") ?? "").trim(),
    scopes: form.getAll("scope").map(String),
    organization_ids: listOf(form, "organizations"),
    expires_at: expires ? new Date(expires).toISOString() : undefined,
  };
  void act(`Key "${body.name}" created`, async () => {
    const created = await call("/keys", { method: "POST", body });
    formEl.reset();
    showOnce(`The key "${created.name}" (copy it now):`, created.key);
  });
}

/** @param {SubmitEvent} e */
function createSubscription(e) {
  e.preventDefault();
  const formEl = /** @type {HTMLFormElement} */ (e.target);
  const form = new FormData(formEl);
  const body = {
    url: String(form.get("url") ?? "").trim(),
    events: listOf(form, "events"),
    organization_ids: listOf(form, "organizations"),
  };
  void act(`Subscription to ${body.url} created`, async () => {
    const created = await call("/subscriptions", { method: "POST", body });
    formEl.reset();
    showOnce(`Signing secret of ${created.url} (copy it now):`, created.secret);
  });
}

async function copySecret() {
  const secret = byId("secret-value").textContent ?? "";
  try {
    await navigator.clipboard.writeText(secret);
    announce("Copied to the clipboard.", true);
  } catch {
    // No clipboard permission (e.g. plain http): select it for a manual copy.
    const range = document.createRange();
    range.selectNodeContents(byId("secret-value"));
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    announce("Select and copy it by hand (the clipboard is not available here).", false);
  }
}

function start() {
  byId("sign-in-form").addEventListener("submit", (e) => void signIn(/** @type {SubmitEvent} */ (e)));
  byId("sign-out").addEventListener("click", () => signOut());
  byId("refresh").addEventListener("click", () => void refresh());
  byId("reconcile").addEventListener("click", () =>
    confirmAct("Reconcile every directory with WorkOS now?", "Reconcile of all directories", async () => {
      const r = await call("/reconcile", { method: "POST" });
      return `Reconcile: ${r.directories} directories listed at WorkOS, ${r.removed} removed.`;
    }),
  );
  byId("key-form").addEventListener("submit", (e) => createKey(/** @type {SubmitEvent} */ (e)));
  byId("subscription-form").addEventListener("submit", (e) => createSubscription(/** @type {SubmitEvent} */ (e)));
  byId("secret-copy").addEventListener("click", () => void copySecret());
  byId("secret-done").addEventListener("click", hideSecret);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) void refresh();
  });
  if (session.key()) {
    showConsole();
    void refresh();
  } else byId("admin-key").focus();
}

start();
