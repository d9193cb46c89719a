// @ts-check
/**
 * The admin JSON API, called with the signed-in key as a bearer token. The key lives in this
 * tab's sessionStorage only: never in a URL or a cookie, gone when the tab closes.
 */

const STORAGE = "dsync-cache-admin-key";

export const session = {
  /** @returns {string | null} */
  key: () => sessionStorage.getItem(STORAGE),
  /** @param {string} key */
  keep: (key) => sessionStorage.setItem(STORAGE, key),
  forget: () => sessionStorage.removeItem(STORAGE),
};

/** A refused or failed call, with the API's own message and code. */
export class ApiFailure extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {string} code
   */
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the admin API; answers the parsed JSON (null for 204). `key` defaults to the session's.
 * @param {string} path under /admin
 * @param {{ method?: string, body?: unknown, key?: string }} [options]
 * @returns {Promise<any>}
 */
export async function call(path, { method = "GET", body, key } = {}) {
  const token = key ?? session.key();
  if (!token) throw new ApiFailure("Not signed in.", 401, "unauthorized");
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/admin${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiFailure("The cache could not be reached.", 0, "network_error");
  }
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = Array.isArray(json?.errors)
      ? json.errors.map((/** @type {{field: string, code: string}} */ e) => `${e.field}: ${e.code}`).join("; ")
      : "";
    const message = typeof json?.message === "string" ? json.message : `HTTP ${res.status}`;
    throw new ApiFailure(
      detail && !message.includes(detail) ? `${message} (${detail})` : message,
      res.status,
      json?.code ?? "",
    );
  }
  return json;
}
