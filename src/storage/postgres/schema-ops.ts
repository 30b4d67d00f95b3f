// PostgreSQL tables (part of schema.ts): as sqlite/schema-ops.ts.
import { boolean, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { identity, int8, json, jsonb } from "./schema-columns.ts";

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
