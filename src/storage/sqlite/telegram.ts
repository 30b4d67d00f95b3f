import { and, eq, sql } from "drizzle-orm";
import type { TelegramReads, TelegramWrites } from "../port.ts";
import type { BotRow, ChatRow, InviteLinkRow, MediaFileRow } from "../rows.ts";
import type { Db } from "./client.ts";
import { statement } from "./prepared.ts";
import { pruneBatch } from "./prune.ts";
import { bots, chats, inviteLinks, mediaCache } from "./schema.ts";

// On every update: a prepared statement.
const MARK_PROCESSED = "INSERT INTO processed_updates (bot, update_id, created_at) VALUES ($bot, $updateId, $createdAt) ON CONFLICT DO NOTHING";
// On every click of the click link (its bot's username): a prepared statement, not the query builder (about 80 µs a call).
const BOT = "SELECT name, telegram_id AS telegramId, username, polling_offset AS pollingOffset, updated_at AS updatedAt FROM bots WHERE name = $name";

/** Bots as Telegram knows them, their chats, the updates applied, invite links and media file ids. */
export class SqliteTelegram implements TelegramReads, TelegramWrites {
  constructor(private readonly db: Db) {}

  bot(name: string): BotRow | null {
    return statement<BotRow>(this.db, BOT).get({ name });
  }

  chats(): ChatRow[] {
    return this.db.select().from(chats).orderBy(chats.bot, chats.chatId).all();
  }

  chat(bot: string, chatId: number): ChatRow | null {
    return this.db.select().from(chats).where(and(eq(chats.bot, bot), eq(chats.chatId, chatId))).get() ?? null;
  }

  inviteLink(bot: string, campaignId: number): InviteLinkRow | null {
    return this.db.select().from(inviteLinks).where(and(eq(inviteLinks.bot, bot), eq(inviteLinks.campaignId, campaignId))).get() ?? null;
  }

  mediaFileId(bot: string, path: string): string | null {
    return this.db.select().from(mediaCache).where(and(eq(mediaCache.bot, bot), eq(mediaCache.path, path))).get()?.fileId ?? null;
  }

  markUpdateProcessed(bot: string, updateId: number, now: number): boolean {
    return statement(this.db, MARK_PROCESSED).run({ bot, updateId, createdAt: now }).changes === 1;
  }

  pruneProcessedUpdates(before: number, limit: number): number {
    return pruneBatch(this.db, "processed_updates", "created_at", before, limit);
  }

  saveBotIdentity(name: string, telegramId: number, username: string, now: number) {
    this.db.insert(bots).values({ name, telegramId, username, updatedAt: now })
      .onConflictDoUpdate({ target: bots.name, set: { telegramId, username, updatedAt: now } }).run();
  }

  advancePollingOffset(name: string, offset: number, now: number) {
    this.db.insert(bots).values({ name, pollingOffset: offset, updatedAt: now })
      .onConflictDoUpdate({ target: bots.name, set: { pollingOffset: sql`max(${bots.pollingOffset}, ${offset})`, updatedAt: now } }).run();
  }

  upsertChat(row: ChatRow) {
    this.db.insert(chats).values(row).onConflictDoUpdate({
      target: [chats.bot, chats.chatId],
      set: { title: row.title, type: row.type, status: row.status, rights: row.rights, updatedAt: row.updatedAt },
    }).run();
  }

  saveInviteLink(row: InviteLinkRow) {
    this.db.insert(inviteLinks).values(row).onConflictDoNothing().run();
  }

  saveMediaFileId(row: MediaFileRow) {
    this.db.insert(mediaCache).values(row)
      .onConflictDoUpdate({ target: [mediaCache.bot, mediaCache.path], set: { fileId: row.fileId, createdAt: row.createdAt } }).run();
  }
}
