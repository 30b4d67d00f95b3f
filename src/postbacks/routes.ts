import { Elysia, t } from "elysia";
import { campaignCodes } from "../campaigns/registry.ts";
import type { Clock } from "../lib/clock.ts";
import { IdParams, pageQuery, withMessage } from "../http/schema.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import { clicksOf, postbackJson } from "./model.ts";
import { POSTBACK_STATES } from "../domain/status.ts";
import { FilterFields, PostbackQueryFields, postbackFilterOf } from "./filter.ts";
import { responses } from "../http/openapi.ts";
import {
  AndLater, PostbackDetail, PostbackList, RETRY_MANY_DESCRIPTION, RETRY_ONE_CONFLICT, RETRY_ONE_DESCRIPTION, RetriedMany, RetriedOne, RetryOneBody,
  postbackDetailExample, postbackListExample, retriedManyExample, retriedOneExample,
} from "./model.ts";
import { resendMatching, resendOne } from "./resend.ts";
import type { Storage } from "../storage/port.ts";

const FINISHED = POSTBACK_STATES.filter((s) => s !== "pending");

export interface PostbackDeps {
  storage: Pick<Storage, "read" | "write">;
  clock: Clock;
  /** Wakes the dispatcher after rows were queued again. */
  dispatcher: { wake(): void };
}

export function postbackRoutes(ctx: PostbackDeps) {
  return new Elysia({ detail: { tags: ["postbacks"] } })
    .get("/api/postbacks", async ({ query }) => {
      const filter = await postbackFilterOf(ctx.storage.read, query, "query");
      if (!filter) return { items: [], next_before: null };
      const limit = query.limit ?? 50;
      const rows = await ctx.storage.read.outbox.list({ ...filter, beforeId: query.before, limit });
      const codeOf = await campaignCodes(ctx.storage);
      const clickOf = await clicksOf(ctx.storage.read, rows);
      return { items: rows.map((p) => postbackJson(p, codeOf, clickOf)), next_before: rows.length === limit ? rows.at(-1)!.id : null };
    }, {
      query: t.Object({ ...PostbackQueryFields, ...pageQuery }),
      detail: { summary: "List postbacks (the outbox), newest first", responses: responses({ schema: PostbackList, example: postbackListExample, description: "A page of postbacks" }, 401, 422) },
    })
    .get("/api/postbacks/:id", async ({ params }) => {
      const row = await ctx.storage.read.outbox.get(params.id);
      if (!row) throw notFound("postback", params.id);
      return {
        postback: postbackJson(row, await campaignCodes(ctx.storage), await clicksOf(ctx.storage.read, [row])),
        attempts: (await ctx.storage.read.outbox.attempts(row.id)).map((a) => ({
          attempt: a.attempt, started_at: iso(a.startedAt), duration_ms: a.durationMs, url: a.url,
          http_status: a.httpStatus, outcome: a.outcome, error: a.error, response_head: a.responseHead,
        })),
      };
    }, {
      params: IdParams,
      detail: { summary: "One postback with its attempt log", responses: responses({ schema: PostbackDetail, example: postbackDetailExample, description: "The postback and every attempt" }, 401, 404, 422) },
    })
    .post("/api/postbacks/:id/retry", async ({ params, body }) => {
      const { row, later } = await resendOne(ctx.storage, params.id, body?.and_later ?? false, ctx.clock.now());
      ctx.dispatcher.wake();
      const codeOf = await campaignCodes(ctx.storage);
      const clickOf = await clicksOf(ctx.storage.read, [row, ...later]);
      return { postback: postbackJson(row, codeOf, clickOf), later: later.map((p) => postbackJson(p, codeOf, clickOf)) };
    }, {
      params: IdParams,
      body: t.Optional(RetryOneBody),
      detail: {
        summary: "Send one finished postback again",
        description: RETRY_ONE_DESCRIPTION,
        responses: responses({ schema: RetriedOne, example: retriedOneExample, description: "The row (and with and_later its lead's later rows), queued again" },
          401, 403, 404, [409, RETRY_ONE_CONFLICT], 422, 503),
      },
    })
    .post("/api/postbacks/retry", async ({ body }) => {
      const filter = await postbackFilterOf(ctx.storage.read, { ...body, state: body.state ?? "failed" }, "body");
      if (!filter) throw invalid("body.campaign", `unknown campaign code "${body.campaign}"`);
      const answer = await resendMatching(ctx.storage, filter, body.and_later ?? false, body.dry_run ?? false, ctx.clock.now());
      if (answer.retried) ctx.dispatcher.wake();
      return answer;
    }, {
      body: t.Object({
        state: t.Optional(withMessage(t.Union(FINISHED.map((s) => t.Literal(s)), { default: "failed", description: "which finished rows to send again" }), `must be one of ${FINISHED.join(", ")}`)),
        ...FilterFields,
        and_later: AndLater,
        dry_run: t.Optional(t.Boolean({ description: "only count the rows that would be sent again" })),
      }),
      detail: {
        summary: "Send finished postbacks again by filter (or count them with dry_run)",
        description: RETRY_MANY_DESCRIPTION,
        responses: responses({ schema: RetriedMany, example: retriedManyExample, description: "What the filter matched, what was left out or added, and what was queued again" }, 400, 401, 403, 422, 503),
      },
    });
}
