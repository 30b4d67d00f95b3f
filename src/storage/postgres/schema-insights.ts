// PostgreSQL tables (part of schema.ts): as sqlite/schema-insights.ts.
import { boolean, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { identity, int8, jsonb } from "./schema-columns.ts";

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
