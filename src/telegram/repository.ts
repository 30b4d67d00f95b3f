import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import type { Executor } from "../db/tx.ts";
import { bots, chats, inviteLinks, mediaCache, processedUpdates } from "../db/schema.ts";

const MARK_PROCESSED = "INSERT INTO processed_updates (bot, update_id, created_at) VALUES ($bot, $updateId, $createdAt) ON CONFLICT DO NOTHING";

/** Records an update id; false when it was applied before (the update must change nothing). On every update: a prepared statement. */
export const markUpdateProcessed = (db: Db, bot: string, updateId: number, now: number) =>
  prepared(db, MARK_PROCESSED, (d) => d.$client.prepare(MARK_PROCESSED)).run({ bot, updateId, createdAt: now }).changes === 1;

export const pruneProcessedUpdates = (db: Executor, before: number) =>
  db.delete(processedUpdates).where(lt(processedUpdates.createdAt, before)).run();

export const getBotRow = (db: Executor, name: string) => db.select().from(bots).where(eq(bots.name, name)).get();

export const saveBotIdentity = (db: Executor, name: string, telegramId: number, username: string, now: number) =>
  db.insert(bots).values({ name, telegramId, username, updatedAt: now })
    .onConflictDoUpdate({ target: bots.name, set: { telegramId, username, updatedAt: now } }).run();

/** Moves the polling offset forward (never back), in the transaction that applied the update. */
export const advancePollingOffset = (db: Executor, name: string, offset: number, now: number) =>
  db.insert(bots).values({ name, pollingOffset: offset, updatedAt: now })
    .onConflictDoUpdate({ target: bots.name, set: { pollingOffset: sql`max(${bots.pollingOffset}, ${offset})`, updatedAt: now } }).run();

export const upsertChat = (db: Executor, row: typeof chats.$inferInsert) =>
  db.insert(chats).values(row).onConflictDoUpdate({
    target: [chats.bot, chats.chatId],
    set: { title: row.title, type: row.type, status: row.status, rights: row.rights, updatedAt: row.updatedAt },
  }).run();

export const listChats = (db: Executor) => db.select().from(chats).orderBy(chats.bot, chats.chatId).all();

export const getChat = (db: Executor, bot: string, chatId: number) =>
  db.select().from(chats).where(and(eq(chats.bot, bot), eq(chats.chatId, chatId))).get();

export const getInviteLink = (db: Executor, bot: string, campaignId: number) =>
  db.select().from(inviteLinks).where(and(eq(inviteLinks.bot, bot), eq(inviteLinks.campaignId, campaignId))).get();

export const saveInviteLink = (db: Executor, row: typeof inviteLinks.$inferInsert) =>
  db.insert(inviteLinks).values(row).onConflictDoNothing().run();

export const getCachedFileId = (db: Executor, bot: string, path: string) =>
  db.select().from(mediaCache).where(and(eq(mediaCache.bot, bot), eq(mediaCache.path, path))).get()?.fileId;

export const cacheFileId = (db: Executor, bot: string, path: string, fileId: string, now: number) =>
  db.insert(mediaCache).values({ bot, path, fileId, createdAt: now })
    .onConflictDoUpdate({ target: [mediaCache.bot, mediaCache.path], set: { fileId, createdAt: now } }).run();
