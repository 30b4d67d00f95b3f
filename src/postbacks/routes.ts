import { Elysia, t } from "elysia";
import { campaignCodes } from "../campaigns/registry.ts";
import type { Clock } from "../lib/clock.ts";
import { IdParams, pageQuery, withMessage } from "../http/schema.ts";
import { AppError, invalid, notFound } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import { clicksOf, postbackJson } from "./model.ts";
import { POSTBACK_STATES } from "../domain/status.ts";
import { FilterFields, PostbackQueryFields, postbackFilterOf } from "./filter.ts";
import { responses } from "../http/openapi.ts";
import {
  PostbackDetail, PostbackList, RetriedMany, RetriedOne, postbackDetailExample, postbackListExample, retriedManyExample, retriedOneExample,
} from "./model.ts";
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
    .post("/api/postbacks/:id/retry", async ({ params }) => {
      const now = ctx.clock.now();
      const row = await ctx.storage.write(async (tx) => tx.outbox.requeue(params.id, now));
      if (!row) {
        const found = await ctx.storage.read.outbox.get(params.id);
        if (!found) throw notFound("postback", params.id);
        if (found.reason === "no_click") throw new AppError(409, "no_click", `postback ${params.id} has no click id: a tracker cannot count it, so it is not sent`);
        throw new AppError(409, "already_pending", `postback ${params.id} is already queued`);
      }
      ctx.dispatcher.wake();
      return { postback: postbackJson(row, await campaignCodes(ctx.storage), await clicksOf(ctx.storage.read, [row])) };
    }, {
      params: IdParams,
      detail: {
        summary: "Send one finished postback again",
        description: "Puts a delivered, failed, rejected or skipped row back in the queue, due now, with a fresh retry ladder; its attempts so far become `earlier_attempts`, so the attempt log numbers on (the re-send's first attempt is #earlier_attempts + 1).",
        responses: responses({ schema: RetriedOne, example: retriedOneExample, description: "The row, queued again" }, 401, 403, 404, 409, 422, 503),
      },
    })
    .post("/api/postbacks/retry", async ({ body }) => {
      const filter = await postbackFilterOf(ctx.storage.read, { ...body, state: body.state ?? "failed" }, "body");
      if (!filter) throw invalid("body.campaign", `unknown campaign code "${body.campaign}"`);
      const matched = await ctx.storage.read.outbox.countResendable(filter);
      if (body.dry_run) return { dry_run: true, matched, retried: 0 };
      const now = ctx.clock.now();
      const retried = await ctx.storage.write(async (tx) => tx.outbox.requeueMatching(filter, now));
      if (retried) ctx.dispatcher.wake();
      return { dry_run: false, matched, retried };
    }, {
      body: t.Object({
        state: t.Optional(withMessage(t.Union(FINISHED.map((s) => t.Literal(s)), { default: "failed", description: "which finished rows to send again" }), `must be one of ${FINISHED.join(", ")}`)),
        ...FilterFields,
        dry_run: t.Optional(t.Boolean({ description: "only count the rows that would be sent again" })),
      }),
      detail: {
        summary: "Send finished postbacks again by filter (or count them with dry_run)",
        responses: responses({ schema: RetriedMany, example: retriedManyExample, description: "How many rows the filter matched and how many were queued again" }, 400, 401, 403, 422, 503),
      },
    });
}
