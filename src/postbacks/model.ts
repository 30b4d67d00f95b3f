import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { NextBefore, Nullable } from "../http/openapi.ts";
import type { PostbackRow } from "../storage/rows.ts";
import { iso } from "../lib/json.ts";

/** The campaign code of a campaign id (campaigns removed from the config keep their code). */
export type CodeOf = (campaignId: number) => string;

export const postbackJson = (p: PostbackRow, codeOf: CodeOf) => ({
  id: p.id,
  lead: p.leadId,
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
  last_http_status: p.lastHttpStatus,
  next_attempt_at: p.state === "pending" ? iso(p.nextAttemptAt) : null,
  created_at: iso(p.createdAt),
  finished_at: iso(p.finishedAt),
});

const Time = t.String({ format: "date-time" });

export const PostbackJson = t.Object({
  id: Int(), lead: Int(), event: Int(), campaign: t.String(), status: t.String(), template: t.String({ description: "the config path of the template" }),
  method: t.String(), url: t.String(), body: Nullable(t.String()), host: t.String(),
  state: t.String({ description: "pending | delivered | failed | rejected | skipped" }), reason: Nullable(t.String()), attempts: Int(),
  last_http_status: Nullable(Int()), next_attempt_at: Nullable(Time), created_at: Time, finished_at: Nullable(Time),
});

export const postbackExample = {
  id: 101, lead: 42, event: 77, campaign: "spring", status: "approve", template: "postbacks.approve", method: "GET",
  url: "https://trk.example.com/e89bcbe/postback?subid=abc123&status=approve", body: null, host: "trk.example.com", state: "delivered", reason: null,
  attempts: 1, last_http_status: 200, next_attempt_at: null, created_at: "2024-05-01T10:01:00.000Z", finished_at: "2024-05-01T10:01:00.120Z",
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

export const RetriedOne = t.Object({ postback: PostbackJson });
export const retriedOneExample = { postback: { ...postbackExample, state: "pending", attempts: 0, last_http_status: 200, next_attempt_at: "2024-05-02T09:00:00.000Z", finished_at: null } };

export const RetriedMany = t.Object({
  dry_run: t.Boolean(), matched: Int({ description: "rows the filter matches" }), retried: Int({ description: "rows queued again (0 with dry_run)" }),
});
export const retriedManyExample = { dry_run: true, matched: 12, retried: 0 };
