import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { CHANNELS, EVENT_SOURCES, POSTBACK_STATES, STATUSES } from "../../domain/status.ts";

/** Times are epoch milliseconds (integer) throughout. */

/** Campaigns mirrored from the config by code, so leads keep a stable id across reloads. */
export const campaigns = sqliteTable("campaigns", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  code: text("code").notNull().unique(),
  name: text("name").notNull().default(""),
  bot: text("bot"),
  chatId: integer("chat_id"),
  paused: integer("paused", { mode: "boolean" }).notNull().default(false),
  /** false once the campaign is no longer in the config; its leads stay. */
  inConfig: integer("in_config", { mode: "boolean" }).notNull().default(true),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const leads = sqliteTable("leads", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  campaignId: integer("campaign_id").notNull().references(() => campaigns.id),
  subscriber: integer("subscriber").notNull(),
  click: text("click").notNull().default(""),
  username: text("username").notNull().default(""),
  chatId: integer("chat_id"),
  status: text("status", { enum: STATUSES }).notNull(),
  joinedAt: integer("joined_at"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** The click (clicks.id) of tgcpa's click link whose token the lead's Start carried; its parameters are macros. */
  clickId: integer("click_id"),
}, (t) => [
  uniqueIndex("leads_campaign_subscriber").on(t.campaignId, t.subscriber),
  index("leads_campaign_click").on(t.campaignId, t.click),
  // An inbound postback by click without a campaign; its rowid order serves ORDER BY id DESC.
  index("leads_click").on(t.click),
  index("leads_created").on(t.createdAt),
  // A campaign's leads of a period (GET /api/leads?campaign&since&until, the dashboard's date filter).
  index("leads_campaign_created").on(t.campaignId, t.createdAt),
  // Leads search by username (case-insensitive, as Telegram treats usernames); most leads have none.
  index("leads_username").on(sql`${t.username} COLLATE NOCASE`).where(sql`username <> ''`),
  // Whether a click is still used by a lead (its retention); most leads have none.
  index("leads_click_id").on(t.clickId).where(sql`click_id IS NOT NULL`),
]);

/**
 * Clicks of tgcpa's click link (GET /c/{campaign}): what the visitor brought, kept within the
 * bounds of domain/click-link.ts, found again by the token its redirect put in the Start payload.
 */
export const clicks = sqliteTable("clicks", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** 12 characters of base64url (72 random bits), after `<code>-` in the Start payload. */
  token: text("token").notNull(),
  campaignId: integer("campaign_id").notNull(),
  /** Every query parameter (the first of each name), cut to the bounds. */
  params: text("params", { mode: "json" }).$type<Record<string, string>>().notNull(),
  /** The _fbc cookie, else fb.1.<ms>.<fbclid> built from the fbclid; null without either. */
  fbc: text("fbc"),
  fbp: text("fbp"),
  /** The client address, through server.trusted_proxies. */
  ip: text("ip"),
  userAgent: text("user_agent"),
  referrer: text("referrer"),
  /** The click link's URL as the visitor opened it. */
  landingUrl: text("landing_url"),
  /** Parameters dropped or shortened by the bounds. */
  cut: integer("cut").notNull().default(0),
  createdAt: integer("created_at").notNull(),
}, (t) => [uniqueIndex("clicks_token").on(t.token), index("clicks_created").on(t.createdAt)]);

/**
 * The funnel per value of a click parameter (dashboard.click_groups: utm_source, sub1, …), kept like
 * lead_stats in the transaction of each lead event of a lead with a click: per campaign, parameter,
 * span, bucket, value and status. Each event is counted twice: in its 15-minute bucket (span 15)
 * and in its UTC day (span 1440), so a period reads whole UTC days from the day rows and only its
 * two ends from the 15-minute rows (stats/click-groups.ts): a value-rich parameter over 30 days is
 * read in tens of thousands of rows, not hundreds of thousands.
 */
export const clickStats = sqliteTable("click_stats", {
  campaignId: integer("campaign_id").notNull(),
  param: text("param").notNull(),
  /** Minutes a bucket spans: 15 or 1440 (a UTC day). */
  span: integer("span").notNull(),
  /** Epoch ms of the bucket's start. */
  bucket: integer("bucket").notNull(),
  value: text("value").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  events: integer("events").notNull().default(0),
  leads: integer("leads").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.param, t.span, t.bucket, t.value, t.status] })]);

/** Append-only: one row per status change that was applied. */
export const leadEvents = sqliteTable("lead_events", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  leadId: integer("lead_id").notNull().references(() => leads.id),
  campaignId: integer("campaign_id").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  prevStatus: text("prev_status", { enum: STATUSES }),
  source: text("source", { enum: EVENT_SOURCES }).notNull(),
  /** Why postbacks were skipped or withheld (campaign_paused, outside_unsub_window, click_added). */
  reason: text("reason"),
  /** Set by an inbound postback; overrides the campaign's payout for this event's macros. */
  payout: text("payout"),
  currency: text("currency"),
  /** The invite link Telegram named with a join or a join request (chat_member / chat_join_request invite_link), if any. */
  inviteLink: text("invite_link"),
  occurredAt: integer("occurred_at").notNull(),
  createdAt: integer("created_at").notNull(),
}, (t) => [
  index("lead_events_lead").on(t.leadId, t.id),
  index("lead_events_campaign_time").on(t.campaignId, t.occurredAt),
]);

/**
 * The outbox: one HTTP request to a tracker for one lead event and one template — or, with
 * channel `telegram`, one Bot API call (welcome message, join-request approval) that must not be lost.
 */
export const postbacks = sqliteTable("postbacks", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** http: a postback to a tracker; telegram: a Bot API call (method, body JSON; url tg://bot/method). */
  channel: text("channel", { enum: CHANNELS }).notNull().default("http"),
  leadId: integer("lead_id").notNull(),
  eventId: integer("event_id").notNull(),
  campaignId: integer("campaign_id").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  template: text("template").notNull(),
  method: text("method").notNull(),
  url: text("url").notNull(),
  body: text("body"),
  contentType: text("content_type"),
  /** Body verdict of the preset the template came from (keitaro, altercpa), if any. */
  verdict: text("verdict"),
  /** host[:port] of the URL: the unit of ordering, caps and the circuit breaker. */
  host: text("host").notNull(),
  /** pending | delivered | failed | rejected | skipped */
  state: text("state", { enum: POSTBACK_STATES }).notNull(),
  reason: text("reason"),
  attempts: integer("attempts").notNull().default(0),
  /** Attempts made before the row's latest re-send (which starts a fresh ladder): the attempt log numbers on from them. */
  earlierAttempts: integer("earlier_attempts").notNull().default(0),
  nextAttemptAt: integer("next_attempt_at").notNull(),
  /** Fencing token: bumped on every claim; a completion must present the current one. */
  leaseToken: integer("lease_token").notNull().default(0),
  leaseExpiresAt: integer("lease_expires_at"),
  lastHttpStatus: integer("last_http_status"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  finishedAt: integer("finished_at"),
}, (t) => [
  // The due rows of each host in due order. A claim moves next_attempt_at to the lease's expiry, so
  // this one index serves claims, the next wake-up and the recovery of rows leased by a process
  // that died; led by the host, so a claim reads only hosts that may take rows now and never walks
  // past the backlog of a paused or paced one.
  index("postbacks_host_due").on(t.host, t.nextAttemptAt, t.id).where(sql`state = 'pending'`),
  // Per-lead order (an earlier pending row to the same host) and a lead's postbacks. Not partial:
  // its entry never changes when a row is claimed or finished.
  index("postbacks_lead").on(t.leadId, t.host, t.id),
  index("postbacks_state").on(t.state, t.id),
  index("postbacks_campaign").on(t.campaignId, t.id),
  index("postbacks_host").on(t.host, t.id),
  index("postbacks_finished").on(t.finishedAt).where(sql`state = 'delivered'`),
  // The outbox filtered by time (GET /api/postbacks?since&until, the dashboard's date filter).
  index("postbacks_created").on(t.createdAt),
  // Postback outcomes of a campaign over a period (GET /api/stats): the rows not delivered, by
  // creation time. Delivered rows (the bulk) stay out of it; they are the counted total minus these.
  index("postbacks_open").on(t.campaignId, t.createdAt, t.state).where(sql`channel = 'http' AND state <> 'delivered'`),
]);

export const deliveryAttempts = sqliteTable("delivery_attempts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  postbackId: integer("postback_id").notNull(),
  attempt: integer("attempt").notNull(),
  startedAt: integer("started_at").notNull(),
  durationMs: integer("duration_ms").notNull(),
  url: text("url").notNull(),
  httpStatus: integer("http_status"),
  /** delivered | retry | rejected */
  outcome: text("outcome").notNull(),
  error: text("error"),
  /** First 1 KiB of the response body. */
  responseHead: text("response_head"),
}, (t) => [index("delivery_attempts_postback").on(t.postbackId, t.id)]);

/**
 * Per-period counters, written in the transaction of each lead event (leads/service.ts writeDecision):
 * one row per campaign, 15-minute bucket of UTC time (epoch ms of its start) and status. `events`
 * and `leads` are bucketed by the event's time; `leads` counts the leads whose first event of that
 * status this is. `postbacks` counts the postback rows (channel http) the event created, bucketed
 * by their creation time. 15 minutes: every time zone's day is a whole number of buckets.
 */
export const leadStats = sqliteTable("lead_stats", {
  campaignId: integer("campaign_id").notNull(),
  bucket: integer("bucket").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  events: integer("events").notNull().default(0),
  leads: integer("leads").notNull().default(0),
  postbacks: integer("postbacks").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.status] })]);

/**
 * Dashboard sign-ins. The cookie carries a random token; only its SHA-256 is stored, with an
 * HMAC of the API key it was opened with, keyed by the token: a session ends when its key leaves
 * the config, and neither the token nor the key can be read back from the database.
 */
export const dashboardSessions = sqliteTable("dashboard_sessions", {
  id: text("id").primaryKey(),
  keyCheck: text("key_check").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/** Activity that is not a lead event: organic joins, ignored events, config reloads. */
export const journal = sqliteTable("journal", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  kind: text("kind").notNull(),
  campaignId: integer("campaign_id"),
  subscriber: integer("subscriber"),
  chatId: integer("chat_id"),
  detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
  createdAt: integer("created_at").notNull(),
}, (t) => [
  index("journal_kind_subscriber").on(t.kind, t.subscriber, t.createdAt),
  index("journal_created").on(t.createdAt),
]);

/**
 * Stored answers of POST /api/events by Idempotency-Key, written in the event's own transaction.
 * Each client (API key) has a budget of bytes: `spent` is its running total through this row, so
 * its oldest rows beyond the budget are one index range of idempotency_keys_client.
 */
export const idempotencyKeys = sqliteTable("idempotency_keys", {
  key: text("key").primaryKey(),
  requestHash: text("request_hash").notNull(),
  statusCode: integer("status_code").notNull(),
  /** The answer; with answer_hash set, what rebuilds it (leads/idempotent-answer.ts). */
  response: text("response").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Who stored it: a digest of its API key (never the key), `session` for the dashboard; '' before budgets. */
  client: text("client").notNull().default(""),
  /** Bytes the client's stored answers have cost through this one (a running total). */
  spent: integer("spent").notNull().default(0),
  /** SHA-256 (hex) of the answer rebuilt from `response`; null when `response` is the answer itself. */
  answerHash: text("answer_hash"),
}, (t) => [index("idempotency_keys_client").on(t.client, t.spent)]);

/** Every inbound postback (GET|POST /api/postback) with its result code. */
export const inboundLog = sqliteTable("inbound_log", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** ok | no-changes | access | no-click | bad-click | bad-status | db */
  result: text("result").notNull(),
  leadId: integer("lead_id"),
  status: text("status"),
  /** The request's parameters, the key removed. */
  params: text("params", { mode: "json" }).$type<Record<string, string>>().notNull(),
  ip: text("ip"),
  createdAt: integer("created_at").notNull(),
}, (t) => [index("inbound_log_created").on(t.createdAt), index("inbound_log_result").on(t.result, t.id)]);

/** A configured bot as Telegram knows it (getMe), and its polling position. */
export const bots = sqliteTable("bots", {
  name: text("name").primaryKey(),
  telegramId: integer("telegram_id"),
  username: text("username"),
  /** getUpdates offset: the next update_id to ask for (polling mode). */
  pollingOffset: integer("polling_offset").notNull().default(0),
  updatedAt: integer("updated_at").notNull(),
});

/** Chats where a bot is (or was) a member, from my_chat_member updates. */
export const chats = sqliteTable("chats", {
  bot: text("bot").notNull(),
  chatId: integer("chat_id").notNull(),
  title: text("title").notNull().default(""),
  type: text("type").notNull().default(""),
  /** The bot's own status there: creator, administrator, member, left, kicked. */
  status: text("status").notNull(),
  /** The bot's admin rights as Telegram sent them. */
  rights: text("rights", { mode: "json" }).$type<Record<string, boolean>>(),
  updatedAt: integer("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.chatId] })]);

/** Update ids already applied per bot: the same update twice changes nothing. */
export const processedUpdates = sqliteTable("processed_updates", {
  bot: text("bot").notNull(),
  updateId: integer("update_id").notNull(),
  createdAt: integer("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.updateId] }), index("processed_updates_created").on(t.createdAt)]);

/** The invite link a bot created for a campaign (one per campaign and bot). */
export const inviteLinks = sqliteTable("invite_links", {
  bot: text("bot").notNull(),
  campaignId: integer("campaign_id").notNull(),
  link: text("link").notNull(),
  createsJoinRequest: integer("creates_join_request", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.campaignId] })]);

/** Telegram file_id of a local media file, per bot (a file_id belongs to one bot). */
export const mediaCache = sqliteTable("media_cache", {
  bot: text("bot").notNull(),
  path: text("path").notNull(),
  fileId: text("file_id").notNull(),
  createdAt: integer("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.path] })]);

/**
 * One row, rewritten through the group commit when nothing else has written for a while: whether
 * that write succeeds tells /health and tgcpa_storage_writable that the disk still takes writes.
 */
export const storageProbe = sqliteTable("storage_probe", {
  id: integer("id").primaryKey(),
  writtenAt: integer("written_at").notNull(),
});

/**
 * Alerts (alerts: in the config): one row per incident of one cause (key = kind:subject, e.g.
 * bot_down:main), from the moment the cause was seen bad (pending) through the alert it fired
 * (firing), a cause seen fine again (recovering) to the recovery it sent (resolved); a pending
 * incident whose cause ended before it fired is deleted. The newest row of each key is that
 * alert's state, so alerts survive restarts. A daily digest is a row of kind digest per local
 * date it was sent for (state sent). The messages themselves are outbox rows.
 */
export const alertIncidents = sqliteTable("alert_incidents", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  key: text("key").notNull(),
  kind: text("kind").notNull(),
  subject: text("subject").notNull(),
  /** pending | firing | recovering | resolved | sent (digest) */
  state: text("state").notNull(),
  /** Since when the cause has been bad. */
  badSince: integer("bad_since").notNull(),
  /** While recovering: since when the cause has been fine. */
  goodSince: integer("good_since"),
  firedAt: integer("fired_at"),
  resolvedAt: integer("resolved_at"),
  /** What the alert said when it fired. */
  detail: text("detail"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
}, (t) => [index("alert_incidents_key").on(t.key, t.id), index("alert_incidents_updated").on(t.updatedAt)]);

/**
 * What tgcpa learned of each lead's subscriber (issue 22), one row per lead, written in the
 * transaction of each of its events (leads/profile.ts): the Telegram profile seen at its Start,
 * join request or join, the quality score (0–100) with its reasons, the welcome variant it was
 * sent, and its first join with the quality band it had then (the retention cohort it belongs to).
 */
export const leadProfiles = sqliteTable("lead_profiles", {
  leadId: integer("lead_id").primaryKey(),
  campaignId: integer("campaign_id").notNull(),
  /** null: no Telegram profile seen (a lead fed through the API). */
  premium: integer("premium", { mode: "boolean" }),
  language: text("language"),
  hasUsername: integer("has_username", { mode: "boolean" }),
  /** The Start's time (the lead's first event, which may be older than the row's arrival). */
  startedAt: integer("started_at"),
  /** From the Start to the first join, ms. */
  startToJoinMs: integer("start_to_join_ms"),
  fastLeave: integer("fast_leave", { mode: "boolean" }).notNull().default(false),
  quality: integer("quality").notNull(),
  /** [{code, points}] that moved the score from its base (domain/quality.ts). */
  qualityReasons: text("quality_reasons", { mode: "json" }).$type<{ code: string; points: number }[]>().notNull(),
  /** The welcome variant's name; null when the campaign has none or one plain welcome. */
  welcomeVariant: text("welcome_variant"),
  firstJoinedAt: integer("first_joined_at"),
  /** The quality band at the first join: the lead's retention cohort is (day of first join, variant, band). */
  cohortBand: text("cohort_band"),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Retention cohorts (GET /api/retention), written in the transaction of each join and leave
 * (domain/cohorts.ts): per campaign, 15-minute bucket of the first join (UTC epoch ms, as in
 * lead_stats, so every time zone's day is a whole number of buckets), welcome variant ('' for
 * none) and quality band: the leads that first joined then, and of them how many were out of the
 * chat N days (N × 24 h) after their first join — leaves minus re-joins before that moment.
 */
export const retentionCounts = sqliteTable("retention_counts", {
  campaignId: integer("campaign_id").notNull(),
  bucket: integer("bucket").notNull(),
  variant: text("variant").notNull().default(""),
  band: text("band").notNull(),
  joined: integer("joined").notNull().default(0),
  out1d: integer("out_1d").notNull().default(0),
  out7d: integer("out_7d").notNull().default(0),
  out14d: integer("out_14d").notNull().default(0),
  out30d: integer("out_30d").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.variant, t.band] })]);

/**
 * Revenue (GET /api/money), written in the transaction of each lead event that earned a payout
 * (domain/money.ts revenueOf): per campaign, 15-minute bucket of the event's time and currency
 * ('' when none was given), the sum in millionths of the currency and the events.
 */
export const revenueCounts = sqliteTable("revenue_counts", {
  campaignId: integer("campaign_id").notNull(),
  bucket: integer("bucket").notNull(),
  currency: text("currency").notNull(),
  amountMicros: integer("amount_micros").notNull().default(0),
  events: integer("events").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.currency] })]);

/** What a campaign cost on a day (a date in dashboard.timezone): one amount per campaign and day, replaced by each new entry. */
export const campaignCosts = sqliteTable("campaign_costs", {
  campaignId: integer("campaign_id").notNull(),
  day: text("day").notNull(),
  currency: text("currency").notNull(),
  amountMicros: integer("amount_micros").notNull(),
  /** api (PUT /api/costs/…) | csv (the dashboard's upload) */
  source: text("source").notNull(),
  updatedAt: integer("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.campaignId, t.day] })]);

/**
 * The funnel per welcome variant and quality band (GET /api/stats by_variant, by_quality), written
 * with the lead's profile: per campaign, 15-minute bucket, variant ('' for none) and band, the
 * Starts (new leads, at their Start, with the band then) and first joins (at the join, with the
 * band then).
 */
export const funnelCounts = sqliteTable("funnel_counts", {
  campaignId: integer("campaign_id").notNull(),
  bucket: integer("bucket").notNull(),
  variant: text("variant").notNull().default(""),
  band: text("band").notNull(),
  starts: integer("starts").notNull().default(0),
  joins: integer("joins").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.variant, t.band] })]);
// ---- several instances on one database (PostgreSQL; see src/storage/port-cluster.ts). SQLite has
// the tables too, so both schemas stay one; on SQLite one process owns everything and writes none.

/** The instances running on the database, each with its version, config hash and last heartbeat. */
export const instances = sqliteTable("instances", {
  id: text("id").primaryKey(),
  version: text("version").notNull(),
  commit: text("commit"),
  /** SHA-256 (first 16 hex digits) of the config file it runs on. */
  configHash: text("config_hash").notNull(),
  hostname: text("hostname").notNull().default(""),
  pid: integer("pid").notNull(),
  startedAt: integer("started_at").notNull(),
  heartbeatAt: integer("heartbeat_at").notNull(),
});

/** One owner per bot: it alone polls (or sets the webhook) and sends the bot's Telegram rows until expires_at. */
export const botLeases = sqliteTable("bot_leases", {
  bot: text("bot").primaryKey(),
  /** The owner's instance id. */
  owner: text("owner").notNull(),
  /** The number of owners so far: one more at each takeover. */
  epoch: integer("epoch").notNull(),
  expiresAt: integer("expires_at").notNull(),
  acquiredAt: integer("acquired_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** A tracker host whose circuit an instance opened: every instance pauses it until open_until. */
export const circuits = sqliteTable("circuits", {
  host: text("host").primaryKey(),
  openUntil: integer("open_until").notNull(),
  failures: integer("failures").notNull(),
  openedBy: text("opened_by").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
