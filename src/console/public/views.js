// @ts-check
/** The console's sections, rendered from the admin API's answers (see app.js for the actions). */
import { call } from "./api.js";
import { activityChart } from "./chart.js";
import { ago, badge, count, duration, facts, h, table } from "./dom.js";

/**
 * @typedef {{ confirmAct: (question: string, label: string, run: () => Promise<unknown>) => void }} Actions
 */

/**
 * A button that asks first (the console's dialog), then acts and announces the outcome.
 * @param {Actions} actions
 * @param {{ label: string, key: string, danger?: boolean, disabled?: boolean, title?: string | null }} b
 * @param {string} question
 * @param {string} done what the outcome is called
 * @param {() => Promise<unknown>} run
 */
function confirmButton(actions, b, question, done, run) {
  return h(
    "button",
    {
      type: "button",
      class: b.danger ? "danger" : null,
      "data-key": b.key,
      disabled: b.disabled ?? false,
      title: b.title ?? null,
      onclick: () => actions.confirmAct(question, done, run),
    },
    b.label,
  );
}

/** @param {Record<string, number>} counts */
function byReason(counts) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return h("span", { class: "muted" }, "none");
  return h("ul", { class: "inline-list" }, ...entries.map(([k, n]) => h("li", {}, h("code", {}, k), `: ${count(n)}`)));
}

/**
 * A total, and its reasons when there is any.
 * @param {Record<string, number>} counts
 */
function withReasons(counts) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return total ? [count(total), " ", byReason(counts)] : "0";
}

/** @param {any} status GET /admin/status */
export function overview(status) {
  const w = status.webhooks;
  return [
    facts([
      ["Pulling from WorkOS", status.pullEnabled ? badge("on", "ok") : badge("off (webhooks only)", "info")],
      [
        "Events API cursor",
        status.eventsCursor ? h("code", {}, status.eventsCursor) : h("span", { class: "muted" }, "none"),
      ],
      ["Last reconcile", ago(status.lastReconcileAt)],
      ["Directories", count(status.directories.length)],
    ]),
    h("h3", {}, `Webhooks, last ${w.windowHours} h`),
    facts([
      ["Applied", count(w.applied)],
      ["Stale (older than held)", count(w.stale)],
      ["Duplicate", count(w.duplicate)],
      ["Not applied", withReasons(w.notApplied)],
      ["Refused", withReasons(w.refused)],
    ]),
    h("h3", {}, "Refused API requests (since deploy)"),
    byReason(status.refusedRequests),
  ];
}

/** @param {any} d a directory of GET /admin/status */
function stateOf(d) {
  const s = d.sync;
  if (d.directory?.deleted) return badge("deleted", "info");
  if (s.state === "braked") return badge("brake: waiting for an admin", "bad");
  if (s.state === "failed") return badge("sync failed", "bad");
  if (!s.held && s.state === "running") return badge("backfilling", "warn");
  if (!s.held) return badge("not held yet", "warn");
  if (s.state === "running") return badge("held, reconciling", "ok");
  return badge(s.pullEnabled ? "held" : "held (webhooks)", "ok");
}

/** @param {any} s SyncReport */
function syncFacts(s) {
  if (!s.pullEnabled) return h("span", { class: "muted" }, "pulling is off");
  const c = s.counts;
  const progress = `${s.state}, ${s.phase} phase, ${count(s.pages)} pages: ${count(c.users)} users, ${count(c.groups)} groups, ${count(c.memberships)} memberships`;
  return [
    h("span", {}, `Generation ${s.generation}: ${progress}`),
    s.finishedAt ? h("span", { class: "muted" }, " · finished ", ago(s.finishedAt)) : null,
    s.reason ? h("span", { class: "muted" }, ` · started by ${s.reason}`) : null,
  ];
}

/**
 * @param {any} d a directory of GET /admin/status
 * @param {any | undefined} activity its GET /admin/directories/{id}/activity
 * @param {Actions & { pullEnabled: boolean, browse: (id: string, into: HTMLElement) => void,
 *   resync: (id: string) => Promise<string>, brake: (id: string, decision: string, generation: number) => Promise<void> }} actions
 */
export function directoryCard(d, activity, actions) {
  const id = d.directoryId;
  const name = d.directory?.name || id;
  const s = d.sync;
  const failed = d.failedKvWrites;
  const attention = [];
  if (s.brake && s.state === "braked") {
    const b = s.brake;
    attention.push(
      h(
        "div",
        { class: "attention" },
        h(
          "p",
          {},
          `A reconcile would remove ${count(b.users)} of ${count(b.liveUsers)} users and ${count(b.groups)} of ${count(b.liveGroups)} groups (braked ${new Date(b.at).toISOString()}).`,
        ),
        h(
          "div",
          { class: "actions" },
          confirmButton(
            actions,
            { label: "Apply the removals", key: `brake-apply-${id}` },
            `Apply the sweep of ${name}: remove ${b.users} users and ${b.groups} groups?`,
            `Sweep of ${name} applied`,
            () => actions.brake(id, "apply", b.generation),
          ),
          confirmButton(
            actions,
            { label: "Release: remove nothing", key: `brake-discard-${id}` },
            `Release the brake on ${name} and remove nothing?`,
            `Brake on ${name} released`,
            () => actions.brake(id, "discard", b.generation),
          ),
        ),
      ),
    );
  }
  if (failed.parked + failed.retrying > 0)
    attention.push(
      h(
        "p",
        { class: "attention" },
        `${count(failed.retrying)} KV writes retrying, ${count(failed.parked)} parked`,
        failed.oldest[0] ? ` (oldest: ${failed.oldest[0].write}: ${failed.oldest[0].error})` : "",
      ),
    );
  if (s.invalid?.records > 0)
    attention.push(
      h("p", { class: "attention" }, `${count(s.invalid.records)} records WorkOS sent could not be read (set aside)`),
    );

  const chart = activity ? activityChart(activity, name) : null;
  const browse = h("div", { class: "browse" });
  const details = h(
    "details",
    { class: "records", "data-key": `browse-${id}` },
    h("summary", {}, "Groups and users"),
    browse,
  );
  details.addEventListener("toggle", () => {
    if (/** @type {HTMLDetailsElement} */ (details).open && !browse.hasChildNodes()) actions.browse(id, browse);
  });

  return h(
    "article",
    { class: "card", "aria-labelledby": `dir-${id}`, "data-directory": id },
    h("header", {}, h("h3", { id: `dir-${id}` }, name), stateOf(d)),
    facts([
      ["Directory id", h("code", {}, id)],
      ["Organization", d.directory ? h("code", {}, d.directory.organizationId) : "unknown"],
      [
        "Users",
        [
          h("span", { "data-count": "users" }, count(d.counts.active + d.counts.inactive)),
          ` (${count(d.counts.active)} active, ${count(d.counts.inactive)} inactive)`,
        ],
      ],
      ["Groups", h("span", { "data-count": "groups" }, count(d.counts.groups))],
      ["Sync", h("span", { "data-sync-state": s.state }, syncFacts(s))],
      [
        "Last change",
        d.lastEvent
          ? [h("code", {}, d.lastEvent.event), ` ${d.lastEvent.outcome} `, ago(d.lastEvent.at)]
          : h("span", { class: "muted" }, "none"),
      ],
      [
        "KV outbox",
        `${count(d.pendingKvWrites)} pending${d.oldestPendingWriteAgeMs === null ? "" : `, oldest waiting ${duration(d.oldestPendingWriteAgeMs)}`}`,
      ],
      [
        "Last 24 h",
        `${count(d.last24h.changes)} changes, ${count(d.last24h.kvWrites)} KV writes, largest lag ${duration(d.last24h.lagMaxMs)}`,
      ],
      [
        "Last upstream error",
        s.lastError
          ? [h("span", { class: "error-text" }, s.lastError), " ", ago(s.lastErrorAt)]
          : h("span", { class: "muted" }, "none"),
      ],
    ]),
    ...attention,
    chart
      ? h(
          "figure",
          { class: "chart-box" },
          chart.root,
          h(
            "figcaption",
            {},
            h("span", { class: "key-bar" }, "changes per 5 min (max ", String(chart.maxChanges), ")"),
            " ",
            h("span", { class: "key-lag" }, "projection lag (max ", duration(chart.worstLag), ")"),
          ),
        )
      : null,
    h(
      "div",
      { class: "actions" },
      confirmButton(
        actions,
        {
          label: "Resync",
          key: `resync-${id}`,
          disabled: !actions.pullEnabled,
          title: actions.pullEnabled ? null : "Pulling from WorkOS is off: set WORKOS_API_KEY",
        },
        `Resync ${name} from WorkOS now? A new crawl replaces any running one.`,
        `Resync of ${name}`,
        () => actions.resync(id),
      ),
    ),
    details,
  );
}

/**
 * @param {{ data: any[], list_metadata: { after: string | null } }} groups
 * @param {{ data: any[], list_metadata: { after: string | null } }} users
 */
export function records(groups, users) {
  return [
    table(
      "Groups",
      ["Name", "Id", "IdP id"],
      groups.data.map((g) => [g.name, h("code", {}, g.id), g.idp_id]),
    ),
    groups.list_metadata.after ? h("p", { class: "muted" }, "First 100 groups shown.") : null,
    table(
      "Users",
      ["Name", "Email", "State", "Groups"],
      users.data.map((u) => [
        [u.first_name, u.last_name].filter(Boolean).join(" ") || h("span", { class: "muted" }, "(no name)"),
        u.email ?? "",
        u.state,
        (u.groups ?? []).map((/** @type {{name: string}} */ g) => g.name).join(", "),
      ]),
    ),
    users.list_metadata.after ? h("p", { class: "muted" }, "First 100 users shown.") : null,
  ];
}

/** @param {any} head FeedHead */
export function feedHead(head) {
  return facts([
    ["Head position", count(head.position)],
    ["Events held", count(head.events)],
    [
      "Last event",
      head.lastEventId
        ? [h("code", {}, head.lastEventId), " ", ago(head.lastEventAt)]
        : h("span", { class: "muted" }, "none"),
    ],
  ]);
}

/**
 * @param {any[]} subs
 * @param {Actions & { rotate: (id: string) => Promise<void> }} actions
 */
export function subscriptionTable(subs, actions) {
  if (subs.length === 0) return h("p", { class: "muted" }, "No subscriptions.");
  return table(
    "Subscriptions",
    ["URL", "State", "Events", "Backlog", "Delivered", "Dead", "Last success", "Last failure", "Actions"],
    subs.map((s) => [
      h("code", { class: "url" }, s.url),
      s.state === "active" ? badge("active", "ok") : badge("paused", "warn"),
      s.events.length ? s.events.join(", ") : "all",
      count(s.backlog),
      count(s.delivered),
      count(s.dead),
      ago(s.last_success_at),
      s.last_failure
        ? h(
            "span",
            { class: "failure" },
            ago(s.last_failure.at),
            ": ",
            h("span", { class: "error-text" }, s.last_failure.error),
            s.last_failure.status !== null && !s.last_failure.error.includes(String(s.last_failure.status))
              ? ` (HTTP ${s.last_failure.status})`
              : "",
          )
        : h("span", { class: "muted" }, "none"),
      h(
        "div",
        { class: "row-actions" },
        s.state === "active"
          ? confirmButton(
              actions,
              { label: "Pause", key: `pause-${s.id}` },
              `Pause deliveries to ${s.url}?`,
              "Subscription paused",
              () => call(`/subscriptions/${encodeURIComponent(s.id)}/pause`, { method: "POST" }),
            )
          : confirmButton(
              actions,
              { label: "Resume", key: `resume-${s.id}` },
              `Resume deliveries to ${s.url}?`,
              "Subscription resumed",
              () => call(`/subscriptions/${encodeURIComponent(s.id)}/resume`, { method: "POST" }),
            ),
        confirmButton(
          actions,
          { label: "Rotate secret", key: `rotate-${s.id}` },
          `Rotate the secret of ${s.url}? The old one stops signing at once.`,
          "Secret rotated",
          () => actions.rotate(s.id),
        ),
        confirmButton(
          actions,
          { label: "Delete", key: `delete-${s.id}`, danger: true },
          `Delete the subscription to ${s.url}?`,
          "Subscription deleted",
          () => call(`/subscriptions/${encodeURIComponent(s.id)}`, { method: "DELETE" }),
        ),
      ),
    ]),
  );
}

/**
 * @param {any[]} keys
 * @param {Actions} actions
 */
export function keyTable(keys, actions) {
  if (keys.length === 0) return h("p", { class: "muted" }, "No stored keys (the settings' keys are not listed).");
  return table(
    "Access keys",
    ["Name", "Prefix", "Scopes", "Organizations", "Created", "Last used", "Expires", "State", "Actions"],
    keys.map((k) => [
      k.name,
      h("code", {}, k.prefix),
      k.scopes.join(", "),
      k.organization_ids ? k.organization_ids.join(", ") : "all",
      ago(k.created_at),
      ago(k.last_used_at),
      k.expires_at ? ago(k.expires_at) : h("span", { class: "muted" }, "never"),
      k.revoked_at ? badge("revoked", "bad") : badge("active", "ok"),
      k.revoked_at
        ? ""
        : confirmButton(
            actions,
            { label: "Revoke", key: `revoke-${k.id}`, danger: true },
            `Revoke the key "${k.name}" (${k.prefix}…)? Requests with it are refused from then on.`,
            `Key "${k.name}" revoked`,
            () => call(`/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" }),
          ),
    ]),
  );
}
