/**
 * Which organizations a request may see. A key limited to organizations sees records of those
 * only; anything else reads as if it did not exist (a 404 like an unknown id, an empty list), so
 * ids of other organizations cannot be probed. Unrestricted keys carry no limit (`null`).
 */
export interface OrgLimit {
  ids: ReadonlySet<string>;
  /** The ids sorted and joined: what answers kept for this limit are keyed by. */
  tag: string;
}
export type Access = OrgLimit | null;

export function orgLimit(ids: readonly string[] | null | undefined): Access {
  if (!ids) return null;
  const sorted = [...new Set(ids)].sort();
  return { ids: new Set(sorted), tag: sorted.join(",") };
}

/** Whether the request may see a record of this organization. */
export const sees = (access: Access, organizationId: unknown): boolean =>
  access === null || (typeof organizationId === "string" && access.ids.has(organizationId));

/** Whether the request may see this stored or relayed record (its top-level `organization_id`). */
export const seesRecord = (access: Access, record: string | { organization_id?: unknown }): boolean =>
  access === null ||
  sees(
    access,
    (typeof record === "string" ? (JSON.parse(record) as { organization_id?: unknown }) : record).organization_id,
  );

/**
 * The organizations a read filtered by `organization_id` covers within the limit: the filter
 * itself (none if the key may not see it), or every organization of the key; undefined for all.
 */
export function organizationsFor(access: Access, filter: string | undefined): string[] | undefined {
  if (access === null) return filter === undefined ? undefined : [filter];
  if (filter !== undefined) return access.ids.has(filter) ? [filter] : [];
  return [...access.ids];
}

/**
 * Whether the key may see every record of a page. Lists are answered per directory, group, user
 * or lookup, so a page's records are all of one organization: a page the key may not wholly see
 * is another organization's list, and is answered as the list of an unknown one is (empty, no
 * cursors), never in part.
 */
export const seesAll = (access: Access, data: readonly (string | { organization_id?: unknown })[]): boolean =>
  access === null || data.every((r) => seesRecord(access, r));

/** A relayed WorkOS list, confined the same way. */
export function confineList<L extends { data: readonly { organization_id?: unknown }[] }>(access: Access, list: L): L {
  return seesAll(access, list.data) ? list : { ...list, data: [], list_metadata: { before: null, after: null } };
}
