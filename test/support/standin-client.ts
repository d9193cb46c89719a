/** Drives the WorkOS stand-in from tests inside workerd (over HTTP to its control API). */
import { inject } from "vitest";
import type { Fault } from "./workos-standin";

const base = () => inject("standinUrl");

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${base()}${path}`, { ...init, headers: { "Content-Type": "application/json" } });
  if (!res.ok) throw new Error(`stand-in ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

export const standin = {
  put: (data: {
    directories?: object[];
    users?: object[];
    groups?: object[];
    memberships?: [string, string][];
    emptyUserGroups?: string[];
  }) => call("/_standin/put", { method: "POST", body: JSON.stringify(data) }),
  remove: (data: { directories?: string[]; users?: string[]; groups?: string[]; memberships?: [string, string][] }) =>
    call("/_standin/remove", { method: "POST", body: JSON.stringify(data) }),
  /** `held`: WorkOS holds the event back from listings until `release` (deterministic, no timers). */
  emit: (event: string, data: object, created_at?: string, options: { held?: boolean } = {}) =>
    call("/_standin/emit", {
      method: "POST",
      body: JSON.stringify({ event, data, created_at, ...options }),
    }) as Promise<{
      object: "event";
      id: string;
      event: string;
      data: object;
      created_at: string;
    }>,
  release: (ids: string[]) =>
    call("/_standin/release", { method: "POST", body: JSON.stringify({ ids }) }) as Promise<{ released: number }>,
  fault: (f: Fault) => call("/_standin/faults", { method: "POST", body: JSON.stringify(f) }),
  /** Lets every request a `hold` fault holds go on. */
  unhold: () => call("/_standin/unhold", { method: "POST" }) as Promise<{ resumed: number }>,
  clearFaults: (match?: string) =>
    call(`/_standin/faults${match ? `?match=${encodeURIComponent(match)}` : ""}`, { method: "DELETE" }),
  /** Counters; `match` limits `requests` to those whose path and query contain it. */
  stats: (directory = "", match = "") =>
    call(`/_standin/stats?directory=${encodeURIComponent(directory)}&match=${encodeURIComponent(match)}`) as Promise<{
      requests: number;
      rateLimited: number;
      byPath: Record<string, number>;
      /** Requests a `hold` fault holds right now. */
      holding: number;
    }>,
};
