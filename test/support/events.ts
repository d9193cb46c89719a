import type { DsyncEvent } from "../../src/schemas/events";
import { decodeEvent } from "../../src/webhooks/decode";

/**
 * Builders of WorkOS `dsync.*` webhook bodies, shaped like the documented samples
 * (webhook bodies carry no `object` on the envelope).
 */
let seq = 0;
const next = () => (++seq).toString().padStart(6, "0");

export const iso = (ms: number) => new Date(ms).toISOString();
export const T0 = Date.parse("2026-01-15T12:00:00.000Z");

export interface WebhookEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
  created_at: string;
}

export function directory(id: string, over: Record<string, unknown> = {}) {
  return {
    object: "directory",
    id,
    organization_id: "org_01TEST",
    type: "okta scim v2.0",
    state: "active",
    name: `Directory ${id}`,
    external_key: `ext_${id}`,
    domains: [{ object: "organization_domain", id: `org_domain_${id}`, domain: "example.com" }],
    created_at: iso(T0),
    updated_at: iso(T0),
    ...over,
  };
}

export function user(id: string, directoryId: string, over: Record<string, unknown> = {}) {
  return {
    object: "directory_user",
    id,
    directory_id: directoryId,
    organization_id: "org_01TEST",
    idp_id: `idp_${id}`,
    email: `${id}@example.com`,
    first_name: "Lela",
    last_name: "Block",
    emails: [{ primary: true, type: "work", value: `${id}@example.com` }],
    state: "active",
    raw_attributes: {},
    custom_attributes: { department: "Engineering" },
    created_at: iso(T0),
    updated_at: iso(T0),
    ...over,
  };
}

export function group(id: string, directoryId: string, over: Record<string, unknown> = {}) {
  return {
    object: "directory_group",
    id,
    idp_id: `idp_${id}`,
    directory_id: directoryId,
    organization_id: "org_01TEST",
    name: `Group ${id}`,
    raw_attributes: {},
    created_at: iso(T0),
    updated_at: iso(T0),
    ...over,
  };
}

export function event(
  name: string,
  data: Record<string, unknown>,
  createdAt = T0,
  id = `event_${next()}`,
): WebhookEvent {
  return { id, event: name, data, created_at: iso(createdAt) };
}

export function membership(
  name: "dsync.group.user_added" | "dsync.group.user_removed",
  u: ReturnType<typeof user>,
  g: ReturnType<typeof group>,
  createdAt = T0,
): WebhookEvent {
  return event(name, { directory_id: u.directory_id, user: u, group: g }, createdAt);
}

/** A webhook body decoded exactly as the receiver does; throws if it would be refused. */
export function decoded(e: WebhookEvent): DsyncEvent {
  const d = decodeEvent(e);
  if (d.kind !== "apply") throw new Error(`not applicable: ${JSON.stringify(d).slice(0, 300)}`);
  return d.event;
}
