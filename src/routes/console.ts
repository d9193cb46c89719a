import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env";
import { CONSOLE_FILES } from "../console/files.generated";
import { ApiError } from "../http/errors";

/**
 * The operator console (`/admin/console`): a static page and its scripts, bundled into the
 * worker (see scripts/build-console.mjs). The page holds no data and no secret; it signs in with
 * an admin key and reads the admin API like any script would, so it is served without a key.
 */
export const consolePage = new Hono<AppEnv>();

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

function serve(c: Context<AppEnv>, file: string): Response {
  const found = Object.hasOwn(CONSOLE_FILES, file) ? CONSOLE_FILES[file] : undefined;
  if (!found) throw new ApiError(404, "not_found", "Not Found");
  return c.body(found.body, 200, { ...SECURITY_HEADERS, "Content-Type": found.type });
}
