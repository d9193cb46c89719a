import type { DirectoryObject } from "./directory/object";
import type { RegistryObject } from "./registry/object";
import type { UpstreamGate } from "./upstream/gate";

/** The Worker's bindings (see wrangler.toml) and settings (vars and secrets). */
export interface Env {
  CACHE: KVNamespace;
  DIRECTORY: DurableObjectNamespace<DirectoryObject>;
  REGISTRY: DurableObjectNamespace<RegistryObject>;
  UPSTREAM_GATE: DurableObjectNamespace<UpstreamGate>;
  API_KEYS?: string;
  ADMIN_API_KEYS?: string;
  WORKOS_API_KEY?: string;
  WORKOS_API_BASE_URL?: string;
  RECONCILE_INTERVAL_MINUTES?: string;
  LOG_LEVEL?: string;
  WORKOS_WEBHOOK_SECRET?: string;
  WEBHOOK_TOLERANCE_SECONDS?: string;
  EVENTS_SETTLE_SECONDS?: string;
  RECONCILE_BRAKE_PERCENT?: string;
  RECONCILE_BRAKE_MIN?: string;
}
