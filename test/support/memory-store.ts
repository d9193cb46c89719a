import type {
  Change,
  DirectoryRow,
  DirectoryStore,
  DirtyKey,
  EdgeRow,
  GroupRow,
  UserRow,
} from "../../src/directory/model";

/** In-memory DirectoryStore: the pure event application runs on it without any runtime. */
export class MemoryStore implements DirectoryStore {
  dir: DirectoryRow | null = null;
  users = new Map<string, UserRow>();
  groups = new Map<string, GroupRow>();
  edges = new Map<string, EdgeRow>();
  dirty = new Set<DirtyKey>();

  directory() {
    return this.dir;
  }
  putDirectory(row: DirectoryRow) {
    this.dir = row;
  }
  user(id: string) {
    return this.users.get(id) ?? null;
  }
  putUser(row: UserRow) {
    this.users.set(row.id, row);
  }
  group(id: string) {
    return this.groups.get(id) ?? null;
  }
  putGroup(row: GroupRow) {
    this.groups.set(row.id, row);
  }
  edge(userId: string, groupId: string) {
    return this.edges.get(`${userId}\n${groupId}`) ?? null;
  }
  putEdge(row: EdgeRow) {
    this.edges.set(`${row.userId}\n${row.groupId}`, row);
  }
  edgesOfUser(userId: string) {
    return [...this.edges.values()].filter((e) => e.userId === userId);
  }
  edgesOfGroup(groupId: string) {
    return [...this.edges.values()].filter((e) => e.groupId === groupId);
  }
  allIds() {
    return {
      users: [...this.users.values()].map((u) => ({
        id: u.id,
        email: u.data?.email ?? null,
        idp: u.data?.idp_id ?? "",
      })),
      groups: [...this.groups.keys()],
    };
  }
  purge() {
    this.users.clear();
    this.groups.clear();
    this.edges.clear();
  }
  /** Changes apply reported, in order (what the change feed would record). */
  changes: Change[] = [];
  changed(change: Change) {
    this.changes.push(change);
  }
  markDirty(key: DirtyKey) {
    this.dirty.add(key);
  }

  /** What a reader can see: live records and memberships between live records. */
  visible() {
    const liveUsers = [...this.users.values()].filter((u) => !u.deleted).sort(byId);
    const liveGroups = [...this.groups.values()].filter((g) => !g.deleted).sort(byId);
    const live = (m: Map<string, UserRow | GroupRow>, id: string) => m.get(id)?.deleted === false;
    return {
      directory: this.dir?.deleted ? null : (this.dir?.data ?? null),
      users: liveUsers.map((u) => u.data),
      groups: liveGroups.map((g) => g.data),
      memberships: [...this.edges.values()]
        .filter((e) => e.present && live(this.users, e.userId) && live(this.groups, e.groupId))
        .map((e) => `${e.userId} ${e.groupId}`)
        .sort(),
    };
  }
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
