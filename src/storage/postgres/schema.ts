// The PostgreSQL schema: the same tables, columns, keys and indexes as the SQLite one
// (src/storage/sqlite/schema.ts, which keeps the meaning of each column; test/storage/schema-parity.test.ts
// holds the two together). Types: times (epoch ms), ids and Telegram ids are int8 read as JS
// numbers (exact up to 2^53 - 1); bounded counters (attempts, HTTP statuses, durations in ms,
// per-bucket counts) are int4; booleans are boolean; JSON is jsonb. Ids are identity columns
// "by default", so copy-to-postgres can keep the SQLite ids and then move each sequence past them.

import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { CHANNELS, EVENT_SOURCES, POSTBACK_STATES, STATUSES } from "../../domain/status.ts";
import { identity, int8, json } from "./schema-columns.ts";

export const campaigns = pgTable("campaigns", {
  id: identity(),
  code: text("code").notNull().unique(),
  name: text("name").notNull().default(""),
  bot: text("bot"),
  chatId: int8("chat_id"),
  paused: boolean("paused").notNull().default(false),
  inConfig: boolean("in_config").notNull().default(true),
  createdAt: int8("created_at").notNull(),
  updatedAt: int8("updated_at").notNull(),
});

export const leads = pgTable("leads", {
  id: identity(),
  campaignId: int8("campaign_id").notNull().references(() => campaigns.id),
  subscriber: int8("subscriber").notNull(),
  click: text("click").notNull().default(""),
  username: text("username").notNull().default(""),
  chatId: int8("chat_id"),
  status: text("status", { enum: STATUSES }).notNull(),
  joinedAt: int8("joined_at"),
  createdAt: int8("created_at").notNull(),
  updatedAt: int8("updated_at").notNull(),
  clickId: int8("click_id"),
}, (t) => [
  uniqueIndex("leads_campaign_subscriber").on(t.campaignId, t.subscriber),
  index("leads_campaign_click").on(t.campaignId, t.click),
  index("leads_click").on(t.click),
  index("leads_created").on(t.createdAt),
  index("leads_campaign_created").on(t.campaignId, t.createdAt),
  // SQLite's `username COLLATE NOCASE`: PostgreSQL has no NOCASE collation, so the search must
  // compare lower(username) to lower($1) to use this index.
  index("leads_username").on(sql`lower(${t.username})`).where(sql`username <> ''`),
  index("leads_click_id").on(t.clickId).where(sql`click_id IS NOT NULL`),
]);

export const clicks = pgTable("clicks", {
  id: identity(),
  token: text("token").notNull(),
  campaignId: int8("campaign_id").notNull(),
  params: json<Record<string, string>>("params").notNull(),
  fbc: text("fbc"),
  fbp: text("fbp"),
  ip: text("ip"),
  userAgent: text("user_agent"),
  referrer: text("referrer"),
  landingUrl: text("landing_url"),
  cut: integer("cut").notNull().default(0),
  createdAt: int8("created_at").notNull(),
}, (t) => [uniqueIndex("clicks_token").on(t.token), index("clicks_created").on(t.createdAt)]);

export const clickStats = pgTable("click_stats", {
  campaignId: int8("campaign_id").notNull(),
  param: text("param").notNull(),
  /** Minutes a bucket spans: 15 or 1440 (a UTC day). */
  span: integer("span").notNull(),
  /** Epoch ms of the bucket's start. */
  bucket: int8("bucket").notNull(),
  value: text("value").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  events: integer("events").notNull().default(0),
  leads: integer("leads").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.param, t.span, t.bucket, t.value, t.status] })]);

export const leadEvents = pgTable("lead_events", {
  id: identity(),
  leadId: int8("lead_id").notNull().references(() => leads.id),
  campaignId: int8("campaign_id").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  prevStatus: text("prev_status", { enum: STATUSES }),
  source: text("source", { enum: EVENT_SOURCES }).notNull(),
  reason: text("reason"),
  payout: text("payout"),
  currency: text("currency"),
  inviteLink: text("invite_link"),
  occurredAt: int8("occurred_at").notNull(),
  createdAt: int8("created_at").notNull(),
}, (t) => [
  index("lead_events_lead").on(t.leadId, t.id),
  index("lead_events_campaign_time").on(t.campaignId, t.occurredAt),
]);

export const postbacks = pgTable("postbacks", {
  id: identity(),
  channel: text("channel", { enum: CHANNELS }).notNull().default("http"),
  leadId: int8("lead_id").notNull(),
  eventId: int8("event_id").notNull(),
  campaignId: int8("campaign_id").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  template: text("template").notNull(),
  method: text("method").notNull(),
  url: text("url").notNull(),
  body: text("body"),
  contentType: text("content_type"),
  verdict: text("verdict"),
  host: text("host").notNull(),
  state: text("state", { enum: POSTBACK_STATES }).notNull(),
  reason: text("reason"),
  attempts: integer("attempts").notNull().default(0),
  earlierAttempts: integer("earlier_attempts").notNull().default(0),
  nextAttemptAt: int8("next_attempt_at").notNull(),
  /** Bumped once per claim of this row: the length of its retry ladder plus its re-sends. */
  leaseToken: integer("lease_token").notNull().default(0),
  leaseExpiresAt: int8("lease_expires_at"),
  lastHttpStatus: integer("last_http_status"),
  createdAt: int8("created_at").notNull(),
  updatedAt: int8("updated_at").notNull(),
  finishedAt: int8("finished_at"),
}, (t) => [
  index("postbacks_host_due").on(t.host, t.nextAttemptAt, t.id).where(sql`state = 'pending'`),
  index("postbacks_lead").on(t.leadId, t.host, t.id),
  index("postbacks_state").on(t.state, t.id),
  index("postbacks_campaign").on(t.campaignId, t.id),
  index("postbacks_host").on(t.host, t.id),
  index("postbacks_finished").on(t.finishedAt).where(sql`state = 'delivered'`),
  index("postbacks_created").on(t.createdAt),
  index("postbacks_open").on(t.campaignId, t.createdAt, t.state).where(sql`channel = 'http' AND state <> 'delivered'`),
]);

export const deliveryAttempts = pgTable("delivery_attempts", {
  id: identity(),
  postbackId: int8("postback_id").notNull(),
  attempt: integer("attempt").notNull(),
  startedAt: int8("started_at").notNull(),
  /** ms; one attempt is bounded by delivery.timeout_ms (at most 300,000). */
  durationMs: integer("duration_ms").notNull(),
  url: text("url").notNull(),
  httpStatus: integer("http_status"),
  outcome: text("outcome").notNull(),
  error: text("error"),
  responseHead: text("response_head"),
}, (t) => [index("delivery_attempts_postback").on(t.postbackId, t.id)]);

export const leadStats = pgTable("lead_stats", {
  campaignId: int8("campaign_id").notNull(),
  /** Epoch ms of the 15-minute bucket's start. */
  bucket: int8("bucket").notNull(),
  status: text("status", { enum: STATUSES }).notNull(),
  events: integer("events").notNull().default(0),
  leads: integer("leads").notNull().default(0),
  postbacks: integer("postbacks").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.status] })]);

// The other tables (schema-ops.ts, schema-insights.ts), as in SQLite.
export * from "./schema-ops.ts";
export * from "./schema-insights.ts";
