// Builders for real Bot API objects and update bodies (`tg.*`): users, chats, messages, members,
// join requests and member updates, as Telegram sends them.
import type { Chat, ChatInviteLink, ChatJoinRequest, ChatMember, ChatMemberAdministrator, ChatMemberUpdated, Message, User } from "grammy/types";
import type { MemberStatus } from "./types.ts";

/**
 * Invite links minted (or revoked) by any FakeBotApi, so fixtures given just the URL carry the
 * real link object. Module state on purpose: a fixture is built without a server at hand.
 */
const knownInviteLinks = new Map<string, ChatInviteLink>();

/** Records the link object a server minted or revoked, for fixtures that name it by URL. */
export function rememberInviteLink(link: ChatInviteLink): void {
  knownInviteLinks.set(link.invite_link, link);
}
let fixtureMessageId = 5000;
const nowSec = () => Math.floor(Date.now() / 1000);

/** The human admin used as `from` when a fixture needs one and none is given. */
const DEFAULT_ADMIN: User = { id: 1_000_001, is_bot: false, first_name: "Admin", username: "chat_admin" };

export type AdminRights = Partial<Omit<ChatMemberAdministrator, "status" | "user">>;

export interface MemberOptions {
  /** For `restricted`: whether the user is still in the chat (default true). */
  is_member?: boolean;
  /** For `kicked` / `restricted` (default 0 = forever). */
  until_date?: number;
  /** For `administrator`: rights over the defaults (manage_chat, invite_users, restrict_members). */
  rights?: AdminRights;
  /** Chat type, for administrator rights that only exist in channels or supergroups. */
  chatType?: Chat["type"];
}

/** The User object of a bot. */
export function botUser(bot: { id: number; username?: string; first_name?: string }): User {
  return {
    id: bot.id,
    is_bot: true,
    first_name: bot.first_name ?? bot.username ?? `Bot ${bot.id}`,
    ...(bot.username ? { username: bot.username } : {}),
  };
}

function inviteLinkObject(link: string | ChatInviteLink, createsJoinRequest: boolean): ChatInviteLink {
  if (typeof link !== "string") return link;
  return (
    knownInviteLinks.get(link) ?? {
      invite_link: link,
      creator: DEFAULT_ADMIN,
      creates_join_request: createsJoinRequest,
      is_primary: false,
      is_revoked: false,
    }
  );
}

function member(user: User, status: MemberStatus | ChatMember, opts: MemberOptions = {}): ChatMember {
  if (typeof status !== "string") return status;
  switch (status) {
    case "creator":
      return { status, user, is_anonymous: false };
    case "administrator":
      return { status, user, ...adminRights(opts.chatType, opts.rights) };
    case "member":
      return { status, user };
    case "restricted":
      return {
        status,
        user,
        is_member: opts.is_member ?? true,
        can_send_messages: false,
        can_send_audios: false,
        can_send_documents: false,
        can_send_photos: false,
        can_send_videos: false,
        can_send_video_notes: false,
        can_send_voice_notes: false,
        can_send_polls: false,
        can_send_other_messages: false,
        can_add_web_page_previews: false,
        can_react_to_messages: false,
        can_change_info: false,
        can_invite_users: false,
        can_edit_tag: false,
        can_pin_messages: false,
        can_manage_topics: false,
        until_date: opts.until_date ?? 0,
      };
    case "left":
      return { status, user };
    case "kicked":
      return { status, user, until_date: opts.until_date ?? 0 };
  }
}

function adminRights(chatType: Chat["type"] | undefined, rights: AdminRights = {}): Omit<ChatMemberAdministrator, "status" | "user"> {
  return {
    can_be_edited: false,
    is_anonymous: false,
    can_manage_chat: true,
    can_delete_messages: false,
    can_manage_video_chats: false,
    can_restrict_members: true,
    can_promote_members: false,
    can_change_info: false,
    can_invite_users: true,
    can_post_stories: false,
    can_edit_stories: false,
    can_delete_stories: false,
    can_send_welcome_messages: false,
    ...(chatType === "channel" ? { can_post_messages: false, can_edit_messages: false } : {}),
    ...(chatType === "supergroup" ? { can_pin_messages: false, can_manage_topics: false } : {}),
    ...rights,
  };
}

/** Whether a ChatMember counts as "in the chat". */
export function isInChat(m: ChatMember): boolean {
  return m.status === "creator" || m.status === "administrator" || m.status === "member" || (m.status === "restricted" && m.is_member);
}

/** Builders for real Bot API objects and update bodies (without update_id; enqueue/push assign it). */
export const tg = {
  /** A human user. */
  user(id: number, opts: { username?: string; first_name?: string; last_name?: string; language_code?: string; is_premium?: true } = {}): User {
    return {
      id,
      is_bot: false,
      first_name: opts.first_name ?? `User${id}`,
      ...(opts.last_name ? { last_name: opts.last_name } : {}),
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.language_code ? { language_code: opts.language_code } : {}),
      // Telegram sends is_premium only when it is true.
      ...(opts.is_premium ? { is_premium: true as const } : {}),
    };
  },
  /** A bot user (`is_bot: true`), e.g. for myChatMember. */
  bot(id: number, username: string, first_name?: string): User {
    return botUser({ id, username, first_name });
  },
  /** The private chat with a user. */
  privateChat(user: User): Chat.PrivateChat {
    return {
      id: user.id,
      type: "private",
      first_name: user.first_name,
      ...(user.last_name ? { last_name: user.last_name } : {}),
      ...(user.username ? { username: user.username } : {}),
    };
  },
  channel(id: number, title: string, opts: { username?: string } = {}): Chat.ChannelChat {
    return { id, type: "channel", title, ...(opts.username ? { username: opts.username } : {}) };
  },
  supergroup(id: number, title: string, opts: { username?: string } = {}): Chat.SupergroupChat {
    return { id, type: "supergroup", title, ...(opts.username ? { username: opts.username } : {}) };
  },
  /** `{ message }`: a private text message from the user (no command entity). */
  textMessage(user: User, text: string, opts: { message_id?: number; date?: number } = {}): { message: Message.TextMessage } {
    return {
      message: {
        message_id: opts.message_id ?? ++fixtureMessageId,
        from: user,
        chat: tg.privateChat(user),
        date: opts.date ?? nowSec(),
        text,
      },
    };
  },
  /** `{ message }`: `/start PAYLOAD` (or `/start` when payload is undefined) with its bot_command entity. */
  startMessage(user: User, payload?: string, opts: { message_id?: number; date?: number } = {}): { message: Message.TextMessage } {
    const text = payload === undefined ? "/start" : `/start ${payload}`;
    const { message } = tg.textMessage(user, text, opts);
    return { message: { ...message, entities: [{ type: "bot_command", offset: 0, length: 6 }] } };
  },
  /** A ChatInviteLink; a URL minted by a FakeBotApi comes back as that link object. */
  inviteLink(link: string, opts: Partial<ChatInviteLink> = {}): ChatInviteLink {
    return { ...inviteLinkObject(link, false), ...opts };
  },
  /** A ChatMember of the given status (`until_date` for kicked, `is_member` for restricted). */
  member,
  /** Administrator rights (default: manage_chat, invite_users, restrict_members) over `rights`. */
  adminRights,
  /** `{ chat_join_request }`. */
  joinRequest(
    chat: Chat.SupergroupChat | Chat.ChannelChat,
    user: User,
    opts: { invite_link?: string | ChatInviteLink; bio?: string; date?: number } = {},
  ): { chat_join_request: ChatJoinRequest } {
    return {
      chat_join_request: {
        chat,
        from: user,
        user_chat_id: user.id,
        date: opts.date ?? nowSec(),
        ...(opts.bio !== undefined ? { bio: opts.bio } : {}),
        ...(opts.invite_link !== undefined ? { invite_link: inviteLinkObject(opts.invite_link, true) } : {}),
      },
    };
  },
  /**
   * `{ chat_member }`: the user's status changes from oldStatus to newStatus. `from` (who made the
   * change) defaults to the user; `is_member` applies to a restricted side, `until_date` to kicked
   * or restricted. Pass a ChatMember instead of a status for full control.
   */
  chatMember(
    chat: Chat,
    user: User,
    oldStatus: MemberStatus | ChatMember,
    newStatus: MemberStatus | ChatMember,
    opts: {
      from?: User;
      invite_link?: string | ChatInviteLink;
      via_join_request?: boolean;
      via_chat_folder_invite_link?: boolean;
      is_member?: boolean;
      until_date?: number;
      date?: number;
    } = {},
  ): { chat_member: ChatMemberUpdated } {
    const mo: MemberOptions = { is_member: opts.is_member, until_date: opts.until_date, chatType: chat.type };
    return {
      chat_member: {
        chat,
        from: opts.from ?? user,
        date: opts.date ?? nowSec(),
        old_chat_member: member(user, oldStatus, mo),
        new_chat_member: member(user, newStatus, mo),
        ...(opts.invite_link !== undefined ? { invite_link: inviteLinkObject(opts.invite_link, !!opts.via_join_request) } : {}),
        ...(opts.via_join_request ? { via_join_request: true } : {}),
        ...(opts.via_chat_folder_invite_link ? { via_chat_folder_invite_link: true } : {}),
      },
    };
  },
  /**
   * `{ my_chat_member }`: the bot's own status changes. An administrator side gets ChatMemberAdministrator
   * rights (default can_manage_chat, can_invite_users, can_restrict_members; override with `rights`).
   * `from` defaults to a human admin (id 1000001).
   */
  myChatMember(
    chat: Chat,
    bot: { id: number; username?: string; first_name?: string },
    oldStatus: MemberStatus | ChatMember,
    newStatus: MemberStatus | ChatMember,
    rights?: AdminRights,
    opts: { from?: User; date?: number; until_date?: number } = {},
  ): { my_chat_member: ChatMemberUpdated } {
    const user = botUser(bot);
    const mo: MemberOptions = { rights, chatType: chat.type, until_date: opts.until_date };
    return {
      my_chat_member: {
        chat,
        from: opts.from ?? DEFAULT_ADMIN,
        date: opts.date ?? nowSec(),
        old_chat_member: member(user, oldStatus, mo),
        new_chat_member: member(user, newStatus, mo),
      },
    };
  },
  /** The `from` used by myChatMember when none is given. */
  defaultAdmin: DEFAULT_ADMIN,
};
