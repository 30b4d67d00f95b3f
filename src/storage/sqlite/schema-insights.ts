// SQLite tables (part of schema.ts): alerts, the buyer's insights (profiles, cohorts, money) and the cluster's (instances, bot leases, circuits).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
