import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { Access } from "./org-limit";

/**
 * The request's organization limit, as the key check left it. Fails closed: a read that ran
 * without a key check is a bug, answered 500 rather than with every organization's data.
 */
export function accessOf(c: Context<AppEnv>): Access {
  const access = c.get("access");
  if (access === undefined) throw new Error("no key check ran before a read");
  return access;
}
