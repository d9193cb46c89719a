import type { DirectoryObject } from "./directory/object";
import type { RegistryObject } from "./registry/object";

/** The Worker's bindings (see wrangler.toml) and settings (vars and secrets). */
export interface Env {
  CACHE: KVNamespace;
  DIRECTORY: DurableObjectNamespace<DirectoryObject>;
  REGISTRY: DurableObjectNamespace<RegistryObject>;
  API_KEYS?: string;
  WORKOS_WEBHOOK_SECRET?: string;
  WEBHOOK_TOLERANCE_SECONDS?: string;
}
