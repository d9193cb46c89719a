// @ts-check
/**
 * A directory's last 24 hours as an inline SVG: bars for changes applied per 5-minute bucket,
 * a line for the largest projection lag (KV behind the writer) in each. No library.
 */

const NS = "http://www.w3.org/2000/svg";
const W = 600;
const H = 120;
const PAD = 4;

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 */
function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * @typedef {{ at: string, changes: number, kvWrites: number, lagMaxMs: number,
 *   webhooks: { applied: number, stale: number, duplicate: number } }} Bucket
 * @typedef {{ from: string, to: string, bucketSeconds: number, buckets: Bucket[] }} Activity
 */

/**
 * @param {Activity} activity
 * @param {string} name the directory, for the chart's accessible name
 */
export function activityChart(activity, name) {
  const from = Date.parse(activity.from);
  const step = activity.bucketSeconds * 1000;
  const slots = Math.round((Date.parse(activity.to) - from) / step);
  const maxChanges = Math.max(1, ...activity.buckets.map((b) => b.changes));
  const maxLag = Math.max(1000, ...activity.buckets.map((b) => b.lagMaxMs));
  const x = (/** @type {number} */ i) => PAD + (i * (W - 2 * PAD)) / slots;
  const barW = Math.max(1, (W - 2 * PAD) / slots - 0.5);
  const totalChanges = activity.buckets.reduce((n, b) => n + b.changes, 0);
  const worstLag = Math.max(0, ...activity.buckets.map((b) => b.lagMaxMs));

  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart", preserveAspectRatio: "none" });
  const title = svg("title", {});
  title.textContent = `${name}: ${totalChanges} changes applied in the last 24 hours; largest projection lag ${Math.round(worstLag)} ms`;
  root.append(title);
  root.append(svg("rect", { x: 0, y: 0, width: W, height: H, class: "chart-bg" }));
  const points = [];
  for (const b of activity.buckets) {
    const i = Math.floor((Date.parse(b.at) - from) / step);
    if (i < 0 || i >= slots) continue;
    const bh = (b.changes / maxChanges) * (H - 2 * PAD);
    if (b.changes > 0) root.append(svg("rect", { x: x(i), y: H - PAD - bh, width: barW, height: bh, class: "bar" }));
    if (b.lagMaxMs > 0) points.push(`${x(i) + barW / 2},${H - PAD - (b.lagMaxMs / maxLag) * (H - 2 * PAD)}`);
  }
  if (points.length > 1) root.append(svg("polyline", { points: points.join(" "), class: "lag" }));
  else if (points.length === 1) {
    const [cx, cy] = (points[0] ?? "0,0").split(",");
    root.append(svg("circle", { cx: cx ?? 0, cy: cy ?? 0, r: 2.5, class: "lag-dot" }));
  }
  return { root, totalChanges, worstLag, maxChanges, maxLag };
}
