// Clients that post lead events with their own Idempotency-Key and post again what got no answer,
// across kills and restarts of a service process (test/faults, test/process): an event is
// committed once it got a 200, and the answer says whether it was replayed.
import type { ApiClient } from "./service/api-client.ts";

export type Status = "wait" | "approve";

/** One event a client posts (with its own Idempotency-Key) until it gets a 200. */
export interface Ev {
  lead: number;
  status: Status;
  key: string;
  body: { campaign: string; subscriber: number; status: Status; click: string };
  /** From the 200 answer: the event is committed. */
  answer?: { leadId: number; eventId: number; postbackIds: number[]; urls: string[]; replayed: boolean };
  /** Which service run gave that answer (1-based). */
  answeredIn?: number;
}

/** Two events per lead, wait then approve, with keys unique to the test. */
export function leadEvents(prefix: string, campaign: string, lead: number, subscriberBase: number): [Ev, Ev] {
  const ev = (status: Status): Ev => ({
    lead, status, key: `${prefix}-${lead}-${status}`,
    body: { campaign, subscriber: subscriberBase + lead, status, click: `${prefix}${lead}` },
  });
  return [ev("wait"), ev("approve")];
}

export class PostError extends Error {}

/**
 * Posts one event. Resolves true on a 200 (recording the answer), false when the request got no
 * answer and `gone()` says the service was being killed or stopped; anything else throws.
 */
export async function postEvent(svc: ApiClient, ev: Ev, run: number, gone: () => boolean): Promise<boolean> {
  let res;
  try {
    res = await svc.api("POST", "/api/events", ev.body, { "idempotency-key": ev.key });
  } catch (err) {
    if (gone()) return false; // no answer: maybe committed, maybe not; posted again later
    throw err;
  }
  if (res.status !== 200) throw new PostError(`POST ${ev.key} in run ${run}: ${res.status} ${JSON.stringify(res.body)}`);
  const b = res.body;
  if (b.applied !== true || b.events?.length !== 1 || b.events[0].status !== ev.status) {
    throw new PostError(`POST ${ev.key}: unexpected answer ${JSON.stringify(b)}`);
  }
  ev.answer = {
    leadId: b.lead.id, eventId: b.events[0].id,
    postbackIds: b.postbacks.map((p: { id: number }) => p.id), urls: b.postbacks.map((p: { url: string }) => p.url),
    replayed: res.headers.get("idempotent-replayed") === "true",
  };
  ev.answeredIn ??= run;
  return true;
}
