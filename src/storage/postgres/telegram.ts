import type { TelegramReads, TelegramWrites } from "../port.ts";
import type { BotRow, ChatRow, InviteLinkRow, MediaFileRow } from "../rows.ts";
import type { Pg } from "./query.ts";
import { prune } from "./prune.ts";
import { BOT, CHAT, INVITE_LINK } from "./rows.ts";

/** Bots as Telegram knows them, their chats, the updates applied, invite links and media file ids. */
export class PgTelegram implements TelegramReads, TelegramWrites {
  constructor(private readonly pg: Pg) {}

  async bot(name: string): Promise<BotRow | null> {
    const row = await this.pg.one(`SELECT ${BOT.columns()} FROM bots WHERE name = $1`, [name]);
    return row && BOT.map(row);
  }

  async chats(): Promise<ChatRow[]> {
    return (await this.pg.all(`SELECT ${CHAT.columns()} FROM chats ORDER BY bot COLLATE "C", chat_id`)).map(CHAT.map);
  }

  async chat(bot: string, chatId: number): Promise<ChatRow | null> {
    const row = await this.pg.one(`SELECT ${CHAT.columns()} FROM chats WHERE bot = $1 AND chat_id = $2`, [bot, chatId]);
    return row && CHAT.map(row);
  }

  async inviteLink(bot: string, campaignId: number): Promise<InviteLinkRow | null> {
    const row = await this.pg.one(`SELECT ${INVITE_LINK.columns()} FROM invite_links WHERE bot = $1 AND campaign_id = $2`, [bot, campaignId]);
    return row && INVITE_LINK.map(row);
  }

  async mediaFileId(bot: string, path: string): Promise<string | null> {
    return (await this.pg.one<{ fileId: string }>(`SELECT file_id AS "fileId" FROM media_cache WHERE bot = $1 AND path = $2`, [bot, path]))?.fileId ?? null;
  }

  /** Two instances given the same update (a webhook retried elsewhere): the second waits on the key, then finds it taken. */
  async markUpdateProcessed(bot: string, updateId: number, now: number): Promise<boolean> {
    return (await this.pg.run(`INSERT INTO processed_updates (bot, update_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [bot, updateId, now])) === 1;
  }

  pruneProcessedUpdates(before: number, limit: number): Promise<number> {
    return prune(this.pg, "processed_updates", "created_at", before, limit);
  }

  async saveBotIdentity(name: string, telegramId: number, username: string, now: number): Promise<void> {
    await this.pg.run(`INSERT INTO bots (name, telegram_id, username, updated_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (name) DO UPDATE SET telegram_id = excluded.telegram_id, username = excluded.username, updated_at = excluded.updated_at`,
    [name, telegramId, username, now]);
  }

  async advancePollingOffset(name: string, offset: number, now: number): Promise<void> {
    await this.pg.run(`INSERT INTO bots (name, polling_offset, updated_at) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET polling_offset = greatest(bots.polling_offset, excluded.polling_offset), updated_at = excluded.updated_at`,
    [name, offset, now]);
  }

  async upsertChat(row: ChatRow): Promise<void> {
    await this.pg.run(`INSERT INTO chats (bot, chat_id, title, type, status, rights, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (bot, chat_id) DO UPDATE SET title = excluded.title, type = excluded.type, status = excluded.status, rights = excluded.rights,
        updated_at = excluded.updated_at`,
    [row.bot, row.chatId, row.title, row.type, row.status, row.rights, row.updatedAt]);
  }

  async saveInviteLink(row: InviteLinkRow): Promise<void> {
    await this.pg.run(`INSERT INTO invite_links (bot, campaign_id, link, creates_join_request, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [row.bot, row.campaignId, row.link, row.createsJoinRequest, row.createdAt]);
  }

  async saveMediaFileId(row: MediaFileRow): Promise<void> {
    await this.pg.run(`INSERT INTO media_cache (bot, path, file_id, created_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (bot, path) DO UPDATE SET file_id = excluded.file_id, created_at = excluded.created_at`, [row.bot, row.path, row.fileId, row.createdAt]);
  }
}
