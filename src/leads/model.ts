import { t } from "elysia";
import { STATUSES } from "../domain/status.ts";
import { iso } from "../lib/json.ts";
import type { LeadEventRow, LeadRow } from "./repository.ts";
import type { postbacks } from "../db/schema.ts";

export const StatusSchema = t.Union(STATUSES.map((s) => t.Literal(s)), {
  description: "wait | hold | approve | cancel | trash",
  error: "must be one of wait, hold, approve, cancel, trash",
});

export const EventBody = t.Object({
  campaign: t.String({ minLength: 1, maxLength: 63, description: "campaign code", error: "must be a campaign code (1-63 characters)" }),
  // Checked in the handler: Elysia would coerce strings like " " or "0x10" into an integer branch.
  subscriber: t.Any({ description: "subscriber's Telegram user id: an integer, or a string of decimal digits", examples: [123456789] }),
  status: StatusSchema,
  click: t.Optional(t.String({ maxLength: 4096, description: "tracker click id" })),
  username: t.Optional(t.String({ maxLength: 64, description: "@username without @" })),
  chat: t.Optional(t.Integer({ description: "chat id; defaults to the campaign's" })),
  time: t.Optional(t.Number({ minimum: 0, maximum: 253402300799, description: "UNIX time in seconds; defaults to now", error: "must be UNIX seconds between 0 and 253402300799 (year 9999)" })),
});

export type CodeOf = (campaignId: number) => string;

export const leadJson = (l: LeadRow, codeOf: CodeOf) => ({
  id: l.id,
  campaign: codeOf(l.campaignId),
  subscriber: l.subscriber,
  click: l.click,
  username: l.username,
  chat: l.chatId,
  status: l.status,
  joined_at: iso(l.joinedAt),
  created_at: iso(l.createdAt),
  updated_at: iso(l.updatedAt),
});

export const eventJson = (e: LeadEventRow) => ({
  id: e.id,
  lead: e.leadId,
  status: e.status,
  prev_status: e.prevStatus,
  source: e.source,
  reason: e.reason,
  occurred_at: iso(e.occurredAt),
  created_at: iso(e.createdAt),
});

export const postbackJson = (p: typeof postbacks.$inferSelect, codeOf: CodeOf) => ({
  id: p.id,
  lead: p.leadId,
  event: p.eventId,
  campaign: codeOf(p.campaignId),
  status: p.status,
  template: p.template,
  method: p.method,
  url: p.url,
  body: p.body,
  host: p.host,
  state: p.state,
  reason: p.reason,
  attempts: p.attempts,
  last_http_status: p.lastHttpStatus,
  next_attempt_at: p.state === "pending" ? iso(p.nextAttemptAt) : null,
  created_at: iso(p.createdAt),
  finished_at: iso(p.finishedAt),
});
