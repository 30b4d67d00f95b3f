import { campaignCodes, findCampaignId } from "../campaigns/repository.ts";
import type { Runtime } from "../campaigns/registry.ts";
import type { Db } from "../db/client.ts";
import type { Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { keyMatches } from "../lib/keys.ts";
import { NO_EFFECTS } from "../intake/intake.ts";
import { applyLeadEvent, effectsOf } from "../leads/service.ts";
import type { LeadRow } from "../leads/repository.ts";
import { CUSTOM_LIST_PARAMS, recognizeStatus, type CustomLists } from "./recognize.ts";
import { leadByClick, leadById, logInbound } from "./repository.ts";

export type InboundCode = "ok" | "no-changes" | "access" | "no-click" | "bad-click" | "bad-status" | "db";

export interface InboundAnswer {
  httpStatus: number;
  body: { status: "ok"; lead: number; changed: boolean } | { status: "error"; error: InboundCode; lead?: number; message: string };
}

const HTTP: Record<InboundCode, number> = { ok: 200, "no-changes": 200, access: 403, "no-click": 400, "bad-click": 404, "bad-status": 400, db: 503 };

const fail = (error: Exclude<InboundCode, "ok">, message: string, lead?: number): InboundAnswer => ({
  httpStatus: HTTP[error],
  body: { status: "error", error, message, ...(lead === undefined ? {} : { lead }) },
});

/**
 * SPEC §5: an external system changes a lead's status. The change goes through the intake like
 * any lead event (one transaction with the outbound postbacks it fires, answered once on the
 * disk), and every request is logged with its result code.
 */
export interface InboundDeps {
  db: Db;
  intake: Intake;
  clock: Clock;
  log: Logger;
  runtime(): Runtime;
}

export async function handleInbound(ctx: InboundDeps, params: Record<string, string>, ip: string | null): Promise<InboundAnswer> {
  const { key, ...logged } = params;
  const now = ctx.clock.now();
  const runtime = ctx.runtime();
  let lead: LeadRow | undefined;
  const log = async (answer: InboundAnswer, status: string | null) => {
    try {
      await ctx.intake(() => {
        logInbound(ctx.db, { result: answer.body.status === "ok" ? "ok" : answer.body.error, leadId: lead?.id ?? null, status, params: logged, ip, createdAt: now });
        return { effects: NO_EFFECTS };
      });
    } catch (err) {
      ctx.log.error({ err }, "inbound postback log not written");
    }
    return answer;
  };

  if (!keyMatches(key, runtime.config.inbound_keys)) return log(fail("access", "a valid inbound key is required (key=…)"), null);
  const custom: CustomLists = {};
  for (const [param, status] of Object.entries(CUSTOM_LIST_PARAMS)) if (params[param]) custom[status] = params[param];
  if (!params.lead && !params.click) return log(fail("no-click", "give the lead (lead=ID) or the click (click=…)"), null);

  try {
    if (params.lead) lead = /^\d{1,15}$/.test(params.lead) ? leadById(ctx.db, Number(params.lead)) : undefined;
    else {
      const campaignId = params.campaign ? findCampaignId(ctx.db, params.campaign) : undefined;
      lead = params.campaign && campaignId === undefined ? undefined : leadByClick(ctx.db, params.click!, campaignId);
    }
  } catch (err) {
    ctx.log.error({ err }, "inbound postback: lead lookup failed");
    return log(fail("db", "storage is unavailable; try again"), null);
  }
  if (!lead) return log(fail("bad-click", "no such lead"), null);

  const status = recognizeStatus(params.status ?? "", custom);
  if (!status) return log(fail("bad-status", `status ${JSON.stringify(params.status ?? "")} is not recognised`, lead.id), params.status ?? null);

  const code = campaignCodes(ctx.db)(lead.campaignId);
  if (!runtime.campaigns.has(code)) return log(fail("bad-click", `the lead's campaign ${code} is no longer configured`, lead.id), status);

  try {
    const found = lead;
    const { answer } = await ctx.intake(() => {
      const r = applyLeadEvent(ctx.db, runtime, {
        campaign: code, subscriber: found.subscriber, status, source: "inbound",
        ...(params.payout ? { payout: params.payout } : {}), ...(params.currency ? { currency: params.currency } : {}),
      }, now);
      const answer: InboundAnswer = r.applied
        ? { httpStatus: 200, body: { status: "ok", lead: found.id, changed: true } }
        : fail("no-changes", r.reason === "duplicate" ? `the lead is already ${status}` : `${found.status} → ${status} is not a transition tgcpa makes`, found.id);
      logInbound(ctx.db, { result: r.applied ? "ok" : "no-changes", leadId: found.id, status, params: logged, ip, createdAt: now });
      return { answer, effects: effectsOf(status, r) };
    });
    return answer;
  } catch (err) {
    ctx.log.error({ err }, "inbound postback: write failed");
    return log(fail("db", "storage is unavailable; nothing was changed, try again", lead.id), status);
  }
}
