import type { ChatJoinRequest, ChatMemberUpdated, Message, Update } from "grammy/types";
import type { CampaignEntry, Runtime } from "../config/runtime.ts";
import { applyLeadEvent, type LeadEventResult } from "../leads/service.ts";
import type { Status } from "../domain/status.ts";
import type { Effects } from "../intake/intake.ts";
import type { Tx } from "../storage/port.ts";
import type { NewPostback } from "../storage/rows.ts";
import { classifyMemberChange, parseStartCommand, type MemberState } from "./rules.ts";
import { telegramHost } from "./pacing.ts";
import { profileOf, scoreQuality } from "../domain/quality.ts";
import { answerJoinRequest } from "../domain/approval-rules.ts";

/** The updates tgcpa asks Telegram for (chat_member is only sent when named). */
export const ALLOWED_UPDATES = ["message", "my_chat_member", "chat_member", "chat_join_request"] as const;

export interface UpdateOutcome {
  /** The update was applied before (same bot, same update_id): it changed nothing. */
  duplicate: boolean;
  effects: { events: { status: Status; applied: boolean }[]; rows: string[] } & Effects;
}

interface Scope {
  /** The update's transaction. */
  tx: Tx;
  runtime: Runtime;
  bot: string;
  now: number;
  outcome: UpdateOutcome;
}

const isId = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v);
const obj = (v: unknown): Record<string, any> | undefined => (v && typeof v === "object" ? (v as Record<string, any>) : undefined);
/** An optional text field that is absent, or a well-formed string (no lone UTF-16 surrogate). */
const okText = (v: unknown) => v === undefined || (typeof v === "string" && v.isWellFormed());

/** The user of an update: an integer id, and a username that is text if there is one. */
function badUser(v: unknown, path: string): string | null {
  const user = obj(v);
  if (!isId(user?.id)) return `${path}.id`;
  if (!okText(user!.username)) return `${path}.username`;
  return null;
}

/**
 * The first field tgcpa reads that is missing, of the wrong type or not well-formed text; null
 * when the update is fit to apply. A malformed update is journaled and skipped, never half-applied.
 */
export function malformedUpdate(update: Update): string | null {
  const u = update as unknown as Record<string, unknown>;
  const m = obj(u.message);
  if (u.message !== undefined) {
    if (!m || !obj(m.chat) || typeof m.chat.type !== "string" || !isId(m.chat.id)) return "message.chat";
    if (m.from !== undefined) {
      const bad = badUser(m.from, "message.from");
      if (bad) return bad;
    }
    if (!okText(m.text)) return "message.text";
  }
  const jr = obj(u.chat_join_request);
  if (u.chat_join_request !== undefined) {
    if (!jr || !isId(obj(jr.chat)?.id)) return "chat_join_request.chat.id";
    const bad = badUser(jr.from, "chat_join_request.from");
    if (bad) return bad;
  }
  for (const kind of ["chat_member", "my_chat_member"] as const) {
    if (u[kind] === undefined) continue;
    const cm = obj(u[kind]);
    if (!cm || !isId(obj(cm.chat)?.id)) return `${kind}.chat.id`;
    if (!okText(cm.chat.title) || (cm.chat.type !== undefined && typeof cm.chat.type !== "string")) return `${kind}.chat`;
    if (!isId(obj(cm.from)?.id)) return `${kind}.from.id`;
    for (const side of ["old_chat_member", "new_chat_member"]) {
      const member = obj(cm[side]);
      if (!member || typeof member.status !== "string") return `${kind}.${side}.status`;
      const bad = badUser(member.user, `${kind}.${side}.user`);
      if (bad) return bad;
    }
  }
  return null;
}

/**
 * Applies one update inside the caller's transaction (the intake's group commit): marks its
 * update_id and writes the lead events and the outbox rows they cause. The same update again
 * changes nothing.
 */
export async function applyUpdate(tx: Tx, runtime: Runtime, bot: string, update: Update, now: number): Promise<UpdateOutcome> {
  const outcome: UpdateOutcome = { duplicate: false, effects: { events: [], rows: [] } };
  if (!(await tx.telegram.markUpdateProcessed(bot, update.update_id, now))) return { ...outcome, duplicate: true };
  const scope: Scope = { tx, runtime, bot, now, outcome };
  if (update.message) await onMessage(scope, update.message);
  else if (update.chat_join_request) await onJoinRequest(scope, update.chat_join_request);
  else if (update.chat_member) await onChatMember(scope, update.chat_member);
  else if (update.my_chat_member) await onMyChatMember(scope, update.my_chat_member);
  return outcome;
}

function campaignsOfChat(s: Scope, chatId: number): CampaignEntry[] {
  return [...s.runtime.campaigns.values()].filter((c) => c.config.bot === s.bot && c.config.chat === chatId);
}

function record(s: Scope, r: LeadEventResult, status: Status) {
  s.outcome.effects.events.push({ status, applied: r.applied });
  for (const p of r.postbacks) s.outcome.effects.rows.push(p.state);
}

async function enqueueTelegram(s: Scope, row: Pick<NewPostback, "leadId" | "eventId" | "campaignId" | "status" | "template"> & { method: string; body: unknown }) {
  await s.tx.outbox.insert([{
    ...row, channel: "telegram", url: `tg://${s.bot}/${row.method}`, body: JSON.stringify(row.body), contentType: "application/json",
    host: telegramHost(s.bot), state: "pending", nextAttemptAt: s.now, createdAt: s.now, updatedAt: s.now,
  }]);
  s.outcome.effects.rows.push("pending");
}

async function onMessage(s: Scope, message: Message) {
  if (message.chat.type !== "private" || !message.from || !message.text) return;
  const start = parseStartCommand(message.text);
  if (!start) return;
  const from = message.from;
  const journal = (reason: string, detail: Record<string, unknown> = {}) =>
    s.tx.journal.insert({ kind: "start_rejected", subscriber: from.id, detail: { bot: s.bot, reason, ...detail }, createdAt: s.now });
  // The raw payload and its length go with every rejected Start (GET /api/trace finds them by click).
  // A payload over 64 characters never arrives: Telegram sends the Start as a bare /start (no_payload).
  if (start.kind === "missing") return journal("no_payload", { length: 0 });
  if (start.kind === "malformed") return journal("malformed_payload", { payload: start.payload, length: start.length });
  const carried = { code: start.code, payload: start.payload, length: start.payload.length };
  const campaign = s.runtime.campaigns.get(start.code);
  if (!campaign || campaign.config.bot !== s.bot) return journal("unknown_campaign", { ...carried, ...(campaign ? { campaign_bot: campaign.config.bot } : {}) });
  if (campaign.config.paused) return journal("campaign_paused", carried);

  const result = await applyLeadEvent(s.tx, s.runtime, {
    campaign: start.code, subscriber: from.id, status: "wait", click: start.click, username: from.username ?? "",
    source: "telegram", at: s.now, profile: profileOf(from),
  }, s.now);
  record(s, result, "wait");
  // A repeated Start re-sends the welcome; the lead itself is not created twice.
  if (campaign.config.welcome && result.lead) {
    await enqueueTelegram(s, {
      leadId: result.lead.id, eventId: result.events[0]?.id ?? 0, campaignId: campaign.id, status: "wait",
      template: `campaigns.${campaign.config.code}.welcome`, method: "welcome", body: { lead: result.lead.id, chat: from.id },
    });
  }
}

async function onJoinRequest(s: Scope, req: ChatJoinRequest) {
  const campaigns = campaignsOfChat(s, req.chat.id);
  if (campaigns.length === 0) {
    await s.tx.journal.insert({ kind: "untracked_chat", subscriber: req.from.id, chatId: req.chat.id, detail: { bot: s.bot, update: "chat_join_request" }, createdAt: s.now });
    return;
  }
  let answered = false;
  for (const c of campaigns) {
    const r = await applyLeadEvent(s.tx, s.runtime, {
      campaign: c.config.code, subscriber: req.from.id, status: "hold", username: req.from.username, source: "telegram", at: s.now,
      profile: profileOf(req.from), inviteLink: inviteLinkOf(req.invite_link),
    }, s.now);
    record(s, r, "hold");
    // The first campaign of the chat with join-request rules answers; the request is answered once.
    if (answered || !c.config.join_requests) continue;
    const quality = r.profile?.quality ?? scoreQuality({ ...profileOf(req.from), subscriber: req.from.id, startToJoinMs: null, fastLeave: false }, s.now).score;
    const answer = answerJoinRequest(c.config.join_requests, quality, s.now);
    if (!answer) continue;
    answered = true;
    if (answer.kind === "hold") continue; // a person answers: POST /api/leads/{id}/join-request
    await enqueueJoinRequestAnswer(s.tx, {
      bot: s.bot, campaignId: c.id, code: c.config.code, chatId: req.chat.id, userId: req.from.id, approve: answer.kind === "approve",
      at: answer.kind === "approve" ? answer.at : s.now, eventId: r.events[0]?.id ?? 0, now: s.now,
    });
    s.outcome.effects.rows.push("pending");
  }
}

/** The link's URL when Telegram named one (ChatInviteLink.invite_link; a link of another admin comes partly hidden). */
function inviteLinkOf(link: unknown): string | undefined {
  const url = obj(link)?.invite_link;
  return typeof url === "string" && url.isWellFormed() ? url.slice(0, 256) : undefined;
}

/**
 * The Bot API call that answers one join request (approveChatJoinRequest or
 * declineChatJoinRequest), as a Telegram outbox row due at `at`: sent through the bot's paced
 * channel, kept across restarts. Ordered per requester (keyed by the negated user id: an organic
 * requester has no lead).
 */
export async function enqueueJoinRequestAnswer(tx: Tx, a: {
  bot: string; campaignId: number; code: string; chatId: number; userId: number; approve: boolean; at: number; eventId: number; now: number; template?: string;
}) {
  const method = a.approve ? "approveChatJoinRequest" : "declineChatJoinRequest";
  const [row] = await tx.outbox.insert([{
    leadId: -a.userId, eventId: a.eventId, campaignId: a.campaignId, status: "hold", template: a.template ?? `campaigns.${a.code}.join_requests`,
    channel: "telegram", method, url: `tg://${a.bot}/${method}`, body: JSON.stringify({ chat_id: a.chatId, user_id: a.userId }), contentType: "application/json",
    host: telegramHost(a.bot), state: "pending", nextAttemptAt: a.at, createdAt: a.now, updatedAt: a.now,
  }]);
  return row!;
}

async function onChatMember(s: Scope, u: ChatMemberUpdated) {
  const user = u.new_chat_member.user;
  const status = classifyMemberChange(u.old_chat_member as MemberState, u.new_chat_member as MemberState, user.id, u.from.id);
  if (!status) return; // unban (kicked → left), or a change that keeps them in or out
  const campaigns = campaignsOfChat(s, u.chat.id);
  if (campaigns.length === 0) {
    await s.tx.journal.insert({ kind: "untracked_chat", subscriber: user.id, chatId: u.chat.id, detail: { bot: s.bot, update: "chat_member", status }, createdAt: s.now });
    return;
  }
  for (const c of campaigns) {
    const r = await applyLeadEvent(s.tx, s.runtime, {
      campaign: c.config.code, subscriber: user.id, status, username: user.username, chat: u.chat.id, source: "telegram", at: s.now,
      profile: profileOf(user), inviteLink: inviteLinkOf(u.invite_link),
    }, s.now);
    record(s, r, status);
  }
}

const RIGHTS = ["can_invite_users", "can_restrict_members", "can_manage_chat", "can_post_messages", "can_promote_members", "can_delete_messages"] as const;

async function onMyChatMember(s: Scope, u: ChatMemberUpdated) {
  const member = u.new_chat_member as unknown as Record<string, unknown>;
  const rights = Object.fromEntries(RIGHTS.filter((r) => r in member).map((r) => [r, member[r] === true]));
  await s.tx.telegram.upsertChat({
    bot: s.bot, chatId: u.chat.id, title: "title" in u.chat ? (u.chat.title ?? "") : "", type: u.chat.type,
    status: u.new_chat_member.status, rights, updatedAt: s.now,
  });
}
