// The port's rows (src/storage/rows.ts) as PostgreSQL columns: each row type's SELECT list and its
// mapper (int8 columns back to numbers). One place, so every store reads a row the same way.
import type {
  AttemptRow, BotRow, ChatRow, ClickRow, CostRow, LeadProfileRow, IdempotentAnswer, InboundLogRow, InviteLinkRow, JournalRow, LeadEventRow, LeadRow, PostbackRow, SessionRow,
} from "../rows.ts";
import type { BotLeaseRow, CircuitRow, InstanceRow } from "../port-cluster.ts";
import type { AlertIncidentRow } from "../rows.ts";
import { rowShape } from "./query.ts";

export const LEAD = rowShape<LeadRow>({
  id: ["id", "int"], campaignId: ["campaign_id", "int"], subscriber: ["subscriber", "int"], click: ["click", "plain"],
  username: ["username", "plain"], chatId: ["chat_id", "int?"], status: ["status", "plain"], joinedAt: ["joined_at", "int?"],
  createdAt: ["created_at", "int"], updatedAt: ["updated_at", "int"], clickId: ["click_id", "int?"],
});

export const LEAD_EVENT = rowShape<LeadEventRow>({
  id: ["id", "int"], leadId: ["lead_id", "int"], campaignId: ["campaign_id", "int"], status: ["status", "plain"],
  prevStatus: ["prev_status", "plain"], source: ["source", "plain"], reason: ["reason", "plain"], payout: ["payout", "plain"],
  currency: ["currency", "plain"], inviteLink: ["invite_link", "plain"], occurredAt: ["occurred_at", "int"], createdAt: ["created_at", "int"],
});

export const IDEMPOTENT_ANSWER = rowShape<IdempotentAnswer>({
  key: ["key", "plain"], requestHash: ["request_hash", "plain"], statusCode: ["status_code", "int"], response: ["response", "plain"],
  createdAt: ["created_at", "int"], client: ["client", "plain"], spent: ["spent", "int"], answerHash: ["answer_hash", "plain"],
});

export const POSTBACK = rowShape<PostbackRow>({
  id: ["id", "int"], channel: ["channel", "plain"], leadId: ["lead_id", "int"], eventId: ["event_id", "int"], campaignId: ["campaign_id", "int"],
  status: ["status", "plain"], template: ["template", "plain"], method: ["method", "plain"], url: ["url", "plain"], body: ["body", "plain"],
  contentType: ["content_type", "plain"], verdict: ["verdict", "plain"], host: ["host", "plain"], state: ["state", "plain"],
  reason: ["reason", "plain"], attempts: ["attempts", "int"], earlierAttempts: ["earlier_attempts", "int"], nextAttemptAt: ["next_attempt_at", "int"], leaseToken: ["lease_token", "int"],
  leaseExpiresAt: ["lease_expires_at", "int?"], lastHttpStatus: ["last_http_status", "int?"], createdAt: ["created_at", "int"],
  updatedAt: ["updated_at", "int"], finishedAt: ["finished_at", "int?"],
});

export const ATTEMPT = rowShape<AttemptRow>({
  id: ["id", "int"], postbackId: ["postback_id", "int"], attempt: ["attempt", "int"], startedAt: ["started_at", "int"],
  durationMs: ["duration_ms", "int"], url: ["url", "plain"], httpStatus: ["http_status", "int?"], outcome: ["outcome", "plain"],
  error: ["error", "plain"], responseHead: ["response_head", "plain"],
});

export const JOURNAL = rowShape<JournalRow>({
  id: ["id", "int"], kind: ["kind", "plain"], campaignId: ["campaign_id", "int?"], subscriber: ["subscriber", "int?"],
  chatId: ["chat_id", "int?"], detail: ["detail", "plain"], createdAt: ["created_at", "int"],
});

export const INBOUND_LOG = rowShape<InboundLogRow>({
  id: ["id", "int"], result: ["result", "plain"], leadId: ["lead_id", "int?"], status: ["status", "plain"], params: ["params", "plain"],
  ip: ["ip", "plain"], createdAt: ["created_at", "int"],
});

export const BOT = rowShape<BotRow>({
  name: ["name", "plain"], telegramId: ["telegram_id", "int?"], username: ["username", "plain"], pollingOffset: ["polling_offset", "int"],
  updatedAt: ["updated_at", "int"],
});

export const CHAT = rowShape<ChatRow>({
  bot: ["bot", "plain"], chatId: ["chat_id", "int"], title: ["title", "plain"], type: ["type", "plain"], status: ["status", "plain"],
  rights: ["rights", "plain"], updatedAt: ["updated_at", "int"],
});

export const INVITE_LINK = rowShape<InviteLinkRow>({
  bot: ["bot", "plain"], campaignId: ["campaign_id", "int"], link: ["link", "plain"], createsJoinRequest: ["creates_join_request", "plain"],
  createdAt: ["created_at", "int"],
});

export const SESSION = rowShape<SessionRow>({
  id: ["id", "plain"], keyCheck: ["key_check", "plain"], createdAt: ["created_at", "int"], expiresAt: ["expires_at", "int"],
});

export const INSTANCE = rowShape<InstanceRow>({
  id: ["id", "plain"], version: ["version", "plain"], commit: ['"commit"', "plain"], configHash: ["config_hash", "plain"],
  hostname: ["hostname", "plain"], pid: ["pid", "int"], startedAt: ["started_at", "int"], heartbeatAt: ["heartbeat_at", "int"],
});

export const BOT_LEASE = rowShape<BotLeaseRow>({
  bot: ["bot", "plain"], owner: ["owner", "plain"], epoch: ["epoch", "int"], expiresAt: ["expires_at", "int"],
  acquiredAt: ["acquired_at", "int"], updatedAt: ["updated_at", "int"],
});

export const CIRCUIT = rowShape<CircuitRow>({
  host: ["host", "plain"], openUntil: ["open_until", "int"], failures: ["failures", "int"], openedBy: ["opened_by", "plain"],
  updatedAt: ["updated_at", "int"],
});

export const CLICK = rowShape<ClickRow>({
  id: ["id", "int"], token: ["token", "plain"], campaignId: ["campaign_id", "int"], params: ["params", "plain"], fbc: ["fbc", "plain"],
  fbp: ["fbp", "plain"], ip: ["ip", "plain"], userAgent: ["user_agent", "plain"], referrer: ["referrer", "plain"],
  landingUrl: ["landing_url", "plain"], cut: ["cut", "int"], createdAt: ["created_at", "int"],
});

export const PROFILE = rowShape<LeadProfileRow>({
  leadId: ["lead_id", "int"], campaignId: ["campaign_id", "int"], premium: ["premium", "plain"], language: ["language", "plain"],
  hasUsername: ["has_username", "plain"], startedAt: ["started_at", "int?"], startToJoinMs: ["start_to_join_ms", "int?"],
  fastLeave: ["fast_leave", "plain"], quality: ["quality", "int"], qualityReasons: ["quality_reasons", "plain"],
  welcomeVariant: ["welcome_variant", "plain"], firstJoinedAt: ["first_joined_at", "int?"], cohortBand: ["cohort_band", "plain"],
  updatedAt: ["updated_at", "int"],
});

export const COST = rowShape<CostRow>({
  campaignId: ["campaign_id", "int"], day: ["day", "plain"], currency: ["currency", "plain"], amountMicros: ["amount_micros", "int"],
  source: ["source", "plain"], updatedAt: ["updated_at", "int"],
});

export const ALERT_INCIDENT = rowShape<AlertIncidentRow>({
  id: ["id", "int"], key: ["key", "plain"], kind: ["kind", "plain"], subject: ["subject", "plain"], state: ["state", "plain"],
  badSince: ["bad_since", "int"], goodSince: ["good_since", "int?"], firedAt: ["fired_at", "int?"], resolvedAt: ["resolved_at", "int?"],
  detail: ["detail", "plain"], createdAt: ["created_at", "int"], updatedAt: ["updated_at", "int"],
});
