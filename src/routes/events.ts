import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFeedKey } from "../http/auth";
import { requireFeed } from "../http/feed-guard";
import { validQuery } from "../http/query";
import { accessOf } from "../read/access";
import { InvalidCursor } from "../read/errors";
import { organizationsFor } from "../read/org-limit";
import { EventsQuery } from "../schemas/list";

/**
 * `GET /events`: the cache's change feed with the contract of WorkOS's Events API. Every change
 * the cache applied, in one global order; a reader following `after` sees each once.
 */
export const events = new Hono<AppEnv>();
events.use(requireFeedKey, requireFeed);

events.get("/", validQuery(EventsQuery, ["events"]), async (c) => {
  const { events: names, after, before, limit, organization_id, range_start, range_end } = c.req.valid("query");
  const access = accessOf(c);
  const organizations = organizationsFor(access, organization_id);
  // An organization the key may not see has no events for it (and its cursors are no cursors).
  if (organizations?.length === 0) {
    if (after !== undefined) throw new InvalidCursor("after", after);
    if (before !== undefined) throw new InvalidCursor("before", before);
    return c.json({ object: "list", data: [], list_metadata: { after: null } });
  }
  const page = await c.env.FEED.getByName("feed").list({
    events: names,
    after,
    before,
    limit,
    organizations,
    visible: access ? [...access.ids] : undefined,
    range_start,
    range_end,
  });
  if ("invalidCursor" in page) {
    const which = page.invalidCursor;
    throw new InvalidCursor(which, (which === "after" ? after : before) ?? "");
  }
  // Events are kept as JSON text: the page is assembled, never re-serialised.
  const body = `{"object":"list","data":[${page.data.join(",")}],"list_metadata":${JSON.stringify({ after: page.after })}}`;
  return c.body(body, 200, { "Content-Type": "application/json" });
});
