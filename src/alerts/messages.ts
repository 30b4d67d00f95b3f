// What alerts say, and how each destination is sent it (pure): the text, a webhook body in its
// format, and the outbox rows — a Telegram message of the alerts' bot (paced with its other
// sends) and/or a webhook POST (channel http: the retry ladder, the address guard, the circuit).
import type { AlertKind, AlertsConfig } from "../config/model.ts";
import { spokenDuration } from "../lib/duration.ts";
import type { NewPostback } from "../storage/rows.ts";
import { telegramHost } from "../telegram/pacing.ts";
import { ALERT_WEBHOOK_VERDICT, maskedWebhookUrl } from "./webhook-secret.ts";

/** One message: its text, and what a json webhook receives beside it. */
export interface AlertMessage {
  text: string;
  alert: { kind: AlertKind | "digest"; subject: string; state: "firing" | "resolved" | "digest"; since: string | null; at: string };
}

/** What a recovery says: the cause is fine again. */
const RECOVERED: Record<AlertKind, (subject: string) => string> = {
  bot_down: (bot) => `bot ${bot} is connected to Telegram again`,
  bot_rights: (chat) => `the bot has the rights it needs in chat ${chat.split(":")[1] ?? chat} again`,
  host_failing: (host) => `postbacks to ${host} are delivered again`,
  no_starts: (code) => `campaign ${code} has Starts again (or is paused or gone)`,
  storage_unwritable: () => "the database takes writes again",
};

export function firingMessage(kind: AlertKind, subject: string, detail: string, badSince: number, now: number): AlertMessage {
  return {
    text: `[tgcpa] ALERT: ${detail}`,
    alert: { kind, subject, state: "firing", since: new Date(badSince).toISOString(), at: new Date(now).toISOString() },
  };
}

export function recoveryMessage(kind: AlertKind, subject: string, badSince: number | null, now: number): AlertMessage {
  const lasted = badSince === null ? "" : ` (after ${spokenDuration(now - badSince)})`;
  return {
    text: `[tgcpa] RESOLVED: ${RECOVERED[kind](subject)}${lasted}`,
    alert: { kind, subject, state: "resolved", since: badSince === null ? null : new Date(badSince).toISOString(), at: new Date(now).toISOString() },
  };
}

/** Longest text each destination takes in one message: Telegram 4096, Discord's content 2000, Slack's text 40,000 (it cuts the rest). */
const MAX_TEXT = { telegram: 4096, discord: 2000, slack: 40_000, json: 40_000 } as const;

/** A long text (a digest of many campaigns) in parts that each fit, cut between lines. */
export function splitText(text: string, max: number): string[] {
  if (text.length <= max) return [text];
  const parts: string[] = [];
  let part = "";
  for (const line of text.split("\n")) {
    for (let rest = line; ;) {
      const piece = rest.slice(0, max);
      rest = rest.slice(max);
      if (part && part.length + 1 + piece.length > max) parts.push(part), (part = "");
      part = part ? `${part}\n${piece}` : piece;
      if (!rest) break;
    }
  }
  if (part) parts.push(part);
  return parts;
}

/** The JSON a webhook receives in its format: Slack's {text}, Discord's {content}, or {text, alert}. */
export function webhookBody(format: "json" | "slack" | "discord", text: string, alert: AlertMessage["alert"]): string {
  if (format === "slack") return JSON.stringify({ text });
  if (format === "discord") return JSON.stringify({ content: text });
  return JSON.stringify({ text, alert });
}

/** Alert rows are no lead's: lead 0 (one line per host, in order: a recovery never before its alert), campaign 0. */
const ROW_BASE = { leadId: 0, eventId: 0, campaignId: 0, status: "wait" } as const;

/** The outbox rows of a message: one per destination and part. */
export function alertRows(cfg: Pick<AlertsConfig, "telegram" | "webhook">, message: AlertMessage, now: number): NewPostback[] {
  const rows: NewPostback[] = [];
  const times = { state: "pending", nextAttemptAt: now, createdAt: now, updatedAt: now } as const;
  if (cfg.telegram) {
    const { bot, chat } = cfg.telegram;
    for (const text of splitText(message.text, MAX_TEXT.telegram)) {
      rows.push({
        ...ROW_BASE, ...times, channel: "telegram", template: "alerts.telegram", method: "sendMessage", url: `tg://${bot}/sendMessage`,
        body: JSON.stringify({ chat_id: chat, text }), contentType: "application/json", host: telegramHost(bot),
      });
    }
  }
  if (cfg.webhook) {
    const { url, format } = cfg.webhook;
    for (const text of splitText(message.text, MAX_TEXT[format])) {
      rows.push({
        ...ROW_BASE, ...times, channel: "http", template: "alerts.webhook", method: "POST", url: maskedWebhookUrl(url),
        body: webhookBody(format, text, message.alert), contentType: "application/json", host: new URL(url).host, verdict: ALERT_WEBHOOK_VERDICT,
      });
    }
  }
  return rows;
}

/** One campaign's day in the digest. */
export interface DigestLine {
  campaign: string;
  starts: number;
  joinRequests: number;
  joins: number;
  leaves: number;
  bans: number;
  /** Revenue of the day per currency (never added across currencies); none: left out of the line. */
  revenue?: { amount: string; currency: string }[];
}

export function digestMessage(day: string, timeZone: string, lines: readonly DigestLine[], now: number): AlertMessage {
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const body = lines.length === 0 ? ["no campaigns"] : lines.map((l) => {
    const money = l.revenue?.length ? `, revenue ${l.revenue.map((r) => `${r.amount}${r.currency ? ` ${r.currency}` : ""}`).join(", ")}` : "";
    return `${l.campaign}: ${plural(l.starts, "Start")}, ${plural(l.joinRequests, "join request")}, ${plural(l.joins, "join")}, ${plural(l.leaves, "leave")}, ${plural(l.bans, "ban")}${money}`;
  });
  return {
    text: [`[tgcpa] Daily digest for ${day} (${timeZone})`, ...body].join("\n"),
    alert: { kind: "digest", subject: day, state: "digest", since: null, at: new Date(now).toISOString() },
  };
}
