// The rows of tgcpa's tables as the application sees them, whatever engine stores them. Times are
// epoch milliseconds and ids are integers throughout (every engine reads them back as numbers).
import type { Channel, EventSource, PostbackState, Status } from "../domain/status.ts";

export interface CampaignRow {
  id: number;
  code: string;
  inConfig: boolean;
}

export interface LeadRow {
  id: number;
  campaignId: number;
  subscriber: number;
  click: string;
  username: string;
  chatId: number | null;
  status: Status;
  joinedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The click link's click whose token the lead's Start carried (its parameters are macros), if any. */
  clickId: number | null;
}

export type NewLead = Omit<LeadRow, "id" | "clickId"> & { clickId?: number | null };

/** One click of tgcpa's click link (GET /c/{campaign}), within the bounds of domain/click-link.ts. */
export interface ClickRow {
  id: number;
  /** 12 characters of base64url, after `<code>-` in the Start payload. */
  token: string;
  campaignId: number;
  /** Every query parameter (the first of each name). */
  params: Record<string, string>;
  /** The _fbc cookie, else fb.1.<ms>.<fbclid>. */
  fbc: string | null;
  fbp: string | null;
  ip: string | null;
  userAgent: string | null;
  referrer: string | null;
  landingUrl: string | null;
  /** Parameters dropped or shortened by the bounds. */
  cut: number;
  createdAt: number;
}

export type NewClick = Omit<ClickRow, "id">;

/** Counter sums of a click parameter's values (click_stats) over a period. */
export interface ClickGroupSums {
  value: string;
  status: string;
  events: number;
  leads: number;
}

/** Append-only: one row per status change that was applied. */
export interface LeadEventRow {
  id: number;
  leadId: number;
  campaignId: number;
  status: Status;
  prevStatus: Status | null;
  source: EventSource;
  /** Why postbacks were skipped or withheld (campaign_paused, outside_unsub_window, click_added). */
  reason: string | null;
  /** Set by an inbound postback; overrides the campaign's payout for this event's macros. */
  payout: string | null;
  currency: string | null;
  /** The invite link Telegram named with a join or join request, if it gave one. */
  inviteLink: string | null;
  occurredAt: number;
  createdAt: number;
}

export type NewLeadEvent = Omit<LeadEventRow, "id" | "inviteLink"> & Partial<Pick<LeadEventRow, "inviteLink">>;

/** One outbox row: an HTTP request to a tracker, or (channel telegram) a Bot API call. */
export interface PostbackRow {
  id: number;
  channel: Channel;
  leadId: number;
  eventId: number;
  campaignId: number;
  status: Status;
  template: string;
  method: string;
  url: string;
  body: string | null;
  contentType: string | null;
  verdict: string | null;
  host: string;
  state: PostbackState;
  reason: string | null;
  attempts: number;
  /** Attempts before its latest re-send; the attempt log numbers on from them (#earlierAttempts + 1 is the re-send's first). */
  earlierAttempts: number;
  nextAttemptAt: number;
  leaseToken: number;
  leaseExpiresAt: number | null;
  lastHttpStatus: number | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** What writing an outbox row takes; the lease and attempt columns start empty. */
export type NewPostback = Pick<PostbackRow,
  "leadId" | "eventId" | "campaignId" | "status" | "template" | "method" | "url" | "host" | "state" | "nextAttemptAt" | "createdAt" | "updatedAt"
> & Partial<Pick<PostbackRow, "channel" | "body" | "contentType" | "verdict" | "reason" | "finishedAt">>;

/** What the writer of an outbox row learns back. */
export interface WrittenPostback {
  id: number;
  state: PostbackState;
  url: string;
  reason: string | null;
  template: string;
}

export interface AttemptRow {
  id: number;
  postbackId: number;
  attempt: number;
  startedAt: number;
  durationMs: number;
  url: string;
  httpStatus: number | null;
  outcome: "delivered" | "retry" | "rejected";
  error: string | null;
  /** First 1 KiB of the response body. */
  responseHead: string | null;
}

export type NewAttempt = Omit<AttemptRow, "id">;

/** Activity that is not a lead event: organic joins, ignored events, rejected Starts, blocked bots. */
export interface JournalRow {
  id: number;
  kind: string;
  campaignId: number | null;
  subscriber: number | null;
  chatId: number | null;
  detail: Record<string, unknown> | null;
  createdAt: number;
}

export type NewJournal = Omit<JournalRow, "id" | "campaignId" | "subscriber" | "chatId" | "detail"> &
  Partial<Pick<JournalRow, "campaignId" | "subscriber" | "chatId" | "detail">>;

/** The stored answer of POST /api/events for one Idempotency-Key. */
export interface IdempotentAnswer {
  key: string;
  requestHash: string;
  statusCode: number;
  /** The answer itself, or (answerHash set) what rebuilds it: leads/idempotent-answer.ts. */
  response: string;
  createdAt: number;
  /** Who stored it: a digest of its API key, `session` for the dashboard; '' for rows of earlier versions. */
  client: string;
  /** Bytes the client's stored answers have cost through this one (a running total). */
  spent: number;
  /** SHA-256 (hex) of the answer rebuilt from `response`; null when `response` is the answer. */
  answerHash: string | null;
}

export interface InboundLogRow {
  id: number;
  /** ok | no-changes | access | no-click | bad-click | bad-status | db */
  result: string;
  leadId: number | null;
  status: string | null;
  /** The request's parameters, the key removed. */
  params: Record<string, string>;
  ip: string | null;
  createdAt: number;
}

export type NewInboundLog = Omit<InboundLogRow, "id">;

/** A configured bot as Telegram knows it (getMe), and its polling position. */
export interface BotRow {
  name: string;
  telegramId: number | null;
  username: string | null;
  pollingOffset: number;
  updatedAt: number;
}

/** A chat where a bot is (or was), with the bot's status and admin rights there. */
export interface ChatRow {
  bot: string;
  chatId: number;
  title: string;
  type: string;
  status: string;
  rights: Record<string, boolean> | null;
  updatedAt: number;
}

export interface InviteLinkRow {
  bot: string;
  campaignId: number;
  link: string;
  createsJoinRequest: boolean;
  createdAt: number;
}

/** Telegram's file_id of a local media file, per bot. */
export interface MediaFileRow {
  bot: string;
  path: string;
  fileId: string;
  createdAt: number;
}

export interface SessionRow {
  id: string;
  keyCheck: string;
  createdAt: number;
  expiresAt: number;
}

/** Counter sums of the per-period counters (lead_stats). */
export interface StatusSums {
  status: string;
  events: number;
  leads: number;
  postbacks: number;
}

/** One incident of one alert (or a digest sent): see alert_incidents in the SQLite schema. */
export interface AlertIncidentRow {
  id: number;
  /** kind:subject, e.g. bot_down:main, host_failing:trk.example.com, digest */
  key: string;
  kind: string;
  subject: string;
  state: "pending" | "firing" | "recovering" | "resolved" | "sent";
  badSince: number;
  goodSince: number | null;
  firedAt: number | null;
  resolvedAt: number | null;
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

export type NewAlertIncident = Omit<AlertIncidentRow, "id">;
export type AlertIncidentChange = Partial<Pick<AlertIncidentRow, "state" | "badSince" | "goodSince" | "firedAt" | "resolvedAt" | "detail">> & { updatedAt: number };

/** What tgcpa learned of a lead's subscriber (lead_profiles): its quality signals, score, welcome variant and cohort. */
export interface LeadProfileRow {
  leadId: number;
  campaignId: number;
  premium: boolean | null;
  language: string | null;
  hasUsername: boolean | null;
  /** The Start's time (the lead's first event), epoch ms; null for a lead from before profiles were kept. */
  startedAt: number | null;
  startToJoinMs: number | null;
  fastLeave: boolean;
  quality: number;
  qualityReasons: { code: string; points: number }[];
  welcomeVariant: string | null;
  firstJoinedAt: number | null;
  cohortBand: string | null;
  updatedAt: number;
}

/** Increments of one retention cohort counter row (retention_counts). */
export interface CohortCounterAdd {
  campaignId: number;
  bucket: number;
  variant: string;
  band: string;
  joined: number;
  out1d: number;
  out7d: number;
  out14d: number;
  out30d: number;
}

/** Cohort counter sums of one local day, variant and band. */
export type CohortSumRow = Omit<CohortCounterAdd, "campaignId" | "bucket"> & { day: number };

/** Increments of one revenue counter row (revenue_counts). */
export interface RevenueAdd {
  campaignId: number;
  bucket: number;
  currency: string;
  amountMicros: number;
  events: number;
}

/** What a campaign cost on a day (campaign_costs). */
export interface CostRow {
  campaignId: number;
  /** YYYY-MM-DD in dashboard.timezone. */
  day: string;
  currency: string;
  amountMicros: number;
  source: "api" | "csv";
  updatedAt: number;
}

/** Increments of one funnel counter row (funnel_counts). */
export interface FunnelAdd {
  campaignId: number;
  bucket: number;
  variant: string;
  band: string;
  starts: number;
  joins: number;
}
