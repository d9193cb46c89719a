import type { Config } from "./config";
import type { Env } from "./env";
import type { KvReader } from "./read/kv-reader";
import type { Answer } from "./read/memory-tier";

/** What every request of the Hono app carries: the bindings, and per-request services. */
export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; config: Config; kv: KvReader; answer?: Answer };
};
