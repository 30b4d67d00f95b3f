/**
 * A fake Telegram Bot API server for tests (Bun.serve on 127.0.0.1, random port).
 *
 * Point grammY at it with `new Bot(token, { client: { apiRoot: fake.apiRoot } })`: requests then
 * arrive as `POST {apiRoot}/bot{TOKEN}/{method}` with a JSON body, or as multipart/form-data when
 * grammY uploads an InputFile (grammY writes `content-disposition:form-data;name="x"` parts, an
 * unquoted `filename=`, every non-file value as a string, objects JSON-encoded, and the file itself
 * under a random part name referenced as `attach://<name>` from the field, e.g. `photo`).
 *
 * What it does like the real API (see test/integration/fake-bot-api.test.ts):
 * - `{ ok: true, result }` / `{ ok: false, error_code, description, parameters? }` with the HTTP
 *   status of the error; 401 for an unknown token; 404 "Not Found" for a method it does not know.
 * - getUpdates: offset confirms updates with a smaller update_id (negative offset keeps the last N),
 *   limit (1–100), long polling with `timeout` that ends early when an update is queued, sticky
 *   `allowed_updates`, 409 while a webhook is set, and 409 "terminated by other getUpdates request"
 *   for the older of two concurrent long polls.
 * - setWebhook / deleteWebhook (drop_pending_updates) / getWebhookInfo; `push` POSTs an update to the
 *   webhook with the `X-Telegram-Bot-Api-Secret-Token` header.
 * - sendMessage / sendPhoto / sendVideo: Messages with increasing message_id; file_ids minted per
 *   upload, reusable by the same bot only; parse_mode (HTML, Markdown, MarkdownV2) is parsed like
 *   Telegram does (text comes back without markup plus entities; broken markup → 400
 *   "Bad Request: can't parse entities: …"); inline keyboard URLs are checked (BUTTON_URL_INVALID).
 * - createChatInviteLink, approve/declineChatJoinRequest (HIDE_REQUESTER_MISSING for a request that
 *   was already handled, USER_ALREADY_PARTICIPANT for a known member), ban/unbanChatMember,
 *   getChat / getChatMember / getChatAdministrators from a small registry of chats and members that
 *   is filled by `addChat`/`setMember` and by every update that is enqueued or pushed.
 * - `failNext` injects errors (429 also gets a `Retry-After` header and `parameters.retry_after`).
 * - `limits` enforces Telegram's rate limits (see rate-limits.ts): over them, 429 and a flood wait.
 *
 * Where each part lives: server.ts (the server, calls, failure injection), request.ts (reading a
 * request), updates.ts (getUpdates, webhooks, push), messages.ts (sendX, reply markup),
 * parse-html.ts / parse-markdown.ts / text-entities.ts (parse_mode), chats.ts (chats and members),
 * invite-links.ts (invite links, join requests), rate-limits.ts, fixtures.ts (`tg.*`), types.ts.
 */
export { FakeBotApi } from "./server.ts";
export { tg, isInChat, type AdminRights, type MemberOptions } from "./fixtures.ts";
export { parseHtml } from "./parse-html.ts";
export { parseMarkdown, parseMarkdownV2 } from "./parse-markdown.ts";
export { TelegramLimits, type TelegramLimitOptions } from "./rate-limits.ts";
export type { PushOptions } from "./updates.ts";
export {
  BotApiError,
  type ApiCall,
  type ApiFailure,
  type BotSpec,
  type FakeBot,
  type FakeBotApiOptions,
  type MemberStatus,
  type MethodHandler,
  type PushResult,
  type UploadedFile,
  type WebhookState,
} from "./types.ts";
