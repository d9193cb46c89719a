import { app } from "./app";
import type { Env } from "./env";

export { DirectoryObject } from "./directory/object";
export { RegistryObject } from "./registry/object";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
