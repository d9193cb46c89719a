import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireApiKey } from "../http/auth";
import { send, validQuery } from "../http/query";
import { FLAT } from "../read/directory-scope";
import { getGroup, listGroups } from "../read/groups";
import { GroupsQuery } from "../schemas/list";
import { scopeRequired } from "./scope";

/** `/directory_groups`: groups listed by directory or by user. */
export const groups = new Hono<AppEnv>();
groups.use(requireApiKey, cachedAnswers);

groups.get("/", validQuery(GroupsQuery), async (c) => {
  const q = c.req.valid("query");
  if (!q.directory && !q.user) throw scopeRequired("directory", "user");
  return send(c, await listGroups(c, q, FLAT));
});

groups.get("/:id", async (c) => send(c, await getGroup(c, c.req.param("id"), FLAT)));
