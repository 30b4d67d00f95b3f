import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { NextBefore, Nullable } from "../http/openapi.ts";
import type { Reads } from "../storage/port.ts";
import type { PostbackRow } from "../storage/rows.ts";
import { iso } from "../lib/json.ts";

/** The campaign code of a campaign id (campaigns removed from the config keep their code). */
export type CodeOf = (campaignId: number) => string;

/** The click of a lead id (null: no such lead — an organic requester's approval, an alert). */
export type ClickOf = (leadId: number) => string | null;

/** The clicks of the leads of some postbacks, for their click column: one read for a page. */
export async function clicksOf(read: Pick<Reads, "leads">, rows: readonly Pick<PostbackRow, "leadId">[]): Promise<ClickOf> {
  const ids = [...new Set(rows.map((r) => r.leadId).filter((id) => id > 0))];
  const clicks = new Map((await read.leads.getMany(ids)).map((l) => [l.id, l.click]));
  return (id) => clicks.get(id) ?? null;
}

export const postbackJson = (p: PostbackRow, codeOf: CodeOf, clickOf: ClickOf) => ({
  id: p.id,
  lead: p.leadId,
  click: clickOf(p.leadId),
  event: p.eventId,
  campaign: codeOf(p.campaignId),
  status: p.status,
  template: p.template,
  method: p.method,
  url: p.url,
  body: p.body,
  host: p.host,
  state: p.state,
  reason: p.reason,
  attempts: p.attempts,
  earlier_attempts: p.earlierAttempts,
  last_http_status: p.lastHttpStatus,
  next_attempt_at: p.state === "pending" ? iso(p.nextAttemptAt) : null,
  created_at: iso(p.createdAt),
  finished_at: iso(p.finishedAt),
});

const Time = t.String({ format: "date-time" });

export const PostbackJson = t.Object({
  id: Int(), lead: Int(), click: Nullable(t.String({ description: "the lead's click id (null when the row has no lead: an alert, an organic requester's approval)" })),
  event: Int(), campaign: t.String(), status: t.String(), template: t.String({ description: "the config path of the template" }),
  method: t.String(), url: t.String(), body: Nullable(t.String()), host: t.String(),
  state: t.String({ description: "pending | delivered | failed | rejected | skipped" }), reason: Nullable(t.String()),
  attempts: Int(),
  earlier_attempts: Int({ description: "attempts before its latest re-send, which starts a fresh retry ladder (attempts counts that one's); the attempt log numbers on from them" }),
  last_http_status: Nullable(Int()), next_attempt_at: Nullable(Time), created_at: Time, finished_at: Nullable(Time),
});

export const postbackExample = {
  id: 101, lead: 42, click: "abc123", event: 77, campaign: "spring", status: "approve", template: "postbacks.approve", method: "GET",
  url: "https://trk.example.com/e89bcbe/postback?subid=abc123&status=approve", body: null, host: "trk.example.com", state: "delivered", reason: null,
  attempts: 1, earlier_attempts: 0, last_http_status: 200, next_attempt_at: null, created_at: "2024-05-01T10:01:00.000Z", finished_at: "2024-05-01T10:01:00.120Z",
};


export const PostbackList = t.Object({ items: t.Array(PostbackJson), next_before: NextBefore });
export const postbackListExample = { items: [postbackExample], next_before: null };

export const AttemptJson = t.Object({
  attempt: Int(), started_at: t.String({ format: "date-time" }), duration_ms: Int(), url: t.String(), http_status: Nullable(Int()),
  outcome: t.String({ description: "delivered | retry | rejected" }), error: Nullable(t.String()), response_head: Nullable(t.String({ description: "the first 1 KiB of the answer, token-shaped values masked; for an HTML page only its status and a short reason" })),
});
export const PostbackDetail = t.Object({ postback: PostbackJson, attempts: t.Array(AttemptJson) });
export const postbackDetailExample = {
  postback: postbackExample,
  attempts: [{ attempt: 1, started_at: "2024-05-01T10:01:00.010Z", duration_ms: 110, url: postbackExample.url, http_status: 200, outcome: "delivered", error: null, response_head: "Success" }],
};

export const AndLater = t.Optional(t.Boolean({
  description: "also send again the lead's later postbacks to the same host (delivered, failed or rejected), after each row, in event order",
}));
export const RetryOneBody = t.Object({ and_later: AndLater });

export const RETRY_ONE_DESCRIPTION = "Puts a delivered, failed, rejected or skipped row back in the queue, due now, with a fresh retry ladder. "
  + "A tracker keeps one conversion per click and moves it with each postback, so a row whose lead has a later postback delivered to the "
  + "same host (the same destination) is refused with 409 `superseded`, naming that row: sent alone it would undo the later status. "
  + "`{\"and_later\": true}` sends the row and then the lead's later rows to that host again, in event order, so the tracker ends where it was. "
  + "Ad-platform events and Bot API calls are never superseded. The body is optional: a POST without one sends the row alone.";

export const RETRY_ONE_CONFLICT = {
  code: "superseded",
  message: "postback 12 (cancel, delivered 2024-05-01T11:00:00.000Z) reports a later status of lead 42 to trk.example.com: sent alone, postback 9 (approve) would undo it at the tracker. Send {\"and_later\": true} to send 9 and then 12 again, in event order",
  description: "already_pending: the row is still queued; no_click: skipped for want of a click id; superseded: a later postback of its lead was delivered to the same host "
    + "(details: superseded_by, and_later — the rows and_later sends after it); later_in_flight: a later postback of its lead to that host is being sent right now",
};

export const RetriedOne = t.Object({
  postback: PostbackJson,
  later: t.Array(PostbackJson, { description: "with and_later: the lead's later rows to the same host, queued again after it in event order" }),
});
export const retriedOneExample = { postback: { ...postbackExample, state: "pending", attempts: 0, earlier_attempts: 1, last_http_status: 200, next_attempt_at: "2024-05-02T09:00:00.000Z", finished_at: null }, later: [] };

export const RETRY_MANY_DESCRIPTION = "Re-sends the finished rows of a filter (state failed by default). A row whose lead has a later postback delivered "
  + "to the same host is superseded: sent after it, the row would undo that status at the tracker, so it is left out (`superseded` counts them). "
  + "With `and_later`, every matched row is sent with its lead's later rows to that host after it (delivered, failed or rejected; `later` counts "
  + "those the filter did not match), in event order, so each tracker ends at the lead's last status. A row whose later postback is being "
  + "sent right now is left out either way (`held_back`). `dry_run` answers the same counts and queues nothing.";

export const RetriedMany = t.Object({
  dry_run: t.Boolean(),
  and_later: t.Boolean({ description: "whether superseded rows were sent with their later rows (true) or left out (false)" }),
  matched: Int({ description: "finished rows the filter matches" }),
  superseded: Int({ description: "of those, rows whose lead has a later postback to the same host delivered or being sent: left out unless and_later" }),
  held_back: Int({ description: "of those, rows whose later postback is being sent right now: left out even with and_later" }),
  later: Int({ description: "with and_later: the lead's later rows sent again after the matched ones (not matched themselves)" }),
  queued: Int({ description: "rows this request queues again (with dry_run: would queue)" }),
  retried: Int({ description: "rows queued again (0 with dry_run)" }),
});
export const retriedManyExample = { dry_run: true, and_later: false, matched: 12, superseded: 3, held_back: 0, later: 0, queued: 9, retried: 0 };

const MaybeTime = Nullable(Time);
export const HostList = t.Object({
  items: t.Array(t.Object({
    host: t.String({ description: "host[:port] of the postbacks, or telegram:BOT for a bot's sends" }),
    in_flight: Int({ description: "requests to it in flight now" }),
    circuit: t.String({ description: "closed: sending; open: paused until open_until after delivery.circuit_failures retries in a row; half_open: one probe may go" }),
    open_until: MaybeTime,
    circuit_failures: Int({ description: "retries in a row (what opens the circuit)" }),
    failing_since: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "the first failed attempt (retried or rejected) since the last delivered one; null while the last attempt was delivered" }),
    failed_attempts: Int({ description: "attempts failed since the last delivered one" }),
    last_delivered_at: MaybeTime,
    last_failure: Nullable(t.Object({ at: Time, reason: t.String() })),
    paused_until: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "a bot's flood wait: nothing is sent to it until then" }),
  })),
  now: t.String({ format: "date-time", description: "the service's time the states are for" }),
});
export const hostListExample = {
  items: [{
    host: "trk.example.com", in_flight: 0, circuit: "open", open_until: "2024-05-01T23:50:13.000Z", circuit_failures: 5,
    failing_since: "2024-05-01T23:41:02.000Z", failed_attempts: 5, last_delivered_at: "2024-05-01T23:40:00.000Z",
    last_failure: { at: "2024-05-01T23:49:13.000Z", reason: "http_503" }, paused_until: null,
  }],
  now: "2024-05-01T23:49:20.000Z",
};
