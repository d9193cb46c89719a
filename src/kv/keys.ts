/**
 * The KV layout of the read model. The version prefix lets a new layout be written beside
 * the old one and switched to at once.
 */
const V = "v1";

/** KV keys are capped at 512 bytes; long free-form parts (emails, IdP ids) are hashed. */
function part(s: string): string {
  return s.length <= 200 ? s : `#${fnv64(s)}`;
}

export const kvKeys = {
  directory: (id: string) => `${V}:directory:${id}`,
  user: (id: string) => `${V}:user:${id}`,
  group: (id: string) => `${V}:group:${id}`,
  /** List indexes (manifests of chunked, sorted ids). */
  directoryUsers: (directoryId: string) => `${V}:index:directory-users:${directoryId}`,
  directoryGroups: (directoryId: string) => `${V}:index:directory-groups:${directoryId}`,
  groupMembers: (groupId: string) => `${V}:index:group-members:${groupId}`,
  directories: () => `${V}:index:directories`,
  organizationDirectories: (organizationId: string) => `${V}:index:organization-directories:${part(organizationId)}`,
  /** Small lookups: users of a directory by primary email (lower-cased) / by IdP id. */
  usersByEmail: (directoryId: string, email: string) => `${V}:lookup:email:${directoryId}:${part(email)}`,
  usersByIdp: (directoryId: string, idpId: string) => `${V}:lookup:idp:${directoryId}:${part(idpId)}`,
  /** Whether the cache holds a directory fully (`{"held":true}`), or the directory list (`registry`). */
  syncMarker: (directoryId: string) => `${V}:sync:${directoryId}`,
  /** Immutable, content-addressed chunk of an index. */
  chunk: (indexKey: string, hash: string) => `${indexKey}:chunk:${hash}`,
};

/** FNV-1a, 64 bits, hex: a cheap stable hash (not for secrets). */
export function fnv64(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}
