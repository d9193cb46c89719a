/**
 * Contract checks against WorkOS's official OpenAPI document (`@workos/openapi-spec`),
 * on the Node side: its schemas are JSON Schema 2020-12, compiled with ajv.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";

const require = createRequire(import.meta.url);
const spec = parse(readFileSync(require.resolve("@workos/openapi-spec/spec"), "utf8")) as {
  components: { schemas: Record<string, unknown> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "workos", components: spec.components });

export type SchemaName =
  | "Directory"
  | "DirectoryList"
  | "DirectoryUserWithGroups"
  | "DirectoryUserList"
  | "DirectoryGroup"
  | "DirectoryGroupList"
  | "EventSchema";

/** Throws with ajv's findings unless `value` conforms to the named schema of the spec. */
export function assertConforms(name: SchemaName, value: unknown, context: string = name): void {
  const validate = ajv.getSchema(`workos#/components/schemas/${name}`);
  if (!validate) throw new Error(`schema ${name} not in the spec`);
  if (!validate(value)) {
    throw new Error(`${context} does not conform to ${name}: ${ajv.errorsText(validate.errors, { separator: "; " })}`);
  }
}

/** The spec schema a response of the cache's read API must conform to. */
export function schemaForPath(pathname: string): SchemaName {
  const [, resource, id] = pathname.split("/");
  const byResource: Record<string, [SchemaName, SchemaName]> = {
    directories: ["DirectoryList", "Directory"],
    directory_users: ["DirectoryUserList", "DirectoryUserWithGroups"],
    directory_groups: ["DirectoryGroupList", "DirectoryGroup"],
  };
  const pair = byResource[resource ?? ""];
  if (!pair) throw new Error(`no schema for ${pathname}`);
  return id ? pair[1] : pair[0];
}
