import type { CampaignEntry, Runtime } from "../config/runtime.ts";
import { decideLeadEvent, type Decision } from "../domain/lifecycle.ts";
import type { EventSource, Status } from "../domain/status.ts";
import { lacksClick, macroValues, renderRequest, resolveTemplates } from "../domain/templates.ts";
import type { Clock } from "../lib/clock.ts";
import { NO_EFFECTS, type Effects, type Intake } from "../intake/intake.ts";
import { clickGroupAdds, counterAdds } from "../stats/counters.ts";
import { isClickToken, leadClickOf } from "../domain/click-link.ts";
import { AppError, invalid } from "../lib/errors.ts";
import type { Tx } from "../storage/port.ts";
import type { ClickRow, IdempotentAnswer, LeadEventRow, LeadProfileRow, LeadRow, NewPostback, WrittenPostback } from "../storage/rows.ts";
import type { SubscriberProfile } from "../domain/quality.ts";
import { recordProfile } from "./profile.ts";
import { planPostbacks } from "./approval.ts";
import { revenueOf } from "../domain/money.ts";
import { bucketOf } from "../lib/time-zones.ts";
import { rebuiltAnswer, storedAnswer, storedAnswerCost, type EventAnswer } from "./idempotent-answer.ts";

export type { EventSource } from "../domain/status.ts";

export interface LeadEventRequest {
  campaign: string;
  subscriber: number;
  status: Status;
  click?: string;
  username?: string;
  chat?: number;
  /** When it happened, epoch ms; defaults to now. */
  at?: number;
  source: EventSource;
  /** Inbound postbacks may carry the payout of this event (overrides the campaign's). */
  payout?: string;
  currency?: string;
  /** The invite link Telegram named with a join or join request, kept on the event. */
  inviteLink?: string;
  /** What Telegram's User object told of the subscriber (a Telegram update); absent for other sources. */
  profile?: SubscriberProfile;
}

export type AppliedPostback = WrittenPostback;

export interface LeadEventResult {
  applied: boolean;
  /** Why nothing changed (duplicate, no_lead, …) or why postbacks were withheld. */
  reason: string | null;
  lead: LeadRow | null;
  /** The lead's profile as this event left it (quality, welcome variant); null when nothing was applied to a lead. */
  profile: LeadProfileRow | null;
  events: LeadEventRow[];
  postbacks: AppliedPostback[];
}

/** SPEC §2: a join at most this long before the lead's Start is applied to the new lead. */
export const ORGANIC_JOIN_GRACE_MS = 120_000;

function campaignOf(runtime: Runtime, code: string): CampaignEntry {
  const campaign = runtime.campaigns.get(code);
  if (!campaign) throw invalid("body.campaign", `unknown campaign code "${code}"`);
  return campaign;
}

/**
 * Applies one lead event inside the caller's transaction: the lead, the event and every
 * postback row it causes are written together or not at all. Reads, decides (domain/lifecycle.ts),
 * then writes; the lead is locked first, so two writers of the same lead do what one would.
 */
export async function applyLeadEvent(tx: Tx, runtime: Runtime, req: LeadEventRequest, now: number): Promise<LeadEventResult> {
  const campaign = campaignOf(runtime, req.campaign);
  const at = req.at ?? now;
  const rules = { paused: campaign.config.paused, unsubWindowMs: campaign.config.unsub_window_ms };
  await tx.leads.lock(campaign.id, req.subscriber);
  const existing = await tx.leads.find(campaign.id, req.subscriber);
  const token = await startedClick(tx, campaign, req);
  const click = token ? leadClickOf(token.token, token.params, campaign.config.click_link.click_param) : (req.click ?? "");
  const decision = decideLeadEvent(existing, { status: req.status, click, at }, rules);

  if (decision.kind === "ignore") {
    if (decision.reason === "no_lead" && req.status === "approve") {
      await tx.journal.insert({
        kind: "organic_join", campaignId: campaign.id, subscriber: req.subscriber, chatId: req.chat ?? campaign.config.chat,
        detail: { source: req.source, at, ...(req.inviteLink ? { invite_link: req.inviteLink } : {}) }, createdAt: now,
      });
    } else if (decision.reason !== "duplicate") {
      await tx.journal.insert({ kind: "event_ignored", campaignId: campaign.id, subscriber: req.subscriber, chatId: req.chat ?? null, detail: { status: req.status, reason: decision.reason, source: req.source }, createdAt: now });
    }
    return { applied: false, reason: decision.reason, lead: existing, profile: existing && (await tx.profiles.ofLead(existing.id)), events: [], postbacks: [] };
  }

  // The click is the lead's when this event gives the lead its click (its first Start with one).
  const attached = token && decision.click !== (existing?.click ?? "") ? token : null;
  let { lead, profile, event, postbacks } = await writeDecision(tx, runtime, campaign, existing, decision, req, at, now, attached);
  const result: LeadEventResult = { applied: true, reason: event.reason, lead, profile, events: [event], postbacks };

  // Telegram may deliver a join before the Start that preceded it: apply that join now.
  if (decision.createLead) {
    const join = latest(await tx.journal.organicJoins(campaign.id, req.subscriber, now - ORGANIC_JOIN_GRACE_MS));
    if (join) {
      await tx.journal.setKind(join.id, "organic_join_applied");
      const joinAt = Math.max(at, Number((join.detail as { at?: number } | null)?.at ?? at));
      const approve = decideLeadEvent({ ...lead, status: "wait" }, { status: "approve", click: lead.click, at: joinAt }, rules);
      if (approve.kind === "apply") {
        ({ lead, profile, event, postbacks } = await writeDecision(tx, runtime, campaign, lead, approve, { ...req, status: "approve" }, joinAt, now, null));
        result.lead = lead;
        result.profile = profile;
        result.events.push(event);
        result.postbacks.push(...postbacks);
      }
    }
  }
  return result;
}

/** The most recent of a few journal rows (newest time, then newest id). */
function latest<T extends { id: number; createdAt: number }>(rows: readonly T[]): T | undefined {
  let found: T | undefined;
  for (const r of rows) if (!found || r.createdAt > found.createdAt || (r.createdAt === found.createdAt && r.id > found.id)) found = r;
  return found;
}

/**
 * SPEC §9: a Start (a `wait`) whose click is a token of this campaign's click link names the click
 * the visitor made; any other click keeps its meaning (a tracker's click id).
 */
async function startedClick(tx: Tx, campaign: CampaignEntry, req: LeadEventRequest): Promise<ClickRow | null> {
  if (req.status !== "wait" || !req.click || !isClickToken(req.click)) return null;
  const row = await tx.clicks.byToken(req.click);
  return row && row.campaignId === campaign.id ? row : null;
}

async function writeDecision(
  tx: Tx, runtime: Runtime, campaign: CampaignEntry, existing: LeadRow | null,
  decision: Extract<Decision, { kind: "apply" }>, req: LeadEventRequest, at: number, now: number, attached: ClickRow | null,
) {
  const fields = { status: decision.status, click: decision.click, joinedAt: decision.joinedAt, updatedAt: now, clickId: attached?.id ?? null };
  const lead = existing
    ? await tx.leads.update(existing.id, { ...fields, username: req.username ?? null, chatId: req.chat ?? null })
    : await tx.leads.insert({ ...fields, campaignId: campaign.id, subscriber: req.subscriber, username: req.username ?? "", chatId: req.chat ?? campaign.config.chat, createdAt: now });
  const profile = await recordProfile(tx, campaign, lead, existing, { status: decision.status, occurredAt: at }, req.profile, now);
  const plan = await planPostbacks(tx, campaign, lead, existing, decision, profile.quality, at, now);
  // The click that brought the lead, for the click macros: the one this event attached, or the lead's.
  const click = attached ?? (lead.clickId === null ? null : await tx.clicks.get(lead.clickId));
  const event = await tx.leads.insertEvent({
    leadId: lead.id, campaignId: campaign.id, status: decision.status, prevStatus: existing?.status ?? null,
    source: req.source, reason: plan.reason, occurredAt: at, createdAt: now,
    payout: req.payout ?? null, currency: req.currency ?? null, inviteLink: req.inviteLink ?? null,
  });
  const rows = plan.postbacks === "none" ? [] : buildPostbacks(runtime, campaign, { ...lead, quality: profile.quality }, { ...event, status: plan.status }, plan.postbacks === "skip" ? plan.skipReason : null, plan.sendAt, now, click);
  const earned = revenueOf(event, campaign.config.payouts[plan.status], plan.postbacks === "send");
  if (earned) await tx.money.addRevenue({ campaignId: campaign.id, bucket: bucketOf(event.occurredAt), currency: earned.currency, amountMicros: earned.micros, events: 1 });
  // The dashboard's per-period counters: a new lead's event is its first of that status without a look-up.
  const first = existing === null || !(await tx.leads.hasEarlierEvent(lead.id, event.id, event.status));
  await tx.stats.add(counterAdds(event, first, rows.length, now));
  // The funnel per click parameter: the Start that brought the click is the lead's first with it.
  const groups = runtime.config.dashboard.click_groups;
  if (click && groups.length) await tx.clicks.addGroupCounts(clickGroupAdds(event, first || attached !== null, click.params, groups));
  return { lead, profile, event, postbacks: await tx.outbox.insert(rows) };
}


/**
 * The postback rows of one event. A URL that carries `{click}` for a lead without a click is not
 * sent (skipped, `no_click`) — even when the campaign is paused, so that no later re-send of a
 * `campaign_paused` row can send it either.
 */
function buildPostbacks(
  runtime: Runtime, campaign: CampaignEntry, lead: LeadRow & { quality: number }, event: LeadEventRow, skipReason: string | null, sendAt: number, now: number,
  click: ClickRow | null,
): NewPostback[] {
  const templates = resolveTemplates(runtime.config.postbacks, campaign.config.postbacks, event.status as Status);
  const values = macroValues(runtime.config.account_id, campaign.config, lead, event, click ?? undefined);
  return templates.map((template) => {
    const req = renderRequest(template, values);
    const host = URL.canParse(req.url) ? new URL(req.url).host : "";
    const reason = lacksClick(template, values) ? "no_click" : skipReason ?? (host ? null : "malformed_url");
    const state = reason === null ? "pending" : reason === "malformed_url" ? "rejected" : "skipped";
    return {
      leadId: lead.id, eventId: event.id, campaignId: campaign.id, status: event.status, template: template.label,
      method: req.method, url: req.url, body: req.body, contentType: req.contentType, host, verdict: template.verdict ?? null,
      state, reason, nextAttemptAt: state === "pending" ? sendAt : now, createdAt: now, updatedAt: now, finishedAt: state === "pending" ? null : now,
    };
  });
}

/** What a lead event did, for the intake's metrics and wake-up. */
export const effectsOf = (status: Status, r: LeadEventResult): Effects => ({
  events: [{ status, applied: r.applied }],
  rows: r.postbacks.map((p) => p.state),
});

export interface Recorded {
  statusCode: number;
  /** The answer's JSON, as stored for its Idempotency-Key (serialised once). */
  json: string;
  /** True when the answer was replayed from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/** An Idempotency-Key as the route read it: the key, its request's hash, who sent it and how many bytes that client's stored answers may take. */
export interface IdempotencyRequest {
  key: string;
  requestHash: string;
  /** A digest of the API key (never the key itself), or `session`. */
  client: string;
  budgetBytes: number;
}

/** The stored answer again, as it was sent; the lead's click and events come from the database. */
async function replayAnswer(tx: Tx, earlier: IdempotentAnswer): Promise<string> {
  if (earlier.answerHash === null) return earlier.response; // stored whole (before budgets)
  const leadId = (JSON.parse(earlier.response) as { lead: { id: number } | null }).lead?.id;
  const lead = leadId === undefined ? null : await tx.leads.get(leadId);
  const json = rebuiltAnswer({ response: earlier.response, answerHash: earlier.answerHash }, lead?.click ?? null, lead ? await tx.leads.events(lead.id) : []);
  if (json === null) {
    // Cannot happen while leads and their events are kept: refused rather than applied a second time.
    throw new AppError(409, "idempotency_answer_unavailable", `this Idempotency-Key's event was recorded${leadId ? ` (lead ${leadId})` : ""}, but its answer can no longer be rebuilt; it is not applied again`);
  }
  return json;
}

/**
 * Keeps the answer for its Idempotency-Key within the client's budget: the row's cost is added to
 * the client's running total, and its oldest rows beyond the budget go (the newest always stays).
 */
async function storeAnswer(tx: Tx, idem: IdempotencyRequest, answer: EventAnswer, json: string, now: number) {
  const stored = storedAnswer(answer, json);
  const row = { key: idem.key, requestHash: idem.requestHash, statusCode: 200, ...stored, createdAt: now, client: idem.client };
  const spent = (await tx.leads.idempotencySpent(idem.client)) + storedAnswerCost(row);
  await tx.leads.storeIdempotentAnswer({ ...row, spent });
  await tx.leads.dropIdempotentAnswers(idem.client, spent - idem.budgetBytes);
}

/**
 * The write path of POST /api/events: one transaction holds the lead, its events, its
 * postback rows and the stored idempotent answer (through the intake: answered once it is on the disk).
 */
export async function recordLeadEvent(
  deps: { intake: Intake; clock: Clock; runtime: () => Runtime },
  req: LeadEventRequest,
  render: (result: LeadEventResult) => EventAnswer,
  idempotency?: IdempotencyRequest,
): Promise<Recorded> {
  // Refused before the write, so a typo does not send its whole batch down the group commit's slow path.
  campaignOf(deps.runtime(), req.campaign);
  const { statusCode, json, replayed } = await deps.intake(async (tx) => {
    const now = deps.clock.now();
    if (idempotency) {
      await tx.leads.lockIdempotencyKey(idempotency.key);
      const earlier = await tx.leads.idempotentAnswer(idempotency.key);
      if (earlier) {
        if (earlier.requestHash !== idempotency.requestHash) {
          throw new AppError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request body", [{ field: "headers.idempotency-key", message: "used before with another body" }]);
        }
        return { statusCode: earlier.statusCode, json: await replayAnswer(tx, earlier), replayed: true, effects: NO_EFFECTS };
      }
    }
    const result = await applyLeadEvent(tx, deps.runtime(), req, now);
    const answer = render(result);
    const json = JSON.stringify(answer);
    if (idempotency) await storeAnswer(tx, idempotency, answer, json, now);
    return { statusCode: 200, json, replayed: false, effects: effectsOf(req.status, result) };
  });
  return { statusCode, json, replayed };
}
