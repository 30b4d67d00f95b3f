import { Elysia, t } from "elysia";
import type { Update } from "grammy/types";
import type { AppContext } from "../context.ts";
import { AppError, notFound } from "../lib/errors.ts";
import { keyMatches } from "../lib/keys.ts";
import { iso } from "../lib/json.ts";
import { webhookSecret } from "./bots.ts";
import { listChats } from "./repository.ts";
import { malformedUpdate } from "./updates.ts";

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
      detail: { tags: ["telegram"], summary: "Telegram webhook (checked with the bot's secret token)", security: [] },
    })
    .get("/api/bots", () => ({
      items: ctx.telegram.states().map((s) => ({ ...s, polling_offset: s.mode === "polling" ? (ctx.telegram.offset(s.name) ?? 0) : null })),
    }), { detail: { tags: ["telegram"], summary: "Bots: username, mode, webhook or polling state, last error" } })
    .get("/api/chats", () => ({
      items: listChats(ctx.db).map((c) => ({
        bot: c.bot, chat: c.chatId, title: c.title, type: c.type, status: c.status, admin: isAdmin(c.status),
        rights: c.rights, missing_rights: missingRights(c.status, c.rights ?? null), updated_at: iso(c.updatedAt),
      })),
    }), { detail: { tags: ["telegram"], summary: "Chats each bot is in, with missing admin rights flagged" } });
}
