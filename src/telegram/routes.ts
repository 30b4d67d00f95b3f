import { Elysia, t } from "elysia";
import type { Update } from "grammy/types";
import type { AppContext } from "../context.ts";
import { AppError, notFound } from "../lib/errors.ts";
import { keyMatches } from "../lib/keys.ts";
import { iso } from "../lib/json.ts";
import { webhookSecret } from "./bots.ts";
import { listChats } from "./repository.ts";
import { malformedUpdate } from "./updates.ts";
import { Nullable, responses } from "../http/openapi.ts";

const Time = Nullable(t.String({ format: "date-time" }));
const BotList = t.Object({
  items: t.Array(t.Object({
    name: t.String(), mode: t.String({ description: "polling | webhook" }), status: t.String({ description: "starting | running | error | stopped" }),
    id: Nullable(t.Integer()), username: Nullable(t.String()), last_error: Nullable(t.String()), last_error_at: Time, webhook_url: Nullable(t.String()),
    last_update_at: Time, polling_offset: Nullable(t.Integer()),
  })),
});
const botListExample = {
  items: [{ name: "main", mode: "polling", status: "running", id: 123456, username: "spring_bot", last_error: null, last_error_at: null, webhook_url: null, last_update_at: "2024-05-01T10:00:00.000Z", polling_offset: 90211 }],
};
const ChatList = t.Object({
  items: t.Array(t.Object({
    bot: t.String(), chat: t.Integer(), title: t.String(), type: t.String(), status: t.String({ description: "the bot's status there: creator, administrator, member, left, kicked" }),
    admin: t.Boolean(), rights: Nullable(t.Record(t.String(), t.Boolean())), missing_rights: t.Array(t.String()), updated_at: t.String({ format: "date-time" }),
  })),
});
const chatListExample = {
  items: [{ bot: "main", chat: -1001234567890, title: "Spring", type: "channel", status: "administrator", admin: true, rights: { can_invite_users: false }, missing_rights: ["can_invite_users"], updated_at: "2024-05-01T10:00:00.000Z" }],
};

/** Rights a bot needs in a tracked chat: invite links and join requests need can_invite_users. */
export const REQUIRED_RIGHTS = ["can_invite_users"] as const;

export const isAdmin = (status: string | undefined) => status === "administrator" || status === "creator";

export function missingRights(status: string, rights: Record<string, boolean> | null): string[] {
  if (status === "creator") return [];
  if (status !== "administrator") return ["administrator"];
  return REQUIRED_RIGHTS.filter((r) => rights?.[r] !== true);
}

export function telegramRoutes(ctx: AppContext) {
  return new Elysia()
    .post("/telegram/:bot", ({ params, body, request }) => {
      const bot = ctx.telegram.config(params.bot);
      if (!bot || bot.mode !== "webhook") throw notFound("webhook bot", params.bot);
      // Same answer for a wrong bot secret whatever it is, compared in constant time.
      if (!keyMatches(request.headers.get("x-telegram-bot-api-secret-token"), [webhookSecret(bot)])) {
        throw new AppError(401, "unauthorized", "wrong or missing X-Telegram-Bot-Api-Secret-Token");
      }
      const update = body as Update;
      if (!update || typeof update !== "object" || !Number.isSafeInteger(update.update_id)) {
        throw new AppError(422, "validation_failed", "body.update_id: an Update needs an integer update_id", [{ field: "body.update_id", message: "must be an integer" }]);
      }
      const malformed = malformedUpdate(update);
      if (malformed) throw new AppError(422, "validation_failed", `body.${malformed}: missing or of the wrong type`, [{ field: `body.${malformed}`, message: "missing or of the wrong type" }]);
      // 200 only after the update's effects are committed; on error Telegram retries it.
      const outcome = ctx.telegram.handleUpdate(params.bot, update, false);
      return { ok: true, duplicate: outcome.duplicate };
    }, {
      params: t.Object({ bot: t.String() }),
      detail: {
        tags: ["telegram"], summary: "Telegram webhook (checked with the bot's secret token)", security: [{ webhookSecret: [] }],
        responses: responses({ schema: t.Object({ ok: t.Literal(true), duplicate: t.Boolean({ description: "the update was applied before" }) }), example: { ok: true, duplicate: false }, description: "The update's effects are committed" },
          400, [401, { code: "unauthorized", message: "wrong or missing X-Telegram-Bot-Api-Secret-Token" }], [404, { code: "not_found", message: "webhook bot main not found" }], 422, 429, 503),
      },
    })
    .get("/api/bots", () => ({
      items: ctx.telegram.states().map((s) => ({ ...s, polling_offset: s.mode === "polling" ? (ctx.telegram.offset(s.name) ?? 0) : null })),
    }), { detail: { tags: ["telegram"], summary: "Bots: username, mode, webhook or polling state, last error", responses: responses({ schema: BotList, example: botListExample, description: "Every configured bot" }, 401) } })
    .get("/api/chats", () => ({
      items: listChats(ctx.db).map((c) => ({
        bot: c.bot, chat: c.chatId, title: c.title, type: c.type, status: c.status, admin: isAdmin(c.status),
        rights: c.rights, missing_rights: missingRights(c.status, c.rights ?? null), updated_at: iso(c.updatedAt),
      })),
    }), { detail: { tags: ["telegram"], summary: "Chats each bot is in, with missing admin rights flagged", responses: responses({ schema: ChatList, example: chatListExample, description: "Chats from the bots' my_chat_member updates" }, 401) } });
}
