import type { Reads } from "../storage/port.ts";

/** Rights a bot needs in a tracked chat: invite links and join requests need can_invite_users. */
export const REQUIRED_RIGHTS = ["can_invite_users"] as const;

export const isAdmin = (status: string | undefined) => status === "administrator" || status === "creator";

export function missingRights(status: string, rights: Record<string, boolean> | null): string[] {
  if (status === "creator") return [];
  if (status !== "administrator") return ["administrator"];
  return REQUIRED_RIGHTS.filter((r) => rights?.[r] !== true);
}

/** What a campaign is told of its bot and chat: the bot's username once it answered getMe, and its rights in the chat. */
export function telegramStateOf(read: Pick<Reads, "telegram">) {
  return {
    botUsername: async (bot: string) => (await read.telegram.bot(bot))?.username ?? null,
    /** Whether the bot is admin in the chat with the rights it needs; a chat it never reported lacks "administrator". */
    chatAccess: async (bot: string, chat: number) => {
      const row = await read.telegram.chat(bot, chat);
      const missing = row ? missingRights(row.status, row.rights ?? null) : ["administrator"];
      return { ok: missing.length === 0, missing };
    },
  };
}

export type TelegramState = ReturnType<typeof telegramStateOf>;
