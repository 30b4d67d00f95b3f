// Messages: sendMessage / sendPhoto / sendVideo with increasing message_id; parse_mode markup parsed
// like Telegram (text back without markup plus entities); file_ids minted per upload, reusable by
// the same bot only; inline keyboards checked (BUTTON_URL_INVALID and the other 400s).
import { botUser, tg } from "./fixtures.ts";
import { parseHtml } from "./parse-html.ts";
import { parseMarkdown, parseMarkdownV2 } from "./parse-markdown.ts";
import { isRecord, num, randomId } from "./request.ts";
import type { Entity, Parsed } from "./text-entities.ts";
import { BotApiError, type BotInternal, type ChatObject, type MethodContext, type MethodImpl, type StoredFile, type UploadedFile } from "./types.ts";

const WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified";

export const messageMethods: Record<string, MethodImpl> = {
  sendmessage(ctx, bot, p) {
    const chat = targetChat(ctx, bot, p.chat_id);
    if (typeof p.text !== "string" || p.text.trim() === "") throw new BotApiError(400, "Bad Request: message text is empty");
    const parsed = parseText(ctx, p.text, p.parse_mode, p.entities);
    if (parsed.text.trim() === "") throw new BotApiError(400, "Bad Request: message text is empty");
    if (parsed.text.length > 4096) throw new BotApiError(400, "Bad Request: message is too long");
    const markup = checkReplyMarkup(p.reply_markup);
    return {
      ...messageBase(ctx, bot, chat),
      text: parsed.text,
      ...(parsed.entities.length ? { entities: parsed.entities } : {}),
      ...(markup ? { reply_markup: markup } : {}),
    };
  },
  sendphoto(ctx, bot, p, files) {
    const chat = targetChat(ctx, bot, p.chat_id);
    const stored = resolveFile(bot, "photo", p.photo, files.photo);
    if (stored.kind !== "photo") throw new BotApiError(400, "Bad Request: can't use file of type Video as Photo");
    return { ...messageBase(ctx, bot, chat), photo: stored.photo, ...caption(ctx, p) };
  },
  sendvideo(ctx, bot, p, files) {
    const chat = targetChat(ctx, bot, p.chat_id);
    const stored = resolveFile(bot, "video", p.video, files.video, p);
    if (stored.kind !== "video") throw new BotApiError(400, "Bad Request: can't use file of type Photo as Video");
    return { ...messageBase(ctx, bot, chat), video: stored.video, ...caption(ctx, p) };
  },
  deletemessage() {
    return true;
  },
  answercallbackquery() {
    return true;
  },
  setmycommands() {
    return true;
  },
  deletemycommands() {
    return true;
  },
  getmycommands() {
    return [];
  },
};

/** The chat a message is sent to; 403 if that user blocked the bot. */
function targetChat(ctx: MethodContext, bot: BotInternal, chatId: unknown): ChatObject {
  if (chatId === undefined || chatId === "") throw new BotApiError(400, "Bad Request: chat_id is empty");
  const known = ctx.chats.find(chatId);
  const id = known?.chat.id ?? num(chatId);
  if (id === undefined || id === 0) throw new BotApiError(400, "Bad Request: chat not found");
  if (bot.blocked.has(id)) throw new BotApiError(403, "Forbidden: bot was blocked by the user");
  if (known) return compactChat(known.chat);
  if (id > 0) {
    if (id === bot.user.id) throw new BotApiError(403, "Forbidden: bots can't send messages to bots");
    return tg.privateChat(ctx.chats.userOrStub(id)) as unknown as ChatObject;
  }
  return { id, type: id < -1e12 ? "supergroup" : "group", title: `Chat ${id}` };
}

/** The fields every sent Message has; takes the next message_id. */
function messageBase(ctx: MethodContext, bot: BotInternal, chat: ChatObject): Record<string, unknown> {
  const base: Record<string, unknown> = { message_id: ctx.nextMessageId() };
  if (chat.type === "channel") base.sender_chat = chat;
  else base.from = botUser(bot.user);
  base.chat = chat;
  base.date = Math.floor(ctx.now() / 1000);
  return base;
}

/** A text or caption as Telegram stores it: `entities` taken as given, else `parse_mode` parsed. */
function parseText(ctx: MethodContext, text: string, parseMode: unknown, entities: unknown): Parsed {
  if (Array.isArray(entities)) return { text, entities: entities as Entity[] };
  if (!ctx.parseEntities || parseMode === undefined || parseMode === "") return { text, entities: [] };
  switch (String(parseMode).toLowerCase()) {
    case "html":
      return parseHtml(text);
    case "markdown":
      return parseMarkdown(text);
    case "markdownv2":
      return parseMarkdownV2(text);
    default:
      throw new BotApiError(400, `Bad Request: unsupported parse_mode`);
  }
}

/** The caption fields (and inline keyboard) of a photo or video message. */
function caption(ctx: MethodContext, p: Record<string, unknown>): Record<string, unknown> {
  checkReplyMarkup(p.reply_markup);
  const markup = isRecord(p.reply_markup) && Array.isArray(p.reply_markup.inline_keyboard) ? { reply_markup: p.reply_markup } : {};
  if (typeof p.caption !== "string" || p.caption === "") return markup;
  const parsed = parseText(ctx, p.caption, p.parse_mode, p.caption_entities);
  if (parsed.text.length > 1024) throw new BotApiError(400, "Bad Request: message caption is too long");
  return { caption: parsed.text, ...(parsed.entities.length ? { caption_entities: parsed.entities } : {}), ...markup };
}

/** An uploaded file, a reusable file_id of this bot, or an HTTP URL (fetched by Telegram: a new file). */
function resolveFile(
  bot: BotInternal,
  kind: "photo" | "video",
  value: unknown,
  upload: UploadedFile | undefined,
  p: Record<string, unknown> = {},
): StoredFile {
  let size: number;
  let fileName: string | undefined;
  if (upload) {
    if (upload.size === 0) throw new BotApiError(400, "Bad Request: file must be non-empty");
    size = upload.size;
    fileName = upload.name;
  } else if (typeof value === "string" && value !== "") {
    const known = bot.files.get(value);
    if (known) return known;
    if (!/^https?:\/\//i.test(value)) throw new BotApiError(400, WRONG_FILE_ID);
    size = 50_000;
  } else {
    throw new BotApiError(400, `Bad Request: there is no ${kind} in the request`);
  }
  let stored: StoredFile;
  if (kind === "photo") {
    const sizes: [number, number][] = [
      [90, 60],
      [320, 213],
      [800, 533],
    ];
    stored = {
      kind,
      photo: sizes.map(([width, height], i) => ({
        file_id: `AgACAgIAAxkDAAI${randomId(48)}`,
        file_unique_id: `AQAD${randomId(10)}`,
        file_size: i === sizes.length - 1 ? size : Math.max(1, Math.round((size * (i + 1)) / 10)),
        width,
        height,
      })),
    };
    for (const ps of stored.photo) bot.files.set(ps.file_id as string, stored);
  } else {
    const video: Record<string, unknown> = {
      duration: num(p.duration) ?? 5,
      width: num(p.width) ?? 640,
      height: num(p.height) ?? 360,
      ...(fileName ? { file_name: fileName } : {}),
      mime_type: "video/mp4",
      file_id: `BAACAgIAAxkDAAI${randomId(48)}`,
      file_unique_id: `AgAD${randomId(10)}`,
      file_size: size,
    };
    stored = { kind, video };
    bot.files.set(video.file_id as string, stored);
  }
  return stored;
}

/** The chat as a Message carries it (no description, photo, permissions …). */
function compactChat(chat: ChatObject): ChatObject {
  const out: ChatObject = { id: chat.id, type: chat.type };
  for (const k of ["title", "username", "first_name", "last_name", "is_forum"]) if (chat[k] !== undefined) out[k] = chat[k];
  return out;
}

/** Checks an inline keyboard like Telegram: every button needs text and an action; URLs must be valid. */
function checkReplyMarkup(markup: unknown): Record<string, unknown> | undefined {
  if (markup === undefined) return undefined;
  if (!isRecord(markup)) throw new BotApiError(400, "Bad Request: can't parse reply keyboard markup JSON object");
  if (!("inline_keyboard" in markup)) return undefined;
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows)) throw new BotApiError(400, "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array");
  for (const row of rows) {
    if (!Array.isArray(row)) throw new BotApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object");
    for (const b of row) {
      if (!isRecord(b)) throw new BotApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object");
      if (typeof b.text !== "string" || b.text === "") throw new BotApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty");
      const actions = ["url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay"];
      if (!actions.some((k) => b[k] !== undefined)) {
        throw new BotApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
      }
      if (b.url !== undefined) {
        const url = typeof b.url === "string" ? b.url : "";
        let ok = false;
        try {
          const u = new URL(url);
          ok = ((u.protocol === "http:" || u.protocol === "https:") && !!u.hostname) || u.protocol === "tg:";
        } catch {
          ok = false;
        }
        if (!ok) throw new BotApiError(400, "Bad Request: BUTTON_URL_INVALID");
      }
    }
  }
  return markup;
}
