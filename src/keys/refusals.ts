import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { Tally } from "../http/tally";
import type { RefusalReason } from "../schemas/keys";

/** Requests refused by the key checks, added to the keys object's totals (see Tally). */
const refusals = new Tally<RefusalReason>((env, counts) => env.KEYS.getByName("keys").countRefusals(counts));

export const countRefusal = (c: Context<AppEnv>, reason: RefusalReason) => refusals.count(c, reason);
