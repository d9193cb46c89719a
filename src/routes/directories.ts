import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireAdminKey, requireApiKey } from "../http/auth";
import { ApiError } from "../http/errors";
import { send, validQuery } from "../http/query";
import { getDirectory, listDirectories } from "../read/directories";
import { readClient, relay } from "../read/workos-reads";
import { DirectoriesQuery } from "../schemas/list";

export const directories = new Hono<AppEnv>();

directories.get("/", requireApiKey, cachedAnswers, validQuery(DirectoriesQuery), async (c) =>
  send(c, await listDirectories(c, c.req.valid("query"))),
);

directories.get("/:id", requireApiKey, cachedAnswers, async (c) => send(c, await getDirectory(c, c.req.param("id"))));

/** Forwarded to WorkOS; on success the directory leaves the cache and WorkOS's status is relayed. */
directories.delete("/:id", requireAdminKey, async (c) => {
  const id = c.req.param("id");
  const client = readClient(c);
  if (!client)
    throw new ApiError(503, "pull_disabled", "Deleting needs WORKOS_API_KEY: the cache forwards it to WorkOS.");
  let status: number;
  try {
    status = await client.deleteDirectory(id);
  } catch (err) {
    throw relay(c, err);
  }
  await c.env.DIRECTORY.getByName(id).purge(id);
  await c.env.REGISTRY.getByName("registry").put(id, null);
  if (status === 204) return c.body(null, 204);
  return c.json({}, status as 200 | 202);
});
