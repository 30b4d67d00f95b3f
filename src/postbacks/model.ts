import { t } from "elysia";
import { NextBefore, Nullable } from "../http/openapi.ts";
import { PostbackJson, postbackExample } from "../leads/model.ts";

export const PostbackList = t.Object({ items: t.Array(PostbackJson), next_before: NextBefore });
export const postbackListExample = { items: [postbackExample], next_before: null };

export const AttemptJson = t.Object({
  attempt: t.Integer(), started_at: t.String({ format: "date-time" }), duration_ms: t.Integer(), url: t.String(), http_status: Nullable(t.Integer()),
  outcome: t.String({ description: "delivered | retry | rejected" }), error: Nullable(t.String()), response_head: Nullable(t.String({ description: "the first 1 KiB of the answer" })),
});
export const PostbackDetail = t.Object({ postback: PostbackJson, attempts: t.Array(AttemptJson) });
export const postbackDetailExample = {
  postback: postbackExample,
  attempts: [{ attempt: 1, started_at: "2024-05-01T10:01:00.010Z", duration_ms: 110, url: postbackExample.url, http_status: 200, outcome: "delivered", error: null, response_head: "Success" }],
};

export const RetriedOne = t.Object({ postback: PostbackJson });
export const retriedOneExample = { postback: { ...postbackExample, state: "pending", attempts: 0, last_http_status: 200, next_attempt_at: "2024-05-02T09:00:00.000Z", finished_at: null } };

export const RetriedMany = t.Object({
  dry_run: t.Boolean(), matched: t.Integer({ description: "rows the filter matches" }), retried: t.Integer({ description: "rows queued again (0 with dry_run)" }),
});
export const retriedManyExample = { dry_run: true, matched: 12, retried: 0 };
