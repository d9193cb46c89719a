// @ts-check
/**
 * Building the page from data. Every value goes in as a text node or an attribute value set
 * through the DOM, never as markup: names are whatever a customer's identity provider sent.
 */

/** @typedef {string | number | Node | null | undefined | false} Child */

/**
 * An element with attributes (strings, or `true` for a bare one; `on<event>` takes a listener)
 * and children (text or nodes; null and false are skipped).
 * @param {string} tag
 * @param {Record<string, string | number | boolean | EventListener | null | undefined>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/**
 * The element with this id (the page's own markup: missing is a bug).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A description list of label/value pairs (values may be nodes).
 * @param {[string, Child | Child[]][]} rows
 */
export function facts(rows) {
  return h("dl", { class: "facts" }, ...rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, ...[v].flat()))));
}

/**
 * A table in a scrollable region (keyboard-scrollable at phone width).
 * @param {string} label
 * @param {string[]} headings
 * @param {(Child | Child[])[][]} rows
 */
export function table(label, headings, rows) {
  return h(
    "div",
    { class: "scroll", role: "region", "aria-label": label, tabindex: 0 },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, label),
      h("thead", {}, h("tr", {}, ...headings.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, ...[c].flat()))))),
    ),
  );
}

/**
 * "3 min ago" (the exact time in a tooltip), or a dash.
 * @param {string | number | null | undefined} at ISO time or ms epoch
 */
export function ago(at) {
  if (at === null || at === undefined || at === "") return h("span", { class: "muted" }, "never");
  const ms = typeof at === "number" ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return h("span", {}, String(at));
  const iso = new Date(ms).toISOString();
  return h("time", { datetime: iso, title: iso }, relative(Date.now() - ms));
}

/** @param {number} ms */
export function relative(ms) {
  const future = ms < 0;
  const s = Math.abs(ms) / 1000;
  const text =
    s < 60
      ? `${Math.round(s)} s`
      : s < 3600
        ? `${Math.round(s / 60)} min`
        : s < 86400
          ? `${Math.round(s / 3600)} h`
          : `${Math.round(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** @param {number | null | undefined} ms */
export function duration(ms) {
  if (ms === null || ms === undefined) return "none";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * A small label whose kind sets its colour (ok, warn, bad, info).
 * @param {string} text
 * @param {"ok" | "warn" | "bad" | "info"} kind
 */
export function badge(text, kind) {
  return h("span", { class: `badge ${kind}` }, text);
}

/** @param {number} n */
export const count = (n) => n.toLocaleString("en-US");
