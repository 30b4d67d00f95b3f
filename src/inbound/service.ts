import { campaignCodes } from "../campaigns/registry.ts";
import type { Runtime } from "../config/runtime.ts";
import type { Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { keyMatches } from "../lib/keys.ts";
import { NO_EFFECTS } from "../intake/intake.ts";
import { applyLeadEvent, effectsOf } from "../leads/service.ts";
import type { Storage } from "../storage/port.ts";
import type { LeadRow } from "../storage/rows.ts";
import { boundedLogRow } from "./log-row.ts";
import { CUSTOM_LIST_PARAMS, recognizeStatus, type CustomLists } from "./recognize.ts";

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
  storage: Pick<Storage, "read">;
  intake: Intake;
  clock: Clock;
  log: Logger;
  runtime(): Runtime;
}

export async function handleInbound(ctx: InboundDeps, params: Record<string, string>, ip: string | null): Promise<InboundAnswer> {
  const { key, ...logged } = params;
  const now = ctx.clock.now();
  const runtime = ctx.runtime();
  let lead: LeadRow | null = null;
  const log = async (answer: InboundAnswer, status: string | null) => {
    try {
      await ctx.intake(async (tx) => {
        await tx.inbound.log(boundedLogRow({ result: answer.body.status === "ok" ? "ok" : answer.body.error, leadId: lead?.id ?? null, status, params: logged, ip, createdAt: now }));
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

  const { read } = ctx.storage;
  try {
    if (params.lead) lead = /^\d{1,15}$/.test(params.lead) ? await read.leads.get(Number(params.lead)) : null;
    else {
      const campaignId = params.campaign ? await read.campaigns.findId(params.campaign) : undefined;
      lead = campaignId === null ? null : await read.leads.byClick(params.click!, campaignId);
    }
  } catch (err) {
    ctx.log.error({ err }, "inbound postback: lead lookup failed");
    return log(fail("db", "storage is unavailable; try again"), null);
  }
  if (!lead) return log(fail("bad-click", "no such lead"), null);

  const status = recognizeStatus(params.status ?? "", custom);
  if (!status) return log(fail("bad-status", `status ${JSON.stringify(params.status ?? "")} is not recognised`, lead.id), params.status ?? null);

  const code = (await campaignCodes(ctx.storage))(lead.campaignId);
  if (!runtime.campaigns.has(code)) return log(fail("bad-click", `the lead's campaign ${code} is no longer configured`, lead.id), status);

  try {
    const found = lead;
    const { answer } = await ctx.intake(async (tx) => {
      const r = await applyLeadEvent(tx, runtime, {
        campaign: code, subscriber: found.subscriber, status, source: "inbound",
        ...(params.payout ? { payout: params.payout } : {}), ...(params.currency ? { currency: params.currency } : {}),
      }, now);
      const answer: InboundAnswer = r.applied
        ? { httpStatus: 200, body: { status: "ok", lead: found.id, changed: true } }
        : fail("no-changes", r.reason === "duplicate" ? `the lead is already ${status}` : `${found.status} → ${status} is not a transition tgcpa makes`, found.id);
      await tx.inbound.log(boundedLogRow({ result: r.applied ? "ok" : "no-changes", leadId: found.id, status, params: logged, ip, createdAt: now }));
      return { answer, effects: effectsOf(status, r) };
    });
    return answer;
  } catch (err) {
    ctx.log.error({ err }, "inbound postback: write failed");
    return log(fail("db", "storage is unavailable; nothing was changed, try again", lead.id), status);
  }
}
