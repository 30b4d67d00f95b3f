import { GrammyError, HttpError, InputFile, type Api } from "grammy";
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import type { CampaignEntry, Runtime } from "../config/runtime.ts";
import type { WelcomeVariant } from "../config/model.ts";
import { variantFor } from "../leads/profile.ts";
import type { LeadProfileRow } from "../storage/rows.ts";
import type { ChannelAttempt, ChannelSender, SideEffect } from "../delivery/channel.ts";
import { headOf } from "../delivery/http-request.ts";
import { macroValues, renderText, welcomeUrlEncode } from "../domain/templates.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Reads } from "../storage/port.ts";
import { bounded, NoAnswer, type GrammySignal } from "./api-call.ts";


/** Errors Telegram returns for work that is already done: the call counts as delivered. */
const BENIGN = ["HIDE_REQUESTER_MISSING", "USER_ALREADY_PARTICIPANT"];

/** Legacy Markdown: a substituted value must not open *bold*, _italic_, `code` or [links]. */
const escapeMarkdown = (value: string) => value.replace(/([_*`[])/g, "\\$1");

export interface TelegramChannelDeps {
  /** What a welcome is made of: the lead, its latest event, profile (its variant) and click, the stored invite link and media file ids. */
  read: Pick<Reads, "leads" | "telegram" | "profiles" | "clicks">;
  clock: Clock;
  runtime: () => Runtime;
  api: (bot: string) => Api | undefined;
  timeoutMs: () => number;
  log: Logger;
}

const done = (url: string, head: string, effects: SideEffect[] = []): ChannelAttempt => ({
  report: { result: { kind: "response", status: 200, body: head, retryAfterMs: null }, url, responseHead: headOf(head) },
  verdict: { outcome: "delivered" },
  effects,
});

/**
 * Sends the outbox rows of channel `telegram` (url `tg://BOT/METHOD`, body JSON: a welcome, a
 * join-request approval, an alert's sendMessage) and judges
 * Telegram's answer: 429 → retry after exactly `retry_after`; 403 (blocked by the user) → rejected
 * and journaled; other 4xx → rejected; 5xx and network errors → the retry ladder. What a send
 * learns — an invite link it created, a media file's id, a bot blocked by its user — comes back as
 * side effects, written in the outcome's commit.
 */
export function createTelegramChannel(deps: TelegramChannelDeps): ChannelSender {
  // Invite links created by this process, by bot and campaign: two welcomes sent before the first
  // one's outcome (and its link) is committed use one link.
  const created = new Map<string, Promise<string>>();
  return async (row, abort) => {
    const [, bot = "", method = ""] = /^tg:\/\/([^/]+)\/(.+)$/.exec(row.url) ?? [];
    const api = deps.api(bot);
    if (!api) return { report: { result: { kind: "error", error: "malformed_url", message: `bot ${bot} is not configured` }, url: row.url, responseHead: null }, verdict: { outcome: "rejected", reason: `bot ${bot} is not configured` } };
    const body = JSON.parse(row.body ?? "{}") as Record<string, number> & { text?: string };
    try {
      if (method === "welcome") {
        const effects: SideEffect[] = [];
        const message = await bounded(abort.signal, deps.timeoutMs(), (signal) => sendWelcome(deps, created, api, bot, body.lead!, signal, effects));
        return done(row.url, `message ${message.message_id}`, effects);
      }
      if (method === "sendMessage") {
        // An alert: plain text (no parse mode: a host name or an error with _ or * must not break it), no link preview.
        const message = await bounded(abort.signal, deps.timeoutMs(), (signal) => api.sendMessage(body.chat_id!, body.text ?? "", { link_preview_options: { is_disabled: true } }, signal));
        return done(row.url, `message ${message.message_id}`);
      }
      if (method === "approveChatJoinRequest") {
        await bounded(abort.signal, deps.timeoutMs(), (signal) => api.approveChatJoinRequest(body.chat_id!, body.user_id!, signal));
        return done(row.url, "true");
      }
      if (method === "declineChatJoinRequest") {
        await bounded(abort.signal, deps.timeoutMs(), (signal) => api.declineChatJoinRequest(body.chat_id!, body.user_id!, signal));
        return done(row.url, "true");
      }
      return { report: { result: { kind: "error", error: "malformed_url", message: `unknown method ${method}` }, url: row.url, responseHead: null }, verdict: { outcome: "rejected", reason: `unknown method ${method}` } };
    } catch (err) {
      return judgeError(deps, err, row.url, method, body);
    }
  };
}

async function judgeError(deps: TelegramChannelDeps, err: unknown, url: string, method: string, body: Record<string, number>): Promise<ChannelAttempt> {
  if (err instanceof GrammyError) {
    const head = `${err.error_code}: ${err.description}`;
    const report = { result: { kind: "response" as const, status: err.error_code, body: head, retryAfterMs: null }, url, responseHead: headOf(head) };
    if (BENIGN.some((b) => err.description.includes(b))) return { report, verdict: { outcome: "delivered" } };
    if (err.error_code === 429) {
      // A flood wait for the whole bot: nothing is sent by it until retry_after has passed.
      const ms = (err.parameters.retry_after ?? 1) * 1000;
      return { report, verdict: { outcome: "retry", reason: `telegram_429: ${err.description}`, retryAfterMs: ms, minDelayMs: 0, pauseHostMs: ms } };
    }
    if (err.error_code >= 500) return { report, verdict: { outcome: "retry", reason: `telegram_${err.error_code}: ${err.description}`, retryAfterMs: null, minDelayMs: 0 } };
    const effects: SideEffect[] = [];
    if (err.error_code === 403 && method === "welcome") {
      const lead = await deps.read.leads.get(body.lead!);
      effects.push({ kind: "journal", row: { kind: "bot_blocked", campaignId: lead?.campaignId, subscriber: lead?.subscriber, detail: { description: err.description }, createdAt: deps.clock.now() } });
    }
    return { report, verdict: { outcome: "rejected", reason: `telegram_${err.error_code}: ${err.description}` }, effects };
  }
  const timedOut = err instanceof NoAnswer;
  const message = err instanceof HttpError ? String((err.error as Error)?.message ?? err.message) : (err as Error).message;
  return {
    report: { result: { kind: "error", error: timedOut ? "timeout" : "network", message }, url, responseHead: null },
    verdict: { outcome: "retry", reason: `${timedOut ? "timeout" : "network"}: ${message}`, retryAfterMs: null, minDelayMs: 0 },
  };
}

/** The campaign's invite link: the stored one, else one created (once per process) and returned to be stored. */
async function inviteLink(
  deps: TelegramChannelDeps, created: Map<string, Promise<string>>, api: Api, bot: string, campaignId: number, signal: GrammySignal, effects: SideEffect[],
): Promise<string> {
  const stored = await deps.read.telegram.inviteLink(bot, campaignId);
  if (stored) return stored.link;
  const campaign = deps.runtime().campaignsById.get(campaignId)!.config;
  const key = `${bot}\n${campaignId}`;
  let link = created.get(key);
  if (!link) {
    link = api.createChatInviteLink(campaign.chat!, { name: campaign.code.slice(0, 32), ...(campaign.join_request ? { creates_join_request: true } : {}) }, signal)
      .then((l) => l.invite_link);
    created.set(key, link);
    link.catch(() => created.delete(key)); // a failed creation is tried again by the next send
  }
  const url = await link;
  effects.push({ kind: "invite_link", row: { bot, campaignId, link: url, createsJoinRequest: campaign.join_request, createdAt: deps.clock.now() } });
  return url;
}

/**
 * The welcome variant recorded on the lead at its Start; one chosen again (by the rule that chose
 * it) when the lead has none recorded or the config no longer has that variant.
 */
function welcomeOf(campaign: CampaignEntry, subscriber: number, profile: LeadProfileRow | null): WelcomeVariant | undefined {
  const variants = campaign.config.welcome;
  if (!variants) return undefined;
  const recorded = profile?.welcomeVariant;
  const name = variants.some((v) => v.name === recorded) ? recorded : variantFor(campaign, subscriber, profile?.language ?? null);
  return variants.find((v) => v.name === (name ?? "")) ?? variants[0];
}

async function sendWelcome(
  deps: TelegramChannelDeps, created: Map<string, Promise<string>>, api: Api, bot: string, leadId: number, signal: GrammySignal, effects: SideEffect[],
): Promise<Message> {
  const runtime = deps.runtime();
  const lead = await deps.read.leads.get(leadId);
  const campaign = lead && runtime.campaignsById.get(lead.campaignId);
  const profile = lead && (await deps.read.profiles.ofLead(lead.id));
  const welcome = campaign && lead ? welcomeOf(campaign, lead.subscriber, profile ?? null) : undefined;
  if (!lead || !campaign || !welcome) throw new GrammyError("welcome not sent", { ok: false, error_code: 400, description: "the campaign no longer has a welcome message" }, "welcome", {});
  const event = (await deps.read.leads.events(lead.id)).at(-1)!;
  const needsInvite = [welcome.text, welcome.button?.url].some((t) => t?.segments.some((s) => typeof s !== "string" && s.macro === "invite"));
  const invite = needsInvite && campaign.config.chat !== null ? await inviteLink(deps, created, api, bot, campaign.id, signal, effects) : "";
  const click = lead.clickId === null ? undefined : ((await deps.read.clicks.get(lead.clickId)) ?? undefined);
  const values = { ...macroValues(runtime.config.account_id, campaign.config, { ...lead, quality: profile?.quality }, event, click), invite };
  const text = renderText(welcome.text, values, escapeMarkdown);
  const reply_markup: InlineKeyboardMarkup | undefined = welcome.button
    ? { inline_keyboard: [[{ text: welcome.button.text, url: renderText(welcome.button.url, values, welcomeUrlEncode) }]] }
    : undefined;
  const chatId = lead.subscriber;
  // Paid broadcasts lift Telegram's 30/s limit and are billed in Stars.
  const paid = runtime.config.bots[bot]?.paid_broadcast ? { allow_paid_broadcast: true } : {};
  if (!welcome.media) return api.sendMessage(chatId, text, { parse_mode: "Markdown", reply_markup, ...paid }, signal);
  const { kind, path } = welcome.media;
  const cached = await deps.read.telegram.mediaFileId(bot, path);
  const file = cached ?? new InputFile(path);
  const other = { caption: text, parse_mode: "Markdown" as const, reply_markup, ...paid };
  const message: Message = kind === "photo" ? await api.sendPhoto(chatId, file, other, signal) : await api.sendVideo(chatId, file, other, signal);
  const fileId = kind === "photo" ? message.photo?.at(-1)?.file_id : message.video?.file_id;
  // Stored with the outcome: the next welcome sends the file id instead of uploading the file again.
  if (!cached && fileId) effects.push({ kind: "media_file_id", row: { bot, path, fileId, createdAt: deps.clock.now() } });
  return message;
}
