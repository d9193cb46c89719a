import type { Config } from "./config";
import type { Env } from "./env";
import type { KvReader } from "./read/kv-reader";
import type { Answer } from "./read/memory-tier";
import type { Access } from "./read/org-limit";
import type { KeyGrant } from "./schemas/keys";

/** What every request of the Hono app carries: the bindings, and per-request services. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    kv: KvReader;
    answer?: Answer;
    /** Set by the key check: who is calling, and which organizations it may see. */
    caller?: KeyGrant;
    access?: Access;
    /** The directory's writer answered this read (a strong read). */
    strong?: boolean;
  };
};
