import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireApiKey } from "../http/auth";
import { send, validQuery } from "../http/query";
import { FLAT } from "../read/directory-scope";
import { getUser, listUsers } from "../read/users";
import { UsersQuery } from "../schemas/list";
import { scopeRequired } from "./scope";

/** `/directory_users`: users with their `groups`, listed by directory or group. */
export const users = new Hono<AppEnv>();
users.use(requireApiKey, cachedAnswers);

users.get("/", validQuery(UsersQuery), async (c) => {
  const q = c.req.valid("query");
  if (!q.directory && !q.group) throw scopeRequired("directory", "group");
  return send(c, await listUsers(c, q, FLAT));
});

users.get("/:id", async (c) => send(c, await getUser(c, c.req.param("id"), FLAT)));
