// SQLite tables (part of schema.ts): dashboard sessions, the journal, stored answers, the inbound log, Telegram's bots, chats and caches, the storage probe.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
