import { toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import * as v from "valibot";
import { Directory } from "./schemas/directory";
import { ErrorBody } from "./schemas/errors";
import { EventEnvelope } from "./schemas/events";
import { FeedEventList } from "./schemas/feed";
import { DirectoryGroup } from "./schemas/group";
import { AccessKey, CreateKey } from "./schemas/keys";
import {
  DirectoriesQuery,
  DirectoryGroupsQuery,
  DirectoryUsersQuery,
  EventsQuery,
  GroupsQuery,
  ListEnvelope,
  UsersQuery,
} from "./schemas/list";
import {
  BrakeRequest,
  CatchUpReport,
  DirectoryActivity,
  Health,
  ReconcileReport,
  RecordsQuery,
  Status,
  SyncReport,
  SyncStatus,
  WebhookAck,
} from "./schemas/ops";
import { CreateSubscription, Subscription } from "./schemas/subscriptions";
import { DirectoryUserRecord, DirectoryUserWithGroups } from "./schemas/user";

/**
 * The cache's own API as OpenAPI 3.1, generated from the valibot schemas the code uses (so the
 * document cannot drift from the shapes it describes). A test checks it against the routes.
 */
const SCHEMAS = {
  Directory,
  DirectoryList: ListEnvelope(Directory),
  DirectoryUserWithGroups,
  DirectoryUserList: ListEnvelope(DirectoryUserWithGroups),
  DirectoryUser: DirectoryUserRecord,
  DirectoryUserRecordList: ListEnvelope(DirectoryUserRecord),
  DirectoryGroup,
  DirectoryGroupList: ListEnvelope(DirectoryGroup),
  Error: ErrorBody,
  WebhookEvent: EventEnvelope,
  WebhookAck,
  SyncStatus: SyncReport,
  SyncStarted: SyncStatus,
  BrakeRequest,
  Status,
  DirectoryActivity,
  RecordList: v.object({
    object: v.literal("list"),
    data: v.array(v.union([DirectoryUserWithGroups, DirectoryGroup])),
    list_metadata: v.object({ after: v.nullable(v.string()) }),
  }),
  Health,
  ReconcileReport,
  CatchUpReport,
  EventList: FeedEventList,
  CreateSubscription,
  Subscription,
  SubscriptionList: v.object({ object: v.literal("list"), data: v.array(Subscription) }),
  CreateKey,
  AccessKey,
  AccessKeyList: v.object({ object: v.literal("list"), data: v.array(AccessKey) }),
} as const;

type SchemaName = keyof typeof SCHEMAS;

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: SchemaName, description: string) => ({
  description,
  content: { "application/json": { schema: ref(name) } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), json("Error", ERROR_TEXT[s] ?? "Error")]));
const ERROR_TEXT: Record<number, string> = {
  400: "Invalid JSON",
  401: "Missing or wrong key, or bad signature",
  403: "A read key on an admin route",
  404: "Not found",
  409: "Nothing braked (or not in the generation given)",
  413: "Body over 1 MiB",
  422: "Invalid parameters or event",
  503: "Not configured, not recorded, or WorkOS unreachable",
};

function queryParams(schema: v.GenericSchema) {
  const object = ("entries" in schema
    ? schema
    : (schema as unknown as { pipe: [v.GenericSchema] }).pipe[0]) as unknown as {
    entries: Record<string, v.GenericSchema>;
  };
  return Object.entries(object.entries).map(([name, s]) => ({
    name,
    in: "query",
    required: false,
    schema: toJsonSchema(s, { target: "draft-2020-12", errorMode: "ignore" }),
  }));
}

const pathParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });
const idParam = pathParam("id");
const directoryIdParam = pathParam("directoryId");
const read = (summary: string, ok: SchemaName, params: object[], errs = [401, 404, 422, 503]) => ({
  summary,
  security: [{ apiKey: [] }],
  parameters: params,
  responses: {
    "200": json(ok, "OK (with ETag)"),
    "304": { description: "Not modified (If-None-Match)" },
    ...errors(...errs),
  },
});
const adminOp = (summary: string, ok: SchemaName, status = "200", params: object[] = []) => ({
  summary,
  security: [{ adminKey: [] }],
  parameters: params,
  responses: { [status]: json(ok, "OK"), ...errors(401, 403, 503) },
});

/**
 * Push subscriptions: at `/admin/subscriptions` an admin key manages every one; at
 * `/subscriptions` a key with the `events` scope manages those it made.
 */
function subscriptionPaths(base: string, security: "adminKey" | "apiKey") {
  const op = (summary: string, ok: SchemaName, status = "200", params: object[] = []) => ({
    ...adminOp(summary, ok, status, params),
    security: [{ [security]: [] }],
  });
  return {
    [`${base}`]: {
      get: op("Push subscriptions to the change feed", "SubscriptionList"),
      post: {
        ...op("Subscribe a URL to the change feed (the secret is shown this once)", "Subscription", "201"),
        requestBody: { required: true, content: { "application/json": { schema: ref("CreateSubscription") } } },
        responses: { "201": json("Subscription", "Created, with its secret"), ...errors(401, 403, 422) },
      },
    },
    [`${base}/{id}`]: {
      get: op("A subscription and how its deliveries go", "Subscription", "200", [idParam]),
      delete: {
        ...op("Delete a subscription", "Subscription", "204", [idParam]),
        responses: { "204": { description: "Deleted" }, ...errors(401, 403, 404) },
      },
    },
    [`${base}/{id}/rotate`]: {
      post: op("A new secret (shown this once); the old one stops signing", "Subscription", "200", [idParam]),
    },
    [`${base}/{id}/pause`]: {
      post: op("Pause a subscription's deliveries", "Subscription", "200", [idParam]),
    },
    [`${base}/{id}/resume`]: {
      post: op("Resume a subscription's deliveries", "Subscription", "200", [idParam]),
    },
  };
}

let cached: object | undefined;

export function openApiDocument(): object {
  if (cached) return cached;
  const defs = toJsonSchemaDefs(SCHEMAS, { target: "draft-2020-12", errorMode: "ignore" });
  const schemas = JSON.parse(JSON.stringify(defs).replaceAll("#/$defs/", "#/components/schemas/")) as Record<
    string,
    Record<string, unknown>
  >;
  for (const s of Object.values(schemas)) delete s.$schema;
  cached = {
    openapi: "3.1.0",
    info: {
      title: "WorkOS Directory Sync edge cache",
      version: "1",
      description: "WorkOS-compatible reads of directories, users and groups from the edge, fed by WorkOS webhooks.",
    },
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "One of API_KEYS" },
        adminKey: { type: "http", scheme: "bearer", description: "One of ADMIN_API_KEYS" },
        workosSignature: { type: "apiKey", in: "header", name: "WorkOS-Signature" },
      },
    },
    paths: {
      "/directories": {
        get: read("List directories", "DirectoryList", queryParams(DirectoriesQuery), [401, 422, 503]),
      },
      "/directories/{id}": {
        get: read("Get a directory", "Directory", [idParam]),
        delete: {
          summary: "Delete a directory at WorkOS and purge it from the cache",
          security: [{ adminKey: [] }],
          parameters: [idParam],
          responses: {
            "202": {
              description: "Accepted by WorkOS",
              content: { "application/json": { schema: { type: "object" } } },
            },
            "204": { description: "Deleted by WorkOS" },
            ...errors(401, 403, 404, 503),
          },
        },
      },
      "/directory_users": { get: read("List directory users", "DirectoryUserList", queryParams(UsersQuery)) },
      "/directory_users/{id}": { get: read("Get a directory user", "DirectoryUserWithGroups", [idParam]) },
      "/directory_groups": { get: read("List directory groups", "DirectoryGroupList", queryParams(GroupsQuery)) },
      "/directory_groups/{id}": { get: read("Get a directory group", "DirectoryGroup", [idParam]) },
      "/directories/{directoryId}/users": {
        get: read("List a directory's users (without groups)", "DirectoryUserRecordList", [
          directoryIdParam,
          ...queryParams(DirectoryUsersQuery),
        ]),
      },
      "/directories/{directoryId}/users/{userId}": {
        get: read("Get a user of a directory (without groups)", "DirectoryUser", [
          directoryIdParam,
          pathParam("userId"),
        ]),
      },
      "/directories/{directoryId}/groups": {
        get: read("List a directory's groups", "DirectoryGroupList", [
          directoryIdParam,
          ...queryParams(DirectoryGroupsQuery),
        ]),
      },
      "/directories/{directoryId}/groups/{groupId}": {
        get: read("Get a group of a directory", "DirectoryGroup", [directoryIdParam, pathParam("groupId")]),
      },
      "/events": {
        get: {
          ...read(
            "The change feed: every change the cache applied, oldest first",
            "EventList",
            queryParams(EventsQuery),
          ),
          responses: { "200": json("EventList", "OK"), ...errors(401, 422) },
        },
      },
      "/webhooks/workos": {
        post: {
          summary: "Receive a WorkOS dsync.* webhook (2xx once recorded)",
          security: [{ workosSignature: [] }],
          requestBody: { required: true, content: { "application/json": { schema: ref("WebhookEvent") } } },
          responses: {
            "200": json("WebhookAck", "Recorded, or acknowledged and ignored"),
            ...errors(400, 401, 413, 422, 503),
          },
        },
      },
      "/admin/status": { get: adminOp("Status of every directory", "Status") },
      "/admin/directories/{id}/sync": {
        get: adminOp("Sync progress of a directory", "SyncStatus", "200", [idParam]),
        post: adminOp("Sync a directory now", "SyncStarted", "202", [idParam]),
      },
      "/admin/directories/{id}/activity": {
        get: adminOp("A directory's last 24 hours in 5-minute buckets", "DirectoryActivity", "200", [idParam]),
      },
      "/admin/directories/{id}/records": {
        get: adminOp("What the directory's writer holds, in list order", "RecordList", "200", [
          idParam,
          ...queryParams(RecordsQuery),
        ]),
      },
      "/admin/directories/{id}/brake": {
        post: {
          ...adminOp("Apply or discard a reconcile sweep the deletion brake holds", "SyncStatus", "200", [idParam]),
          requestBody: { required: true, content: { "application/json": { schema: ref("BrakeRequest") } } },
          responses: { "200": json("SyncStatus", "Decided: the crawl is complete"), ...errors(401, 403, 409, 422) },
        },
      },
      ...subscriptionPaths("/admin/subscriptions", "adminKey"),
      ...subscriptionPaths("/subscriptions", "apiKey"),
      "/admin/keys": {
        get: adminOp("Access keys (never the keys themselves)", "AccessKeyList"),
        post: {
          ...adminOp("Create an access key with scopes (the key is shown this once)", "AccessKey", "201"),
          requestBody: { required: true, content: { "application/json": { schema: ref("CreateKey") } } },
          responses: { "201": json("AccessKey", "Created, with the key"), ...errors(401, 403, 422) },
        },
      },
      "/admin/keys/{id}": {
        get: adminOp("An access key", "AccessKey", "200", [idParam]),
        delete: adminOp("Revoke an access key", "AccessKey", "200", [idParam]),
      },
      "/admin/reconcile": { post: adminOp("Reconcile every directory", "ReconcileReport") },
      "/admin/events/catch-up": { post: adminOp("Apply Events API events after the stored cursor", "CatchUpReport") },
      "/health": {
        get: {
          summary: "Liveness (no auth)",
          responses: { "200": json("Health", "Up"), "503": json("Health", "Misconfigured") },
        },
      },
      "/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } } },
      "/admin/console": {
        get: {
          summary: "The operator console's page (no auth: it holds no data; it signs in with an admin key)",
          responses: { "200": { description: "HTML", content: { "text/html": {} } } },
        },
      },
      "/admin/console/{file}": {
        get: {
          summary: "The operator console's scripts and stylesheet",
          parameters: [pathParam("file")],
          responses: { "200": { description: "JavaScript, CSS or SVG" }, ...errors(404) },
        },
      },
    },
  };
  return cached;
}
