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

// The other tables: sessions, the journal, stored answers, the inbound log, Telegram's (schema-ops.ts);
// the buyer's insights, alerts and the cluster (schema-insights.ts).
export * from "./schema-ops.ts";
export * from "./schema-insights.ts";
