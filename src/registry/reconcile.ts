import { sortKeyOf } from "../directory/model";
import type { Env } from "../env";
import type { Directory } from "../schemas/directory";
import type { ReconcileReport } from "../schemas/ops";
import type { WorkOSClient } from "../upstream/client";
import type { RegistryEntry, RegistryStore } from "./store";

/**
 * Lists every directory at WorkOS and re-crawls each (a new generation: repairs drift, sweeps
 * what vanished). Directories gone from a complete listing are removed; a listing that fails
 * part-way removes nothing. `put` records a directory in the registry (and schedules its
 * indexes); `done` records that a complete listing was taken.
 */
export async function reconcileAll(
  env: Env,
  store: RegistryStore,
  client: WorkOSClient,
  put: (id: string, entry: RegistryEntry | null) => Promise<void>,
  done: () => Promise<void>,
): Promise<ReconcileReport> {
  const seen: Directory[] = [];
  let after: string | undefined;
  do {
    const page = await client.listDirectories({ limit: 100, order: "asc", after });
    seen.push(...page.data);
    after = page.list_metadata.after ?? undefined;
  } while (after);
  const ids = new Set(seen.map((d) => d.id));
  const gone = store.ids().filter((id) => !ids.has(id));
  for (const d of seen) {
    await put(d.id, {
      id: d.id,
      organizationId: d.organization_id,
      name: d.name,
      domain: d.domain ?? null,
      sortKey: sortKeyOf(d),
    });
    await env.DIRECTORY.getByName(d.id).requestSync(d.id, "reconcile", "reconcile");
  }
  for (const id of gone) {
    await env.DIRECTORY.getByName(id).purge(id);
    await put(id, null);
  }
  await done();
  return { directories: seen.length, removed: gone.length };
}
