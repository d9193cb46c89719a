import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireApiKey } from "../http/auth";
import { send, validQuery } from "../http/query";
import { scopedTo } from "../read/directory-scope";
import { getGroup, listGroups } from "../read/groups";
import { DirectoryGroupsQuery } from "../schemas/list";

/** `/directories/{directoryId}/groups` (WorkOS 2026, `@workos-inc/node` 12): groups of one directory. */
export const directoryGroups = new Hono<AppEnv>();
directoryGroups.use(requireApiKey, cachedAnswers);

directoryGroups.get("/", validQuery(DirectoryGroupsQuery), async (c) => {
  const directoryId = c.req.param("directoryId") as string;
  const q = c.req.valid("query");
  return send(c, await listGroups(c, { ...q, directory: directoryId }, scopedTo(directoryId)));
});

directoryGroups.get("/:groupId", async (c) =>
  send(c, await getGroup(c, c.req.param("groupId"), scopedTo(c.req.param("directoryId") as string))),
);
