import { Elysia, t } from "elysia";
import { Int } from "../http/schema.ts";
import type { Update } from "grammy/types";
import { AppError, notFound } from "../lib/errors.ts";
import { keyMatches } from "../lib/keys.ts";
import { iso } from "../lib/json.ts";
import { readBodyLimited } from "../http/body.ts";
import { nestedDeeperThan, tooDeep } from "../http/json-limits.ts";
import { webhookSecret, type TelegramBots } from "./bots.ts";
import { isAdmin, missingRights } from "./rights.ts";

/** An update is a few KiB; 1 MiB is ample, and anything larger is refused with 413 before it is read further. */
const MAX_UPDATE_BYTES = 1024 * 1024;
import { Nullable, requestBody, responses } from "../http/openapi.ts";
import type { Reads } from "../storage/port.ts";
import type { Cluster } from "../cluster/cluster.ts";

const Time = Nullable(t.String({ format: "date-time" }));
const BotList = t.Object({
  items: t.Array(t.Object({
    name: t.String(), mode: t.String({ description: "polling | webhook" }), status: t.String({ description: "starting | running | error | stopped | standby (another instance owns it)" }),
    id: Nullable(Int()), username: Nullable(t.String()), last_error: Nullable(t.String()), last_error_at: Time, webhook_url: Nullable(t.String()),
    last_update_at: Time, polling_offset: Nullable(Int()),
    owner: Nullable(t.Object({
      instance: t.String({ description: "the owning instance's id (GET /api/instances)" }),
      epoch: Int({ description: "the number of owners so far: one more at each takeover" }),
      expires_at: Nullable(t.String({ format: "date-time", description: "the lease's end; renewed every second by its owner" })),
      self: t.Boolean({ description: "the instance that answers owns it" }),
    }, { description: "PostgreSQL: the instance that polls (or holds the webhook) and sends for the bot; null on SQLite (one process owns every bot), or before any instance took it" })),
    next_retry_at: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "when a bot that failed is tried again (while that try runs, its time); null while it runs" }),
    down_since: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "since when it has been failing without being up in between; null while it runs" }),
  })),
});
const botListExample = {
  items: [{ name: "main", mode: "polling", status: "running", id: 123456, username: "spring_bot", last_error: null, last_error_at: null, webhook_url: null, last_update_at: "2024-05-01T10:00:00.000Z", polling_offset: 90211, next_retry_at: null, down_since: null, owner: null }],
};
const ChatList = t.Object({
  items: t.Array(t.Object({
    bot: t.String(), chat: Int(), title: t.String(), type: t.String(), status: t.String({ description: "the bot's status there: creator, administrator, member, left, kicked" }),
    admin: t.Boolean(), rights: Nullable(t.Record(t.String(), t.Boolean())), missing_rights: t.Array(t.String()), updated_at: t.String({ format: "date-time" }),
  })),
});
const chatListExample = {
  items: [{ bot: "main", chat: -1001234567890, title: "Spring", type: "channel", status: "administrator", admin: true, rights: { can_invite_users: false }, missing_rights: ["can_invite_users"], updated_at: "2024-05-01T10:00:00.000Z" }],
};


/** What Telegram posts: one Update (https://core.telegram.org/bots/api#update); only update_id is required of it. */
const UpdateBody = t.Object({
  update_id: Int({ description: "the update's unique id; an update already applied is answered as a duplicate" }),
  message: t.Optional(t.Object({}, { additionalProperties: true, description: "e.g. /start CODE-click in the bot's private chat" })),
  chat_join_request: t.Optional(t.Object({}, { additionalProperties: true })),
  chat_member: t.Optional(t.Object({}, { additionalProperties: true })),
  my_chat_member: t.Optional(t.Object({}, { additionalProperties: true })),
}, { additionalProperties: true, description: "A Telegram Update, as application/json, at most 1 MiB" });
const updateExample = {
  update_id: 10000,
  message: { message_id: 1, date: 1714557600, chat: { id: 42, type: "private" }, from: { id: 42, is_bot: false, first_name: "Alice", username: "alice" }, text: "/start spring-abc123" },
};

export interface TelegramRoutesDeps {
  storage: { read: Pick<Reads, "telegram"> };
  telegram: Pick<TelegramBots, "config" | "receive" | "states">;
  cluster: Pick<Cluster, "botOwner">;
}

export function telegramRoutes(ctx: TelegramRoutesDeps) {
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
      if (nestedDeeperThan(update)) throw tooDeep();
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
      detail: {
        tags: ["telegram"], summary: "Telegram webhook (checked with the bot's secret token)", security: [{ webhookSecret: [] }],
        description: "Telegram posts each update here (setWebhook at start); answered 200 only once its effects are on the disk.",
        requestBody: requestBody("One Telegram Update", { "application/json": { schema: UpdateBody, example: updateExample } }),
        responses: responses({ schema: t.Object({ ok: t.Literal(true), duplicate: t.Optional(t.Boolean({ description: "the update was applied before" })), skipped: t.Optional(t.String({ description: "the update could not be applied: journaled as update_failed and skipped" })) }), example: { ok: true, duplicate: false }, description: "The update's effects are committed (or it was journaled and skipped)" },
          400, [401, { code: "unauthorized", message: "wrong or missing X-Telegram-Bot-Api-Secret-Token" }], [404, { code: "not_found", message: "webhook bot main not found" }], [413, { code: "body_too_large", message: "the request body is larger than 1048576 bytes" }], [415, { code: "unsupported_media_type", message: "an update is sent as application/json" }], 422, 429, 503),
      },
    })
    .get("/api/bots", async () => ({
      items: await Promise.all(ctx.telegram.states().map(async (s) => {
        // A bot in standby is known here by what its owner stored (getMe's answer, the offset).
        const stored = await ctx.storage.read.telegram.bot(s.name);
        return {
          ...s, id: s.id ?? stored?.telegramId ?? null, username: s.username ?? stored?.username ?? null,
          polling_offset: s.mode === "polling" ? (stored?.pollingOffset ?? 0) : null, owner: ctx.cluster.botOwner(s.name),
        };
      })),
    }), { detail: { tags: ["telegram"], summary: "Bots: username, mode, webhook or polling state, last error", responses: responses({ schema: BotList, example: botListExample, description: "Every configured bot" }, 401) } })
    .get("/api/chats", async () => ({
      items: (await ctx.storage.read.telegram.chats()).map((c) => ({
        bot: c.bot, chat: c.chatId, title: c.title, type: c.type, status: c.status, admin: isAdmin(c.status),
        rights: c.rights, missing_rights: missingRights(c.status, c.rights ?? null), updated_at: iso(c.updatedAt),
      })),
    }), { detail: { tags: ["telegram"], summary: "Chats each bot is in, with missing admin rights flagged", responses: responses({ schema: ChatList, example: chatListExample, description: "Chats from the bots' my_chat_member updates" }, 401) } });
}
