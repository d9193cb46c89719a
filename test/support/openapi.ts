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

/**
 * The spec (0.1.0) predates the directory-scoped routes of 2026, whose lists hold WorkOS's
 * `DirectoryUser` (no `groups`): their list is the spec's `DirectoryUserList` with those items.
 */
const userList = spec.components.schemas.DirectoryUserList as { properties: Record<string, unknown> };
ajv.addSchema(
  {
    ...userList,
    properties: {
      ...userList.properties,
      data: { type: "array", items: { $ref: "workos#/components/schemas/DirectoryUser" } },
    },
  },
  "DirectoryUserListWithoutGroups",
  undefined,
  false, // as the spec's own schemas: it lists a `required` key twice, which strict meta-validation refuses
);

export type SchemaName =
  | "Directory"
  | "DirectoryList"
  | "DirectoryUser"
  | "DirectoryUserWithGroups"
  | "DirectoryUserList"
  | "DirectoryUserListWithoutGroups"
  | "DirectoryGroup"
  | "DirectoryGroupList"
  | "EventSchema"
  | "EventList";

/** Throws with ajv's findings unless `value` conforms to the named schema of the spec. */
export function assertConforms(name: SchemaName, value: unknown, context: string = name): void {
  const validate =
    name === "DirectoryUserListWithoutGroups"
      ? ajv.getSchema(name)
      : ajv.getSchema(`workos#/components/schemas/${name}`);
  if (!validate) throw new Error(`schema ${name} not in the spec`);
  if (!validate(value)) {
    throw new Error(`${context} does not conform to ${name}: ${ajv.errorsText(validate.errors, { separator: "; " })}`);
  }
}

/** The spec schema a response of the cache's read API must conform to. */
export function schemaForPath(pathname: string): SchemaName {
  const [, resource, id, scoped, scopedId] = pathname.split("/");
  if (resource === "events") return "EventList";
  if (resource === "directories" && scoped === "users")
    return scopedId ? "DirectoryUser" : "DirectoryUserListWithoutGroups";
  if (resource === "directories" && scoped === "groups") return scopedId ? "DirectoryGroup" : "DirectoryGroupList";
  const byResource: Record<string, [SchemaName, SchemaName]> = {
    directories: ["DirectoryList", "Directory"],
    directory_users: ["DirectoryUserList", "DirectoryUserWithGroups"],
    directory_groups: ["DirectoryGroupList", "DirectoryGroup"],
  };
  const pair = byResource[resource ?? ""];
  if (!pair) throw new Error(`no schema for ${pathname}`);
  return id ? pair[1] : pair[0];
}
