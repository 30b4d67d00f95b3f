import { Elysia, t } from "elysia";
import type { Update } from "grammy/types";
import type { AppContext } from "../context.ts";
import { AppError, notFound } from "../lib/errors.ts";
import { keyMatches } from "../lib/keys.ts";
import { iso } from "../lib/json.ts";
import { readBodyLimited } from "../http/body.ts";
import { webhookSecret } from "./bots.ts";
import { listChats } from "./repository.ts";

/** An update is a few KiB; 1 MiB is ample, and anything larger is refused with 413 before it is read further. */
const MAX_UPDATE_BYTES = 1024 * 1024;

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
    .post("/telegram/:bot", async ({ params, request }) => {
      const bot = ctx.telegram.config(params.bot);
      if (!bot || bot.mode !== "webhook") throw notFound("webhook bot", params.bot);
      // The secret first, the body after: nobody without it makes the service read a byte.
      // Same answer for a wrong bot secret whatever it is, compared in constant time.
      if (!keyMatches(request.headers.get("x-telegram-bot-api-secret-token"), [webhookSecret(bot)])) {
        throw new AppError(401, "unauthorized", "wrong or missing X-Telegram-Bot-Api-Secret-Token");
      }
      // Telegram sends JSON; anything else is not an update.
      if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? "")) {
        throw new AppError(415, "unsupported_media_type", "an update is sent as application/json");
      }
      let update: Update;
      try {
        update = JSON.parse(await readBodyLimited(request, MAX_UPDATE_BYTES)) as Update;
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError(400, "malformed_body", "the request body is not valid JSON");
      }
      if (!update || typeof update !== "object" || !Number.isSafeInteger(update.update_id)) {
        throw new AppError(422, "validation_failed", "body.update_id: an Update needs an integer update_id", [{ field: "body.update_id", message: "must be an integer" }]);
      }
      // 200 only once the update's effects are on the disk. An update that cannot be applied is
      // journaled and skipped (200 too, or Telegram would send it again forever); storage trouble
      // is a 503 and Telegram retries.
      const received = await ctx.telegram.receive(params.bot, update);
      return received.kind === "applied" ? { ok: true, duplicate: received.outcome.duplicate } : { ok: true, skipped: received.error };
    }, {
      params: t.Object({ bot: t.String() }),
      parse: "none", // read by the handler, after the secret is checked, and never past MAX_UPDATE_BYTES
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
