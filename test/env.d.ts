import type { Env as WorkerEnv } from "../src/env";

// Types of `env` and `exports` from "cloudflare:workers" inside the test pool.
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../src/index");
      durableNamespaces: "DirectoryObject" | "RegistryObject" | "UpstreamGate";
    }
  }
}
