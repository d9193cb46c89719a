import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { cachedAnswers } from "../http/answers";
import { requireApiKey } from "../http/auth";
import { send, validQuery } from "../http/query";
import { scopedTo } from "../read/directory-scope";
import { getUser, listUsers } from "../read/users";
import { DirectoryUsersQuery } from "../schemas/list";

/**
 * `/directories/{directoryId}/users` (WorkOS 2026, `@workos-inc/node` 12): users of one
 * directory as WorkOS's `DirectoryUser`, without `groups`.
 */
export const directoryUsers = new Hono<AppEnv>();
directoryUsers.use(requireApiKey, cachedAnswers);

directoryUsers.get("/", validQuery(DirectoryUsersQuery), async (c) => {
  const directoryId = c.req.param("directoryId") as string;
  const q = c.req.valid("query");
  return send(c, await listUsers(c, { ...q, directory: directoryId }, scopedTo(directoryId)));
});

directoryUsers.get("/:userId", async (c) =>
  send(c, await getUser(c, c.req.param("userId"), scopedTo(c.req.param("directoryId") as string))),
);
