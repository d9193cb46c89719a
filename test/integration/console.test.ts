/** The operator console's files: served without a key, each with the console's security headers. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const get = (path: string) => exports.default.fetch(`http://cache${path}`);

describe("the operator console's page", () => {
  it("is served at /admin/console without a key, with a strict CSP and no framing", async () => {
    for (const path of ["/admin/console", "/admin/console/"]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("require-trusted-types-for 'script'");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      const html = await res.text();
      // No inline script: every script is a file of the page's own origin.
      expect(html).toContain('<script type="module" src="/admin/console/app.js"></script>');
      expect(html.match(/<script[^>]*>[^<]+<\/script>/g)).toBeNull();
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });

  it("serves its scripts and stylesheet, and nothing else from the folder", async () => {
    const js = await get("/admin/console/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("Content-Type")).toMatch(/javascript/);
    expect(await js.text()).toContain("function signIn(");
    expect((await get("/admin/console/console.css")).headers.get("Content-Type")).toMatch(/^text\/css/);
    for (const path of [
      "/admin/console/tsconfig.json",
      "/admin/console/%2e%2e%2fwrangler.toml",
      "/admin/console/nope.js",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ code: "not_found" });
    }
  });
});
