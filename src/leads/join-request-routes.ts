// POST /api/leads/{id}/join-request: a person's Approve or Decline of a held join request
// (join_requests.manual), sent through the bot's paced Telegram channel like every Bot API call.
import { Elysia, t } from "elysia";
import type { Runtime } from "../config/runtime.ts";
import { IdParams, Int, withMessage } from "../http/schema.ts";
import { responses } from "../http/openapi.ts";
import type { Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import { AppError, invalid, notFound } from "../lib/errors.ts";
import type { Storage } from "../storage/port.ts";
import { enqueueJoinRequestAnswer } from "../telegram/updates.ts";

export interface JoinRequestDeps {
  storage: Pick<Storage, "read">;
  intake: Intake;
  clock: Clock;
  runtime(): Runtime;
}

const DecisionBody = t.Object({
  decision: withMessage(t.Union([t.Literal("approve"), t.Literal("decline")], { description: "approve | decline" }), "must be approve or decline"),
});
const DecisionAnswer = t.Object({
  lead: Int(), decision: t.String(), method: t.String({ description: "the Bot API call queued: approveChatJoinRequest or declineChatJoinRequest" }),
  postback: t.Object({ id: Int(), state: t.String() }, { description: "its outbox row (GET /api/postbacks/{id} shows its attempts)" }),
});

export function joinRequestRoutes(ctx: JoinRequestDeps) {
  return new Elysia({ detail: { tags: ["leads"] } })
    .post("/api/leads/:id/join-request", async ({ params, body }) => {
      const lead = await ctx.storage.read.leads.get(params.id);
      if (!lead) throw notFound("lead", params.id);
      const campaign = ctx.runtime().campaignsById.get(lead.campaignId);
      if (!campaign?.config.bot || campaign.config.chat === null) throw invalid("params.id", "the lead's campaign has no bot and chat to answer through");
      if (lead.status !== "hold") throw new AppError(409, "no_pending_join_request", `lead ${lead.id} is ${lead.status}: it has no join request waiting`);
      const approve = body.decision === "approve";
      const written = await ctx.intake(async (tx) => {
        const now = ctx.clock.now();
        const row = await enqueueJoinRequestAnswer(tx, {
          bot: campaign.config.bot!, campaignId: campaign.id, code: campaign.config.code, chatId: lead.chatId ?? campaign.config.chat!, userId: lead.subscriber,
          approve, at: now, eventId: 0, now, template: `api.join-request.${body.decision}`,
        });
        await tx.journal.insert({ kind: "join_request_answered", campaignId: campaign.id, subscriber: lead.subscriber, chatId: lead.chatId, detail: { decision: body.decision, by: "api" }, createdAt: now });
        return { row, effects: { events: [], rows: ["pending"] } };
      });
      return { lead: lead.id, decision: body.decision, method: approve ? "approveChatJoinRequest" : "declineChatJoinRequest", postback: { id: written.row.id, state: written.row.state } };
    }, {
      params: IdParams,
      body: DecisionBody,
      detail: {
        summary: "Approve or decline a lead's join request",
        description: "For a lead whose join request waits (status hold; join_requests.manual holds them). The call goes through the bot's paced Telegram channel; Telegram's HIDE_REQUESTER_MISSING (already answered) counts as done. An approved requester's join then arrives as a chat_member update (approve).",
        responses: responses({ schema: DecisionAnswer, example: { lead: 42, decision: "approve", method: "approveChatJoinRequest", postback: { id: 901, state: "pending" } }, description: "The call queued" }, 400, 401, 403, 404, 409, 422, 503),
      },
    });
}
