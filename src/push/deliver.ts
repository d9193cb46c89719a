import type { DeliveryMessage } from "../schemas/subscriptions";
import { deliveryHeaders } from "./sign";

export type Attempt = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** The webhook body WorkOS sends (its event without `object`), assembled from the event's parts. */
export const webhookBody = (m: DeliveryMessage, data: string) =>
  `{"id":${JSON.stringify(m.id)},"event":${JSON.stringify(m.event)},"data":${data},"created_at":${JSON.stringify(m.created_at)}}`;

/**
 * One POST of an event to a subscriber, signed with its secret. Bounded: it gives up after
 * `timeoutMs`; a redirect is a failure (never followed: the target was checked, where it points
 * was not); only a 2xx counts as delivered. What the subscriber answers is not read beyond its
 * status.
 */
export async function deliver(
  url: string,
  secret: string,
  m: DeliveryMessage,
  data: string,
  timeoutMs: number,
): Promise<Attempt> {
  const body = webhookBody(m, data);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...(await deliveryHeaders(secret, m.id, body)), "User-Agent": "workos-dsync-cache" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const redirect = res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : "";
    return { ok: false, status: res.status, error: `answered ${res.status}${redirect}` };
  } catch (err) {
    const name = err instanceof Error ? err.name : "Error";
    return {
      ok: false,
      status: null,
      error: name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `unreachable (${name})`,
    };
  }
}
