import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env";
import { ApiError } from "../http/errors";

/**
 * The operator console (`/admin/console`): a static page and its scripts, from the worker's
 * assets. The page holds no data and no secret; it signs in with an admin key and reads the
 * admin API like any script would, so it is served without a key.
 */
export const consolePage = new Hono<AppEnv>();

/** The files the page is made of: nothing else in the assets folder is served. */
const FILES = new Set(["app.js", "api.js", "chart.js", "dom.js", "views.js", "console.css", "favicon.svg"]);

/**
 * No inline script or style, no eval, nothing from another origin, no framing; with Trusted
 * Types required, even a stray `innerHTML` of a string would throw rather than render markup.
 */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CONSOLE_CSP,
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-cache",
};

// `/admin/console` and `/admin/console/` are the page; `/admin/console/<file>` its files.
consolePage.get("/", (c) => serve(c, "index.html"));
consolePage.get("/:file{[^/]*}", (c) => serve(c, c.req.param("file") || "index.html"));

async function serve(c: Context<AppEnv>, file: string): Promise<Response> {
  if (file !== "index.html" && !FILES.has(file)) throw new ApiError(404, "not_found", "Not Found");
  const asset = await c.env.ASSETS.fetch(new URL(`/${file}`, c.req.url));
  if (!asset.ok)
    throw new ApiError(503, "console_unavailable", "The console's files are missing from this deployment.");
  const headers = new Headers(asset.headers);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  return new Response(asset.body, { status: 200, headers });
}
