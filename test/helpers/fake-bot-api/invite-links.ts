// Invite links and join requests: createChatInviteLink / revokeChatInviteLink with Telegram's
// limits and words, approve/declineChatJoinRequest (HIDE_REQUESTER_MISSING for a request that was
// already handled, USER_ALREADY_PARTICIPANT for a known member).
import type { ChatInviteLink } from "grammy/types";
import { userIdParam } from "./chats.ts";
import { botUser, isInChat, rememberInviteLink } from "./fixtures.ts";
import { chatIdParam, num, numericChatId, randomId } from "./request.ts";
import { BotApiError, type MethodContext, type MethodImpl } from "./types.ts";

function handleJoinRequest(ctx: MethodContext, p: Record<string, unknown>, approve: boolean): true {
  const chatId = numericChatId(p.chat_id);
  const userId = userIdParam(p);
  const state = ctx.chats.get(chatId);
  const m = state?.members.get(userId);
  if (approve && m && isInChat(m)) throw new BotApiError(400, "Bad Request: USER_ALREADY_PARTICIPANT");
  if (state?.joinRequests.get(userId) === false) throw new BotApiError(400, "Bad Request: HIDE_REQUESTER_MISSING");
  if (!state) return true; // chat never seen: nothing to track
  state.joinRequests.set(userId, false);
  if (approve) ctx.chats.setMember(chatId, { status: "member", user: ctx.chats.userOrStub(userId) });
  return true;
}

export const inviteLinkMethods: Record<string, MethodImpl> = {
  createchatinvitelink(ctx, bot, p) {
    const chatId = chatIdParam(p.chat_id);
    const name = typeof p.name === "string" ? p.name : undefined;
    if (name !== undefined && [...name].length > 32) throw new BotApiError(400, "Bad Request: invite link name is too long");
    const createsJoinRequest = p.creates_join_request === true;
    const memberLimit = num(p.member_limit);
    if (createsJoinRequest && memberLimit !== undefined) {
      throw new BotApiError(400, "Bad Request: member limit can't be specified for links requiring administrator approval");
    }
    if (memberLimit !== undefined && (memberLimit < 1 || memberLimit > 99999)) throw new BotApiError(400, "Bad Request: USAGE_LIMIT_INVALID");
    const expire = num(p.expire_date);
    const link: ChatInviteLink = {
      invite_link: `https://t.me/+${randomId(12)}`,
      creator: botUser(bot.user),
      creates_join_request: createsJoinRequest,
      is_primary: false,
      is_revoked: false,
      ...(name !== undefined ? { name } : {}),
      ...(expire !== undefined ? { expire_date: expire } : {}),
      ...(memberLimit !== undefined ? { member_limit: memberLimit } : {}),
      ...(createsJoinRequest ? { pending_join_request_count: 0 } : {}),
    };
    rememberInviteLink(link);
    ctx.inviteLinks.set(link.invite_link, { ...link, chat_id: chatId, token: bot.token });
    return link;
  },
  revokechatinvitelink(ctx, _bot, p) {
    const url = typeof p.invite_link === "string" ? p.invite_link : "";
    const known = ctx.inviteLinks.get(url);
    if (!known) throw new BotApiError(400, "Bad Request: INVITE_HASH_EXPIRED");
    known.is_revoked = true;
    const { chat_id: _c, token: _t, ...link } = known;
    const revoked = { ...link, is_revoked: true };
    rememberInviteLink(revoked);
    return revoked;
  },
  approvechatjoinrequest(ctx, _bot, p) {
    return handleJoinRequest(ctx, p, true);
  },
  declinechatjoinrequest(ctx, _bot, p) {
    return handleJoinRequest(ctx, p, false);
  },
};
