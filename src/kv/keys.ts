/**
 * The KV layout of the read model. The version prefix lets a new layout be written beside
 * the old one and switched to at once.
 */
const V = "v1";

/**
 * KV refuses keys over 512 UTF-8 bytes, and every id, email or IdP id here comes from outside
 * (a customer's IdP, a request path). So every free-form part is bounded by construction: one
 * over PART_BYTES is replaced by its hash. With at most two parts per key and short fixed text,
 * no key can exceed the limit. (Parts up to 200 ASCII characters keep the name they always had.)
 */
const PART_BYTES = 200;
const utf8 = new TextEncoder();

function part(s: string): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings need no encoding.
  const fits = s.length * 3 <= PART_BYTES || utf8.encode(s).length <= PART_BYTES;
  return fits ? s : `#${fnv64(s)}`;
}

export const kvKeys = {
  directory: (id: string) => `${V}:directory:${part(id)}`,
  user: (id: string) => `${V}:user:${part(id)}`,
  group: (id: string) => `${V}:group:${part(id)}`,
  /** List indexes (manifests of chunked, sorted ids). */
  directoryUsers: (directoryId: string) => `${V}:index:directory-users:${part(directoryId)}`,
  directoryGroups: (directoryId: string) => `${V}:index:directory-groups:${part(directoryId)}`,
  groupMembers: (groupId: string) => `${V}:index:group-members:${part(groupId)}`,
  directories: () => `${V}:index:directories`,
  organizationDirectories: (organizationId: string) => `${V}:index:organization-directories:${part(organizationId)}`,
  /** Small lookups: users of a directory by primary email (lower-cased) / by IdP id. */
  usersByEmail: (directoryId: string, email: string) => `${V}:lookup:email:${part(directoryId)}:${part(email)}`,
  usersByIdp: (directoryId: string, idpId: string) => `${V}:lookup:idp:${part(directoryId)}:${part(idpId)}`,
  /** Whether the cache holds a directory fully (`{"held":true}`), or the directory list (`registry`). */
  syncMarker: (directoryId: string) => `${V}:sync:${part(directoryId)}`,
  /** An access key's grant, by the SHA-256 of the key (hex). */
  accessKey: (hash: string) => `${V}:access-key:${hash}`,
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
