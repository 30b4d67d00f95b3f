// Chats and their members as the fake knows them: a small registry filled by addChat/setMember,
// by every update that is enqueued or pushed, and by approve/ban calls; and the Bot API methods
// that read or change it (getChat, getChatMember, getChatAdministrators, getChatMemberCount,
// banChatMember, unbanChatMember).
import type { Chat, ChatMember, User } from "grammy/types";
import { isInChat, tg } from "./fixtures.ts";
import { isRecord, num, numericChatId } from "./request.ts";
import { BotApiError, type ChatObject, type ChatState, type MethodImpl } from "./types.ts";

export class ChatRegistry {
  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, User>();

  /** The state of a chat, registered on first sight; later sightings update its fields. */
  state(chat: Chat | ChatObject): ChatState {
    let state = this.chats.get(chat.id);
    if (!state) {
      state = { chat: { ...chat } as ChatObject, members: new Map(), joinRequests: new Map() };
      this.chats.set(chat.id, state);
    } else {
      state.chat = { ...state.chat, ...chat };
    }
    return state;
  }

  /** A known chat by numeric id. */
  get(chatId: number): ChatState | undefined {
    return this.chats.get(chatId);
  }

  /** A known chat by id or `@username`, as a method's chat_id names it. */
  find(chatId: unknown): ChatState | undefined {
    if (typeof chatId === "string" && chatId.startsWith("@")) {
      const name = chatId.slice(1).toLowerCase();
      return [...this.chats.values()].find((s) => typeof s.chat.username === "string" && s.chat.username.toLowerCase() === name);
    }
    const id = num(chatId);
    return id === undefined ? undefined : this.chats.get(id);
  }

  /** Sets a member of a known chat (registers the chat lazily if it is unknown). */
  setMember(chatId: number, m: ChatMember): void {
    const state = this.chats.get(chatId) ?? this.state({ id: chatId, type: chatId < -1e12 ? "supergroup" : "group", title: `Chat ${chatId}` });
    state.members.set(m.user.id, m);
    this.users.set(m.user.id, m.user);
  }

  member(chatId: number, userId: number): ChatMember | undefined {
    return this.chats.get(chatId)?.members.get(userId);
  }

  /** A user seen in an update or a member list. */
  user(id: number): User | undefined {
    return this.users.get(id);
  }

  /** A user seen before, or a stub with only the id (Telegram knows every user; the fake does not). */
  userOrStub(id: number): User {
    return this.users.get(id) ?? { id, is_bot: false, first_name: `User${id}` };
  }

  /** Learns users, chats, members and join requests from an update. */
  observe(u: Record<string, unknown>): void {
    const rememberUser = (x: unknown) => {
      if (isRecord(x) && typeof x.id === "number" && typeof x.first_name === "string") this.users.set(x.id, x as unknown as User);
    };
    const rememberChat = (x: unknown) => {
      if (isRecord(x) && typeof x.id === "number" && typeof x.type === "string" && x.type !== "private") this.state(x as unknown as Chat);
    };
    const msg = u.message;
    if (isRecord(msg)) {
      rememberUser(msg.from);
      rememberChat(msg.chat);
    }
    const jr = u.chat_join_request;
    if (isRecord(jr) && isRecord(jr.chat) && isRecord(jr.from)) {
      rememberUser(jr.from);
      const state = this.state(jr.chat as unknown as Chat);
      state.joinRequests.set(jr.from.id as number, true);
    }
    for (const key of ["chat_member", "my_chat_member"]) {
      const cm = u[key];
      if (!isRecord(cm) || !isRecord(cm.chat) || !isRecord(cm.new_chat_member)) continue;
      rememberUser(cm.from);
      const state = this.state(cm.chat as unknown as Chat);
      const nm = cm.new_chat_member as unknown as ChatMember;
      if (isRecord(nm.user)) {
        rememberUser(nm.user);
        state.members.set(nm.user.id, nm);
        if (isInChat(nm)) state.joinRequests.delete(nm.user.id);
      }
    }
  }
}

/** The user_id parameter, or 400 as Telegram answers a missing or malformed one. */
export function userIdParam(p: Record<string, unknown>): number {
  const userId = num(p.user_id);
  if (userId === undefined) throw new BotApiError(400, "Bad Request: invalid user_id specified");
  return userId;
}

function knownChat(ctx: { chats: ChatRegistry }, chatId: unknown): ChatState {
  const state = ctx.chats.find(chatId);
  if (!state) throw new BotApiError(400, "Bad Request: chat not found");
  return state;
}

export const chatMethods: Record<string, MethodImpl> = {
  getchat(ctx, _bot, p) {
    const chatId = p.chat_id;
    const state = ctx.chats.find(chatId);
    const id = num(chatId);
    const user = id !== undefined && id > 0 ? ctx.chats.user(id) : undefined;
    const chat = state?.chat ?? (user ? tg.privateChat(user) : undefined);
    if (!chat) throw new BotApiError(400, "Bad Request: chat not found");
    return {
      ...chat,
      accent_color_id: 0,
      max_reaction_count: 11,
      accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false },
    };
  },
  getchatmember(ctx, _bot, p) {
    const state = knownChat(ctx, p.chat_id);
    const userId = userIdParam(p);
    return state.members.get(userId) ?? { status: "left", user: ctx.chats.userOrStub(userId) };
  },
  getchatadministrators(ctx, _bot, p) {
    const state = knownChat(ctx, p.chat_id);
    return [...state.members.values()].filter((m) => m.status === "creator" || m.status === "administrator");
  },
  getchatmembercount(ctx, _bot, p) {
    const state = knownChat(ctx, p.chat_id);
    return [...state.members.values()].filter(isInChat).length;
  },
  banchatmember(ctx, _bot, p) {
    const chatId = numericChatId(p.chat_id);
    const userId = userIdParam(p);
    if (ctx.chats.get(chatId)) ctx.chats.setMember(chatId, { status: "kicked", user: ctx.chats.userOrStub(userId), until_date: num(p.until_date) ?? 0 });
    return true;
  },
  unbanchatmember(ctx, _bot, p) {
    const chatId = numericChatId(p.chat_id);
    const userId = userIdParam(p);
    const m = ctx.chats.member(chatId, userId);
    if (!ctx.chats.get(chatId) || (p.only_if_banned === true && m?.status !== "kicked")) return true;
    ctx.chats.setMember(chatId, { status: "left", user: ctx.chats.userOrStub(userId) });
    return true;
  },
};
