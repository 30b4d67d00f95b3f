// The PostgreSQL schema: the same tables, columns, keys and indexes as the SQLite one
// (src/storage/sqlite/schema.ts, which keeps the meaning of each column; test/storage/schema-parity.test.ts
// holds the two together). Types: times (epoch ms), ids and Telegram ids are int8 read as JS
// numbers (exact up to 2^53 - 1); bounded counters (attempts, HTTP statuses, durations in ms,
// per-bucket counts) are int4; booleans are boolean; JSON is jsonb. Ids are identity columns
// "by default", so copy-to-postgres can keep the SQLite ids and then move each sequence past them.
import { sql } from "drizzle-orm";
import { bigint, boolean, customType, index, integer, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { CHANNELS, EVENT_SOURCES, POSTBACK_STATES, STATUSES } from "../../domain/status.ts";

/** An int8 column read as a JS number (times in epoch ms, ids, Telegram ids). */
const int8 = (name: string) => bigint(name, { mode: "number" });
/**
 * A jsonb column passed to Bun.sql as the value itself: Bun encodes an object as JSON and parses
 * jsonb when it reads. drizzle's own jsonb() stringifies first, and Bun then stores that string as
 * a JSON *string* ("{\"a\":1}"), which reads back equal through drizzle but defeats every
 * `->>` and index on it (test/storage/pg-driver.test.ts holds Bun to this).
 */
const jsonb = <T>(name: string) => customType<{ data: T; driverData: T }>({ dataType: () => "jsonb", toDriver: (v) => v, fromDriver: (v) => v })(name);
/**
 * The same for json: text as it came, keys in their order. A click's or an inbound call's
 * parameters keep the order of the URL they came in (jsonb would sort them), as on SQLite.
 */
const json = <T>(name: string) => customType<{ data: T; driverData: T }>({ dataType: () => "json", toDriver: (v) => v, fromDriver: (v) => v })(name);
/** An id assigned by the database unless given (copy-to-postgres gives the SQLite ones). */
const identity = () => int8("id").primaryKey().generatedByDefaultAsIdentity();

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

export const dashboardSessions = pgTable("dashboard_sessions", {
  id: text("id").primaryKey(),
  keyCheck: text("key_check").notNull(),
  createdAt: int8("created_at").notNull(),
  expiresAt: int8("expires_at").notNull(),
});

export const journal = pgTable("journal", {
  id: identity(),
  kind: text("kind").notNull(),
  campaignId: int8("campaign_id"),
  subscriber: int8("subscriber"),
  chatId: int8("chat_id"),
  detail: jsonb<Record<string, unknown>>("detail"),
  createdAt: int8("created_at").notNull(),
}, (t) => [
  index("journal_kind_subscriber").on(t.kind, t.subscriber, t.createdAt),
  index("journal_created").on(t.createdAt),
]);

export const idempotencyKeys = pgTable("idempotency_keys", {
  key: text("key").primaryKey(),
  requestHash: text("request_hash").notNull(),
  statusCode: integer("status_code").notNull(),
  response: text("response").notNull(),
  createdAt: int8("created_at").notNull(),
  client: text("client").notNull().default(""),
  spent: int8("spent").notNull().default(0),
  answerHash: text("answer_hash"),
}, (t) => [index("idempotency_keys_client").on(t.client, t.spent)]);

export const inboundLog = pgTable("inbound_log", {
  id: identity(),
  result: text("result").notNull(),
  leadId: int8("lead_id"),
  status: text("status"),
  params: json<Record<string, string>>("params").notNull(),
  ip: text("ip"),
  createdAt: int8("created_at").notNull(),
}, (t) => [index("inbound_log_created").on(t.createdAt), index("inbound_log_result").on(t.result, t.id)]);

export const bots = pgTable("bots", {
  name: text("name").primaryKey(),
  telegramId: int8("telegram_id"),
  username: text("username"),
  pollingOffset: int8("polling_offset").notNull().default(0),
  updatedAt: int8("updated_at").notNull(),
});

export const chats = pgTable("chats", {
  bot: text("bot").notNull(),
  chatId: int8("chat_id").notNull(),
  title: text("title").notNull().default(""),
  type: text("type").notNull().default(""),
  status: text("status").notNull(),
  rights: jsonb<Record<string, boolean>>("rights"),
  updatedAt: int8("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.chatId] })]);

export const processedUpdates = pgTable("processed_updates", {
  bot: text("bot").notNull(),
  updateId: int8("update_id").notNull(),
  createdAt: int8("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.updateId] }), index("processed_updates_created").on(t.createdAt)]);

export const inviteLinks = pgTable("invite_links", {
  bot: text("bot").notNull(),
  campaignId: int8("campaign_id").notNull(),
  link: text("link").notNull(),
  createsJoinRequest: boolean("creates_join_request").notNull(),
  createdAt: int8("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.campaignId] })]);

export const mediaCache = pgTable("media_cache", {
  bot: text("bot").notNull(),
  path: text("path").notNull(),
  fileId: text("file_id").notNull(),
  createdAt: int8("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.bot, t.path] })]);

/** One row (id 1), as in SQLite: written by the health probe, never by an identity. */
export const storageProbe = pgTable("storage_probe", {
  id: int8("id").primaryKey(),
  writtenAt: int8("written_at").notNull(),
});

export const alertIncidents = pgTable("alert_incidents", {
  id: identity(),
  key: text("key").notNull(),
  kind: text("kind").notNull(),
  subject: text("subject").notNull(),
  state: text("state").notNull(),
  badSince: int8("bad_since").notNull(),
  goodSince: int8("good_since"),
  firedAt: int8("fired_at"),
  resolvedAt: int8("resolved_at"),
  detail: text("detail"),
  createdAt: int8("created_at").notNull(),
  updatedAt: int8("updated_at").notNull(),
}, (t) => [index("alert_incidents_key").on(t.key, t.id), index("alert_incidents_updated").on(t.updatedAt)]);

export const leadProfiles = pgTable("lead_profiles", {
  leadId: int8("lead_id").primaryKey(),
  campaignId: int8("campaign_id").notNull(),
  premium: boolean("premium"),
  language: text("language"),
  hasUsername: boolean("has_username"),
  startedAt: int8("started_at"),
  startToJoinMs: int8("start_to_join_ms"),
  fastLeave: boolean("fast_leave").notNull().default(false),
  quality: integer("quality").notNull(),
  qualityReasons: jsonb<{ code: string; points: number }[]>("quality_reasons").notNull(),
  welcomeVariant: text("welcome_variant"),
  firstJoinedAt: int8("first_joined_at"),
  cohortBand: text("cohort_band"),
  updatedAt: int8("updated_at").notNull(),
});

export const retentionCounts = pgTable("retention_counts", {
  campaignId: int8("campaign_id").notNull(),
  bucket: int8("bucket").notNull(),
  variant: text("variant").notNull().default(""),
  band: text("band").notNull(),
  joined: integer("joined").notNull().default(0),
  out1d: integer("out_1d").notNull().default(0),
  out7d: integer("out_7d").notNull().default(0),
  out14d: integer("out_14d").notNull().default(0),
  out30d: integer("out_30d").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.variant, t.band] })]);

export const revenueCounts = pgTable("revenue_counts", {
  campaignId: int8("campaign_id").notNull(),
  bucket: int8("bucket").notNull(),
  currency: text("currency").notNull(),
  amountMicros: int8("amount_micros").notNull().default(0),
  events: integer("events").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.currency] })]);

export const campaignCosts = pgTable("campaign_costs", {
  campaignId: int8("campaign_id").notNull(),
  day: text("day").notNull(),
  currency: text("currency").notNull(),
  amountMicros: int8("amount_micros").notNull(),
  source: text("source").notNull(),
  updatedAt: int8("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.campaignId, t.day] })]);

export const funnelCounts = pgTable("funnel_counts", {
  campaignId: int8("campaign_id").notNull(),
  bucket: int8("bucket").notNull(),
  variant: text("variant").notNull().default(""),
  band: text("band").notNull(),
  starts: integer("starts").notNull().default(0),
  joins: integer("joins").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.bucket, t.variant, t.band] })]);
// ---- several instances on one database (src/storage/port-cluster.ts) ----

export const instances = pgTable("instances", {
  id: text("id").primaryKey(),
  version: text("version").notNull(),
  commit: text("commit"),
  configHash: text("config_hash").notNull(),
  hostname: text("hostname").notNull().default(""),
  pid: int8("pid").notNull(),
  startedAt: int8("started_at").notNull(),
  heartbeatAt: int8("heartbeat_at").notNull(),
});

export const botLeases = pgTable("bot_leases", {
  bot: text("bot").primaryKey(),
  owner: text("owner").notNull(),
  epoch: int8("epoch").notNull(),
  expiresAt: int8("expires_at").notNull(),
  acquiredAt: int8("acquired_at").notNull(),
  updatedAt: int8("updated_at").notNull(),
});

export const circuits = pgTable("circuits", {
  host: text("host").primaryKey(),
  openUntil: int8("open_until").notNull(),
  failures: int8("failures").notNull(),
  openedBy: text("opened_by").notNull(),
  updatedAt: int8("updated_at").notNull(),
});
