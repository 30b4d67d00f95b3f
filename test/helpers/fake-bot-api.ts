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
 * - `limits` enforces Telegram's rate limits (see telegram-limits.ts): over them, 429 and a flood wait.
 */
import { randomBytes } from "node:crypto";
import { TelegramLimits, type TelegramLimitOptions } from "./telegram-limits.ts";
import type {
  Chat,
  ChatInviteLink,
  ChatJoinRequest,
  ChatMember,
  ChatMemberAdministrator,
  ChatMemberUpdated,
  Message,
  User,
  UserFromGetMe,
} from "grammy/types";

// ───────────────────────────── public types ─────────────────────────────

export interface UploadedFile {
  /** File name as sent in the multipart part (grammY: basename of a path, or `photo.jpg` etc.). */
  name: string;
  /** Size in bytes. */
  size: number;
}

export interface ApiCall {
  token: string;
  /** Method name exactly as requested (grammY: `sendMessage`, …). */
  method: string;
  /** Query, JSON or form fields; multipart strings are decoded (numbers, booleans, JSON fields). */
  params: Record<string, unknown>;
  /** Uploaded files by the parameter they were sent for (`photo`, `video`, …). */
  files: Record<string, UploadedFile>;
  /** Epoch ms when the request arrived (real time). */
  at: number;
  /** HTTP status of the answer; unset while a long poll is pending. */
  status?: number;
  /** The JSON body of the answer; unset while pending. */
  response?: unknown;
}

export interface ApiFailure {
  error_code: number;
  description: string;
  retry_after?: number;
  migrate_to_chat_id?: number;
  /** Only calls made with this token fail (default: any bot). */
  token?: string;
}

export interface BotSpec {
  /** `<id>:<secret>`, e.g. `123456:ABC-test`. */
  token: string;
  /** Defaults to the number before the colon of the token. */
  id?: number;
  username: string;
  first_name?: string;
}

export interface WebhookState {
  url: string;
  secret_token?: string;
  max_connections?: number;
  ip_address?: string;
}

export interface PushResult {
  update_id: number;
  /** HTTP status of the webhook's answer (0 when the update was dropped, see FakeBotApiOptions). */
  status: number;
  body: string;
  /** Set when `enforceAllowedUpdates` dropped the update instead of delivering it. */
  dropped?: true;
}

export interface FakeBotApiOptions {
  /**
   * Drop enqueued/pushed updates whose type the bot did not ask for in `allowed_updates` (default
   * set when never given or empty: everything but chat_member, message_reaction and
   * message_reaction_count), as Telegram does. Dropped updates are listed in `dropped`.
   * Off by default so tests may enqueue before the service has polled once.
   */
  enforceAllowedUpdates?: boolean;
  /** Parse `parse_mode` markup like Telegram (default true); false: text is echoed unchanged. */
  parseEntities?: boolean;
  /** Clock for `date` fields and webhook error dates, epoch ms (default Date.now). */
  now?: () => number;
  /** Enforce Telegram's rate limits (true: the defaults — 30/s per bot, 1/s per chat, 20/min per group, 3 s flood wait). */
  limits?: TelegramLimitOptions | true;
  /** Listen on this port of 127.0.0.1 (default: a free one), e.g. to come up where a service already looks. */
  port?: number;
}

export type MethodHandler = (call: ApiCall, bot: FakeBot) => unknown;

/** Throw from a `setHandler` handler to answer with an error. */
export class BotApiError extends Error {
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number; migrate_to_chat_id?: number },
  ) {
    super(description);
  }
}

/** One registered bot and its server-side state. */
export interface FakeBot {
  readonly token: string;
  readonly user: UserFromGetMe;
  /** Unconfirmed updates, ascending update_id. */
  queue: Record<string, unknown>[];
  /** Next update_id to assign. */
  nextUpdateId: number;
  /** Highest offset confirmed by getUpdates. */
  confirmedOffset: number;
  webhook?: WebhookState;
  /** Sticky allowed_updates; undefined = never set. */
  allowedUpdates?: string[];
  lastErrorDate?: number;
  lastErrorMessage?: string;
  /** Chat ids that blocked the bot (sendX → 403). */
  blocked: Set<number>;
}

export type MemberStatus = ChatMember["status"];

// ───────────────────────────── helpers ─────────────────────────────

const DEFAULT_EXCLUDED_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);
const CONFLICT_WEBHOOK =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const CONFLICT_POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
const WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified";

const JSON_FIELDS = new Set([
  "reply_markup",
  "entities",
  "caption_entities",
  "allowed_updates",
  "link_preview_options",
  "reply_parameters",
  "media",
  "commands",
  "scope",
  "permissions",
]);
const NUMBER_FIELDS = new Set([
  "chat_id",
  "user_id",
  "message_id",
  "message_thread_id",
  "reply_to_message_id",
  "from_chat_id",
  "offset",
  "limit",
  "timeout",
  "max_connections",
  "expire_date",
  "member_limit",
  "until_date",
  "duration",
  "width",
  "height",
  "start_timestamp",
]);
const BOOLEAN_FIELDS = new Set([
  "disable_notification",
  "protect_content",
  "allow_sending_without_reply",
  "allow_paid_broadcast",
  "has_spoiler",
  "supports_streaming",
  "show_caption_above_media",
  "creates_join_request",
  "drop_pending_updates",
  "disable_web_page_preview",
  "revoke_messages",
  "only_if_banned",
]);

function decodeField(key: string, value: string): unknown {
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (NUMBER_FIELDS.has(key) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (BOOLEAN_FIELDS.has(key) && (value === "true" || value === "false")) return value === "true";
  return value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function randomId(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

/** Splits a header value on `;` outside quotes and reads `key=value` / `key="value"` pairs. */
function headerParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? "";
    if (ch === '"' && value[i - 1] !== "\\") quoted = !quoted;
    if (ch === ";" && !quoted) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    const k = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    out.set(k, v);
  }
  return out;
}

interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** A tolerant multipart/form-data parser (grammY's parts are not quite RFC 7578). */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const parts: Part[] = [];
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos !== -1) {
    let start = pos + delim.length;
    if (body[start] === 45 && body[start + 1] === 45) break; // "--": closing delimiter
    if (body[start] === 13 && body[start + 1] === 10) start += 2;
    const end = body.indexOf(next, start);
    if (end === -1) break;
    const raw = body.subarray(start, end);
    const headerEnd = raw.indexOf("\r\n\r\n");
    if (headerEnd !== -1) {
      const headers = raw.subarray(0, headerEnd).toString("utf8").split("\r\n");
      let disposition = "";
      for (const h of headers) {
        const colon = h.indexOf(":");
        if (colon > 0 && h.slice(0, colon).trim().toLowerCase() === "content-disposition") disposition = h.slice(colon + 1);
      }
      const p = headerParams(disposition);
      const name = p.get("name");
      if (name !== undefined) parts.push({ name, filename: p.get("filename"), data: Buffer.from(raw.subarray(headerEnd + 4)) });
    }
    pos = end + 2;
  }
  return parts;
}

async function readRequest(req: Request, url: URL): Promise<{ params: Record<string, unknown>; files: Record<string, UploadedFile> }> {
  const params: Record<string, unknown> = {};
  const files: Record<string, UploadedFile> = {};
  for (const [k, v] of url.searchParams) params[k] = decodeField(k, v);
  if (req.method === "GET" || req.method === "HEAD") return { params, files };
  const body = Buffer.from(await req.arrayBuffer());
  if (body.length === 0) return { params, files };
  const type = req.headers.get("content-type") ?? "";
  const lower = type.toLowerCase();
  if (lower.startsWith("multipart/form-data")) {
    const boundary = headerParams(type).get("boundary");
    if (!boundary) throw new BotApiError(400, "Bad Request: can't parse multipart/form-data");
    const uploads = new Map<string, UploadedFile>();
    for (const part of parseMultipart(body, boundary)) {
      if (part.filename !== undefined) uploads.set(part.name, { name: part.filename, size: part.data.length });
      else params[part.name] = decodeField(part.name, part.data.toString("utf8"));
    }
    const attached = new Set<string>();
    for (const [k, v] of Object.entries(params)) {
      if (typeof v === "string" && v.startsWith("attach://")) {
        const up = uploads.get(v.slice("attach://".length));
        if (up) {
          files[k] = up;
          attached.add(v.slice("attach://".length));
        }
      }
    }
    // Files uploaded directly under the parameter name (no attach:// indirection).
    for (const [name, up] of uploads) if (!attached.has(name)) files[name] = up;
  } else if (lower.startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params[k] = decodeField(k, v);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new BotApiError(400, "Bad Request: can't parse JSON object");
    }
    if (isRecord(parsed)) Object.assign(params, parsed);
  }
  return { params, files };
}

// ───────────────────────────── text entities (parse_mode) ─────────────────────────────

interface Entity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

interface Parsed {
  text: string;
  entities: Entity[];
}

const byteOffset = (text: string, i: number) => Buffer.byteLength(text.slice(0, i), "utf8");
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";
const parseError = (msg: string) => new BotApiError(400, `Bad Request: can't parse entities: ${msg}`);

/** Telegram's check for a link: http(s)/tg/ton, bare domains get http://. Returns "" if invalid. */
function checkedLink(raw: string): string {
  const s = raw.trim();
  if (!s) return "";
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(s) ? s : `http://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return "";
  }
  if (u.protocol === "http:" || u.protocol === "https:") return u.hostname ? u.href : "";
  if (u.protocol === "tg:" || u.protocol === "ton:") return u.href;
  return "";
}

function sortEntities(entities: Entity[]): Entity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/** Legacy Markdown, after tdlib's parse_markdown (no nesting; `\` escapes _ * ` [ outside entities). */
export function parseMarkdown(text: string): Parsed {
  const at = (k: number) => text[k] ?? "";
  const n = text.length;
  let out = "";
  const entities: Entity[] = [];
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (c === "\\" && "_*`[".includes(at(i + 1)) && at(i + 1) !== "") {
      out += at(i + 1);
      i++;
      continue;
    }
    if (c !== "_" && c !== "*" && c !== "`" && c !== "[") {
      out += c;
      continue;
    }
    const begin = i;
    const endChar = c === "[" ? "]" : c;
    i++;
    let isPre = false;
    let language = "";
    if (c === "`" && at(i) === "`" && at(i + 1) === "`") {
      i += 2;
      isPre = true;
      let le = i;
      while (le < n && !isSpace(at(le)) && at(le) !== "`") le++;
      if (i !== le && le < n && at(le) !== "`") {
        language = text.slice(i, le);
        i = le;
      }
      const cur = at(i);
      if (cur === "\r" || cur === "\n") {
        const nx = at(i + 1);
        i += (nx === "\r" || nx === "\n") && nx !== cur ? 2 : 1;
      }
    }
    const offset = out.length;
    while (i < n && (at(i) !== endChar || (isPre && !(at(i + 1) === "`" && at(i + 2) === "`")))) out += at(i++);
    if (i >= n) throw parseError(`Can't find end of the entity starting at byte offset ${byteOffset(text, begin)}`);
    const length = out.length - offset;
    if (length > 0) {
      if (c === "_") entities.push({ type: "italic", offset, length });
      else if (c === "*") entities.push({ type: "bold", offset, length });
      else if (c === "`") entities.push(isPre ? { type: "pre", offset, length, ...(language ? { language } : {}) } : { type: "code", offset, length });
      else {
        let url: string;
        if (at(i + 1) !== "(") url = text.slice(begin + 1, i);
        else {
          i += 2;
          const s = i;
          while (i < n && at(i) !== ")") i++;
          url = text.slice(s, i);
        }
        const link = checkedLink(url);
        if (link) entities.push({ type: "text_link", offset, length, url: link });
      }
    }
    if (isPre) i += 2;
  }
  return { text: out, entities: sortEntities(entities) };
}

const HTML_TAGS = new Set([
  "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
  "tg-spoiler", "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
]);
const HTML_ENTITY_TYPES: Record<string, string> = {
  b: "bold", strong: "bold", i: "italic", em: "italic", s: "strikethrough", strike: "strikethrough",
  del: "strikethrough", u: "underline", ins: "underline", "tg-spoiler": "spoiler", span: "spoiler",
  code: "code", pre: "pre", blockquote: "blockquote",
};

function decodeHtmlEntity(text: string, i: number): { ch: string; len: number } | undefined {
  const m = /^&(lt|gt|amp|quot|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/.exec(text.slice(i, i + 12));
  if (!m) return undefined;
  const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };
  const name = m[1] ?? "";
  let ch = named[name];
  if (ch === undefined) {
    const code = m[2] !== undefined ? Number(m[2]) : parseInt(m[3] ?? "0", 16);
    if (code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    ch = String.fromCodePoint(code);
  }
  return { ch, len: m[0].length };
}

/** HTML parse mode, after tdlib's parse_html. */
export function parseHtml(text: string): Parsed {
  const at = (k: number) => text[k] ?? "";
  const n = text.length;
  let out = "";
  const entities: Entity[] = [];
  const stack: { tag: string; arg: string; offset: number; language?: string }[] = [];
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (c === "&") {
      const d = decodeHtmlEntity(text, i);
      if (d) {
        out += d.ch;
        i += d.len - 1;
      } else out += "&";
      continue;
    }
    if (c !== "<") {
      out += c;
      continue;
    }
    const begin = i;
    const bo = () => byteOffset(text, begin);
    i++;
    if (at(i) !== "/") {
      let tagEnd = i;
      while (tagEnd < n && !isSpace(at(tagEnd)) && at(tagEnd) !== ">") tagEnd++;
      const tag = text.slice(i, tagEnd).toLowerCase();
      if (!HTML_TAGS.has(tag)) throw parseError(`Unsupported start tag "${tag}" at byte offset ${bo()}`);
      i = tagEnd;
      let arg = "";
      while (at(i) !== ">") {
        while (i < n && isSpace(at(i))) i++;
        if (at(i) === ">") break;
        if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
        const nameBegin = i;
        while (i < n && !isSpace(at(i)) && at(i) !== "=" && at(i) !== ">") i++;
        const attr = text.slice(nameBegin, i).toLowerCase();
        if (!attr) throw parseError(`Empty attribute name in the tag "${tag}" at byte offset ${bo()}`);
        while (i < n && isSpace(at(i))) i++;
        if (at(i) !== "=") {
          if (tag === "blockquote" && attr === "expandable") {
            arg = "expandable";
            continue;
          }
          if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
          throw parseError(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${bo()}`);
        }
        i++;
        while (i < n && isSpace(at(i))) i++;
        if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
        let value = "";
        const q = at(i);
        if (q !== "'" && q !== '"') {
          const tokenBegin = i;
          while (/[A-Za-z0-9.-]/.test(at(i))) i++;
          value = text.slice(tokenBegin, i).toLowerCase();
          if (!isSpace(at(i)) && at(i) !== ">") {
            throw parseError(`Unexpected end of name token at byte offset ${byteOffset(text, tokenBegin)}`);
          }
        } else {
          i++;
          while (i < n && at(i) !== q) {
            const d = at(i) === "&" ? decodeHtmlEntity(text, i) : undefined;
            if (d) {
              value += d.ch;
              i += d.len;
            } else value += at(i++);
          }
          if (at(i) === q) i++;
        }
        if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
        if (tag === "a" && attr === "href") arg = value;
        else if (tag === "code" && attr === "class" && value.startsWith("language-")) arg = value.slice("language-".length);
        else if (tag === "span" && attr === "class" && value.startsWith("tg-")) arg = value.slice(3);
        else if (tag === "tg-emoji" && attr === "emoji-id") arg = value;
      }
      if (tag === "span" && arg !== "spoiler") throw parseError(`Tag "span" must have class "tg-spoiler" at byte offset ${bo()}`);
      stack.push({ tag, arg, offset: out.length });
    } else {
      if (stack.length === 0) throw parseError(`Unexpected end tag at byte offset ${bo()}`);
      i++;
      let tagEnd = i;
      while (tagEnd < n && !isSpace(at(tagEnd)) && at(tagEnd) !== ">") tagEnd++;
      const endName = text.slice(i, tagEnd).toLowerCase();
      i = tagEnd;
      while (i < n && isSpace(at(i))) i++;
      if (at(i) !== ">") throw parseError(`Unclosed end tag at byte offset ${bo()}`);
      const top = stack.pop()!;
      if (endName && endName !== top.tag) {
        throw parseError(`Unmatched end tag at byte offset ${bo()}, expected "</${top.tag}>", found "</${endName}>"`);
      }
      const offset = top.offset;
      const length = out.length - offset;
      if (length <= 0) continue;
      const parent = stack[stack.length - 1];
      if (top.tag === "a") {
        const link = checkedLink(top.arg);
        if (link) entities.push({ type: "text_link", offset, length, url: link });
      } else if (top.tag === "code" && parent?.tag === "pre" && parent.offset === offset) {
        if (top.arg) parent.language = top.arg; // <pre><code class="language-x"> → pre with language
      } else if (top.tag === "pre") {
        entities.push({ type: "pre", offset, length, ...(top.language ? { language: top.language } : {}) });
      } else if (top.tag === "blockquote") {
        entities.push({ type: top.arg === "expandable" ? "expandable_blockquote" : "blockquote", offset, length });
      } else if (top.tag === "tg-emoji") {
        if (top.arg) entities.push({ type: "custom_emoji", offset, length, custom_emoji_id: top.arg });
      } else {
        const type = HTML_ENTITY_TYPES[top.tag];
        if (type) entities.push({ type, offset, length });
      }
    }
  }
  const open = stack[stack.length - 1];
  if (open) throw parseError(`Can't find end tag corresponding to start tag "${open.tag}"`);
  return { text: out, entities: sortEntities(entities) };
}

const V2_RESERVED = "_*[]()~`>#+-=|{}.!";
const V2_NAMES: Record<string, string> = {
  bold: "Bold", italic: "Italic", underline: "Underline", strikethrough: "Strikethrough", spoiler: "Spoiler",
  text_link: "TextUrl", code: "Code", pre: "Pre", custom_emoji: "CustomEmoji",
};

/**
 * MarkdownV2, close to tdlib's parse_markdown_v2: every reserved character outside an entity must
 * be escaped, entities must be closed. (Simplified: `>` blockquote markers are accepted and dropped.)
 */
export function parseMarkdownV2(text: string): Parsed {
  const at = (k: number) => text[k] ?? "";
  const n = text.length;
  let out = "";
  const entities: Entity[] = [];
  const stack: { type: string; begin: number; offset: number; language?: string }[] = [];
  const close = (type: string, offset: number, extra: Partial<Entity> = {}) => {
    const length = out.length - offset;
    if (length > 0) entities.push({ type, offset, length, ...extra });
  };
  for (let i = 0; i < n; i++) {
    const c = at(i);
    const top = stack[stack.length - 1];
    if (top && (top.type === "code" || top.type === "pre")) {
      if (c === "\\" && (at(i + 1) === "`" || at(i + 1) === "\\")) {
        out += at(++i);
        continue;
      }
      if (top.type === "pre" ? text.startsWith("```", i) : c === "`") {
        stack.pop();
        close(top.type, top.offset, top.language ? { language: top.language } : {});
        if (top.type === "pre") i += 2;
        continue;
      }
      out += c;
      continue;
    }
    if (c === "\\") {
      const nx = at(i + 1);
      if (nx && nx.charCodeAt(0) > 0 && nx.charCodeAt(0) <= 126) {
        out += nx;
        i++;
        continue;
      }
    }
    if (top) {
      let end = false;
      let extra = 0;
      switch (top.type) {
        case "bold":
          end = c === "*";
          break;
        case "italic":
          end = c === "_" && at(i + 1) !== "_";
          break;
        case "underline":
          end = c === "_" && at(i + 1) === "_";
          extra = 1;
          break;
        case "strikethrough":
          end = c === "~";
          break;
        case "spoiler":
          end = c === "|" && at(i + 1) === "|";
          extra = 1;
          break;
        case "text_link":
        case "custom_emoji":
          end = c === "]";
          break;
      }
      if (end) {
        stack.pop();
        if (top.type === "text_link" || top.type === "custom_emoji") {
          let url = text.slice(top.begin + (top.type === "custom_emoji" ? 2 : 1), i);
          if (at(i + 1) === "(") {
            const urlBegin = i + 1;
            i += 2;
            url = "";
            while (i < n && at(i) !== ")") {
              if (at(i) === "\\" && (at(i + 1) === ")" || at(i + 1) === "\\")) i++;
              url += at(i++);
            }
            if (at(i) !== ")") throw parseError(`Can't find end of a URL at byte offset ${byteOffset(text, urlBegin)}`);
          }
          if (top.type === "text_link") {
            const link = checkedLink(url);
            if (link) close("text_link", top.offset, { url: link });
          } else {
            const id = /^tg:\/\/emoji\?id=(\d+)$/.exec(url)?.[1];
            if (!id) throw parseError(`Custom emoji URL must have an emoji identifier`);
            close("custom_emoji", top.offset, { custom_emoji_id: id });
          }
        } else {
          close(top.type, top.offset);
          i += extra;
        }
        continue;
      }
    }
    let type = "";
    let skip = 0;
    let language: string | undefined;
    if (c === "*") type = "bold";
    else if (c === "_") [type, skip] = at(i + 1) === "_" ? ["underline", 1] : ["italic", 0];
    else if (c === "~") type = "strikethrough";
    else if (c === "|" && at(i + 1) === "|") [type, skip] = ["spoiler", 1];
    else if (c === "[") type = "text_link";
    else if (c === "!" && at(i + 1) === "[") [type, skip] = ["custom_emoji", 1];
    else if (c === "`") {
      if (text.startsWith("```", i)) {
        type = "pre";
        skip = 2;
        const nl = text.indexOf("\n", i + 3);
        const tick = text.indexOf("`", i + 3);
        if (nl !== -1 && (tick === -1 || nl < tick)) {
          const lang = text.slice(i + 3, nl);
          if (lang.trim()) language = lang.trim();
          skip = nl - i;
        }
      } else type = "code";
    } else if (c === ">" && (i === 0 || at(i - 1) === "\n")) {
      continue; // blockquote line marker (entity not modelled)
    }
    if (type) {
      stack.push({ type, begin: i, offset: out.length, ...(language ? { language } : {}) });
      i += skip;
      continue;
    }
    if (V2_RESERVED.includes(c)) throw parseError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
    out += c;
  }
  const open = stack[stack.length - 1];
  if (open) {
    throw parseError(`Can't find end of ${V2_NAMES[open.type] ?? open.type} entity at byte offset ${byteOffset(text, open.begin)}`);
  }
  return { text: out, entities: sortEntities(entities) };
}

// ───────────────────────────── fixtures ─────────────────────────────

/** Invite links minted by any FakeBotApi, so fixtures given just the URL carry the real link object. */
const knownInviteLinks = new Map<string, ChatInviteLink>();
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

function botUser(bot: { id: number; username?: string; first_name?: string }): User {
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
  user(id: number, opts: { username?: string; first_name?: string; last_name?: string; language_code?: string } = {}): User {
    return {
      id,
      is_bot: false,
      first_name: opts.first_name ?? `User${id}`,
      ...(opts.last_name ? { last_name: opts.last_name } : {}),
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.language_code ? { language_code: opts.language_code } : {}),
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

// ───────────────────────────── the server ─────────────────────────────

class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

type StoredFile = { kind: "photo"; photo: Record<string, unknown>[] } | { kind: "video"; video: Record<string, unknown> };

interface ChatState {
  chat: Record<string, unknown> & { id: number; type: string };
  members: Map<number, ChatMember>;
  /** user id → pending (true) / handled (false). */
  joinRequests: Map<number, boolean>;
}

interface BotInternal extends FakeBot {
  files: Map<string, StoredFile>;
  poll?: { finish: (outcome: { status: number; body: unknown }) => void };
  wake?: () => void;
}

interface Waiter {
  check: () => boolean;
}

type Server = ReturnType<typeof Bun.serve>;

export class FakeBotApi {
  /** Every request, in arrival order (including 401s and injected failures). */
  readonly calls: ApiCall[] = [];
  /** Updates dropped by `enforceAllowedUpdates`. */
  readonly dropped: { token: string; update: Record<string, unknown> }[] = [];
  /** Every webhook delivery made by `push`. */
  readonly deliveries: { token: string; url: string; update: Record<string, unknown>; status: number; body: string; at: number }[] = [];
  /** Invite links created through the API, by URL. */
  readonly inviteLinks = new Map<string, ChatInviteLink & { chat_id: number | string; token: string }>();

  private server?: Server;
  private readonly bots = new Map<string, BotInternal>();
  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, User>();
  private failures: { method: string; failure: ApiFailure; left: number }[] = [];
  private readonly handlers = new Map<string, MethodHandler>();
  private waiters: Waiter[] = [];
  private nextMessageId = 1;
  private readonly opts: Required<Omit<FakeBotApiOptions, "limits" | "port">>;
  /** Rate limits in force (real time), when asked for. */
  readonly limits: TelegramLimits | undefined;

  private constructor(opts: FakeBotApiOptions) {
    const { limits, port: _port, ...rest } = opts;
    this.opts = { enforceAllowedUpdates: false, parseEntities: true, now: () => Date.now(), ...rest };
    this.limits = limits ? new TelegramLimits(limits === true ? {} : limits) : undefined;
  }

  static async start(opts: FakeBotApiOptions = {}): Promise<FakeBotApi> {
    const fake = new FakeBotApi(opts);
    fake.server = Bun.serve({
      hostname: "127.0.0.1",
      port: opts.port ?? 0,
      idleTimeout: 0, // long polls may be silent for `timeout` seconds
      fetch: (req) => fake.handle(req),
    });
    return fake;
  }

  /** `http://127.0.0.1:PORT` — grammY's `client.apiRoot` (no trailing slash). */
  get apiRoot(): string {
    if (!this.server) throw new Error("FakeBotApi is closed");
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Ends pending long polls (empty result) and stops the server, dropping open connections. */
  async close(): Promise<void> {
    for (const bot of this.bots.values()) bot.poll?.finish({ status: 200, body: { ok: true, result: [] } });
    const server = this.server;
    this.server = undefined;
    await server?.stop(true);
  }

  // ── bots ──

  /** Registers a bot; returns its getMe result. */
  addBot(spec: BotSpec): UserFromGetMe {
    const id = spec.id ?? Number(spec.token.split(":")[0]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`addBot: no numeric id for token ${spec.token}`);
    const user: UserFromGetMe = {
      id,
      is_bot: true,
      first_name: spec.first_name ?? spec.username,
      username: spec.username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    };
    this.bots.set(spec.token, {
      token: spec.token,
      user,
      queue: [],
      nextUpdateId: 1000,
      confirmedOffset: 0,
      blocked: new Set(),
      files: new Map(),
    });
    return user;
  }

  /** Revokes a token: later calls with it get 401. */
  removeBot(token: string): void {
    const bot = this.bots.get(token);
    bot?.poll?.finish({ status: 401, body: unauthorized() });
    this.bots.delete(token);
  }

  /** A registered bot's state (queue, webhook, allowed updates, …). */
  bot(token: string): FakeBot {
    return this.mustBot(token);
  }

  /** The sticky allowed_updates of a bot (undefined if never set). */
  allowedUpdates(token: string): string[] | undefined {
    return this.mustBot(token).allowedUpdates;
  }

  /** The webhook currently set for a bot. */
  webhook(token: string): WebhookState | undefined {
    return this.mustBot(token).webhook;
  }

  /** Makes sendX to this chat answer 403 "Forbidden: bot was blocked by the user". */
  block(token: string, chatId: number): void {
    this.mustBot(token).blocked.add(chatId);
  }

  unblock(token: string, chatId: number): void {
    this.mustBot(token).blocked.delete(chatId);
  }

  // ── chats registry ──

  /** Makes a chat known to getChat & co., optionally with members (e.g. the bot as administrator). */
  addChat(chat: Chat, members: ChatMember[] = []): void {
    this.chatState(chat);
    for (const m of members) this.setMember(chat.id, m);
  }

  /** Sets a member of a known chat (registers the chat lazily if it is unknown). */
  setMember(chatId: number, m: ChatMember): void {
    const state = this.chats.get(chatId) ?? this.chatState({ id: chatId, type: chatId < -1e12 ? "supergroup" : "group", title: `Chat ${chatId}` });
    state.members.set(m.user.id, m);
    this.users.set(m.user.id, m.user);
  }

  /** A member as the fake knows it (from addChat/setMember, updates, approve/ban calls). */
  member(chatId: number, userId: number): ChatMember | undefined {
    return this.chats.get(chatId)?.members.get(userId);
  }

  // ── failure injection and custom methods ──

  /** The next `times` calls to `method` (by any bot, or `failure.token`'s) fail with this error. */
  failNext(method: string, failure: ApiFailure, times = 1): void {
    this.failures.push({ method: method.toLowerCase(), failure, left: times });
  }

  /** Drops pending injected failures. */
  clearFailures(): void {
    this.failures = [];
  }

  /** Answers `method` with a custom handler (return the result, or throw a BotApiError). */
  setHandler(method: string, handler: MethodHandler): void {
    this.handlers.set(method.toLowerCase(), handler);
  }

  // ── updates ──

  /** Queues an update for getUpdates; assigns update_id if absent. Returns the update_id. */
  enqueue(token: string, update: object & { update_id?: number }): number {
    const bot = this.mustBot(token);
    const u = this.prepareUpdate(bot, update);
    const id = u.update_id as number;
    if (this.isFiltered(bot, u)) {
      this.dropped.push({ token, update: u });
      return id;
    }
    this.observe(u);
    bot.queue.push(u);
    bot.queue.sort((a, b) => (a.update_id as number) - (b.update_id as number));
    bot.wake?.();
    return id;
  }

  /**
   * POSTs an update to the bot's webhook with `X-Telegram-Bot-Api-Secret-Token` (the stored secret,
   * `opts.secret` instead, or none with `secret: null`). Resolves with the answer.
   */
  async push(
    token: string,
    update: object & { update_id?: number },
    opts: { secret?: string | null; timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<PushResult> {
    const bot = this.mustBot(token);
    const webhook = bot.webhook;
    if (!webhook) throw new Error(`push: no webhook is set for bot ${bot.user.username}`);
    const u = this.prepareUpdate(bot, update);
    const update_id = u.update_id as number;
    if (this.isFiltered(bot, u)) {
      this.dropped.push({ token, update: u });
      return { update_id, status: 0, body: "", dropped: true };
    }
    this.observe(u);
    const secret = opts.secret === undefined ? webhook.secret_token : opts.secret;
    const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
    if (secret !== undefined && secret !== null) headers["x-telegram-bot-api-secret-token"] = secret;
    let status: number;
    let body: string;
    try {
      const res = await fetch(webhook.url, {
        method: "POST",
        headers,
        body: JSON.stringify(u),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      status = res.status;
      body = await res.text();
    } catch (err) {
      bot.lastErrorDate = Math.floor(this.opts.now() / 1000);
      bot.lastErrorMessage = `Connection failed: ${(err as Error).message}`;
      throw err;
    }
    if (status < 200 || status > 299) {
      bot.lastErrorDate = Math.floor(this.opts.now() / 1000);
      bot.lastErrorMessage = `Wrong response from the webhook: ${status}`;
    }
    this.deliveries.push({ token, url: webhook.url, update: u, status, body, at: Date.now() });
    return { update_id, status, body };
  }

  // ── inspecting calls ──

  /** Calls to a method (optionally by one bot), in order. */
  callsTo(method: string, token?: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method && (token === undefined || c.token === token));
  }

  /** Forgets recorded calls, deliveries and dropped updates (bots, chats and queues stay). */
  clearCalls(): void {
    this.calls.length = 0;
    this.deliveries.length = 0;
    this.dropped.length = 0;
  }

  /**
   * Resolves with the first call to `method` matching `predicate` — already recorded (from index
   * `since`, default 0) or arriving later. Resolves when the request arrives, before it is answered.
   * Rejects after `timeoutMs` (real time) listing the calls seen.
   */
  waitForCall(method: string, predicate?: (call: ApiCall) => boolean, timeoutMs = 10_000, opts: { since?: number } = {}): Promise<ApiCall> {
    return this.waitForCalls(method, 1, predicate, timeoutMs, opts).then((calls) => calls[0]!);
  }

  /** Resolves with the first `count` matching calls once that many have arrived. */
  waitForCalls(
    method: string,
    count: number,
    predicate?: (call: ApiCall) => boolean,
    timeoutMs = 10_000,
    opts: { since?: number } = {},
  ): Promise<ApiCall[]> {
    const since = opts.since ?? 0;
    const matching = () => this.calls.slice(since).filter((c) => c.method === method && (!predicate || predicate(c)));
    const now = matching();
    if (now.length >= count) return Promise.resolve(now.slice(0, count));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          const got = matching();
          if (got.length < count) return false;
          clearTimeout(timer);
          resolve(got.slice(0, count));
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.calls.map((c) => `  ${c.method} ${summarize(c.params)}${c.status ? ` → ${c.status}` : ""}`);
        reject(
          new Error(
            `waitForCall(${method}${count > 1 ? ` ×${count}` : ""}) timed out after ${timeoutMs} ms; ` +
              `${this.calls.length} call(s) seen:\n${seen.join("\n") || "  (none)"}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // ── request handling ──

  private async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const m = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(url.pathname);
    if (!m) return jsonResponse(404, { ok: false, error_code: 404, description: "Not Found" });
    const token = decodeURIComponent(m[1] ?? "");
    const method = m[2] ?? "";
    let params: Record<string, unknown> = {};
    let files: Record<string, UploadedFile> = {};
    let parseFailure: BotApiError | undefined;
    try {
      ({ params, files } = await readRequest(req, url));
    } catch (err) {
      parseFailure = err instanceof BotApiError ? err : new BotApiError(400, `Bad Request: ${(err as Error).message}`);
    }
    const call: ApiCall = { token, method, params, files, at: Date.now() };
    this.calls.push(call);
    this.waiters = this.waiters.filter((w) => !w.check());

    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      call.response = body;
      return jsonResponse(status, body, headers);
    };
    const fail = (e: BotApiError) => {
      const body: Record<string, unknown> = { ok: false, error_code: e.error_code, description: e.description };
      if (e.parameters && Object.keys(e.parameters).length) body.parameters = e.parameters;
      const headers: Record<string, string> = e.parameters?.retry_after !== undefined ? { "Retry-After": String(e.parameters.retry_after) } : {};
      return answer(e.error_code, body, headers);
    };

    const bot = this.bots.get(token);
    if (!bot) return answer(401, unauthorized());
    const injected = this.takeFailure(method, token);
    if (injected) {
      const parameters: { retry_after?: number; migrate_to_chat_id?: number } = {};
      if (injected.retry_after !== undefined) parameters.retry_after = injected.retry_after;
      if (injected.migrate_to_chat_id !== undefined) parameters.migrate_to_chat_id = injected.migrate_to_chat_id;
      return fail(new BotApiError(injected.error_code, injected.description, parameters));
    }
    if (parseFailure) return fail(parseFailure);
    const retryAfter = this.limits?.check(token, method, params, Date.now()) ?? 0;
    if (retryAfter > 0) return fail(new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter }));
    try {
      const lower = method.toLowerCase();
      const custom = this.handlers.get(lower);
      if (lower === "getupdates" && !custom) {
        const outcome = await this.getUpdates(bot, params, req);
        return answer(outcome.status, outcome.body);
      }
      const impl = this.methods[lower];
      if (!custom && !impl) return answer(404, { ok: false, error_code: 404, description: "Not Found" });
      const result = custom ? await custom(call, bot) : await impl?.call(this, bot, params, files);
      if (result instanceof Described) return answer(200, { ok: true, result: result.result, description: result.description });
      return answer(200, { ok: true, result });
    } catch (err) {
      if (err instanceof BotApiError) return fail(err);
      return answer(500, { ok: false, error_code: 500, description: `Internal Server Error: ${(err as Error).message}` });
    }
  }

  private takeFailure(method: string, token: string): ApiFailure | undefined {
    const lower = method.toLowerCase();
    const entry = this.failures.find((f) => f.method === lower && (f.failure.token === undefined || f.failure.token === token));
    if (!entry) return undefined;
    entry.left--;
    if (entry.left <= 0) this.failures = this.failures.filter((f) => f !== entry);
    return entry.failure;
  }

  private mustBot(token: string): BotInternal {
    const bot = this.bots.get(token);
    if (!bot) throw new Error(`FakeBotApi: unknown bot token ${token}`);
    return bot;
  }

  private prepareUpdate(bot: BotInternal, update: object & { update_id?: number }): Record<string, unknown> {
    const u = structuredClone(update) as Record<string, unknown>;
    if (typeof u.update_id !== "number") u.update_id = bot.nextUpdateId;
    bot.nextUpdateId = Math.max(bot.nextUpdateId, (u.update_id as number) + 1);
    // Keep update_id first, like Telegram.
    const { update_id, ...rest } = u;
    return { update_id, ...rest };
  }

  private isFiltered(bot: BotInternal, u: Record<string, unknown>): boolean {
    if (!this.opts.enforceAllowedUpdates) return false;
    const type = Object.keys(u).find((k) => k !== "update_id");
    if (!type) return false;
    const allowed = bot.allowedUpdates;
    if (!allowed || allowed.length === 0) return DEFAULT_EXCLUDED_UPDATES.has(type);
    return !allowed.includes(type);
  }

  /** Learns users, chats, members and join requests from an update. */
  private observe(u: Record<string, unknown>): void {
    const rememberUser = (x: unknown) => {
      if (isRecord(x) && typeof x.id === "number" && typeof x.first_name === "string") this.users.set(x.id, x as unknown as User);
    };
    const rememberChat = (x: unknown) => {
      if (isRecord(x) && typeof x.id === "number" && typeof x.type === "string" && x.type !== "private") this.chatState(x as unknown as Chat);
    };
    const msg = u.message;
    if (isRecord(msg)) {
      rememberUser(msg.from);
      rememberChat(msg.chat);
    }
    const jr = u.chat_join_request;
    if (isRecord(jr) && isRecord(jr.chat) && isRecord(jr.from)) {
      rememberUser(jr.from);
      const state = this.chatState(jr.chat as unknown as Chat);
      state.joinRequests.set(jr.from.id as number, true);
    }
    for (const key of ["chat_member", "my_chat_member"]) {
      const cm = u[key];
      if (!isRecord(cm) || !isRecord(cm.chat) || !isRecord(cm.new_chat_member)) continue;
      rememberUser(cm.from);
      const state = this.chatState(cm.chat as unknown as Chat);
      const nm = cm.new_chat_member as unknown as ChatMember;
      if (isRecord(nm.user)) {
        rememberUser(nm.user);
        state.members.set(nm.user.id, nm);
        if (isInChat(nm)) state.joinRequests.delete(nm.user.id);
      }
    }
  }

  private chatState(chat: Chat | (Record<string, unknown> & { id: number; type: string })): ChatState {
    let state = this.chats.get(chat.id);
    if (!state) {
      state = { chat: { ...chat } as ChatState["chat"], members: new Map(), joinRequests: new Map() };
      this.chats.set(chat.id, state);
    } else {
      state.chat = { ...state.chat, ...chat };
    }
    return state;
  }

  private nowSec(): number {
    return Math.floor(this.opts.now() / 1000);
  }

  // ── getUpdates ──

  private async getUpdates(bot: BotInternal, p: Record<string, unknown>, req: Request): Promise<{ status: number; body: unknown }> {
    if (bot.webhook) return { status: 409, body: { ok: false, error_code: 409, description: CONFLICT_WEBHOOK } };
    if (p.allowed_updates !== undefined) {
      if (!Array.isArray(p.allowed_updates)) throw new BotApiError(400, "Bad Request: can't parse allowed updates");
      bot.allowedUpdates = p.allowed_updates.map(String);
    }
    const offset = num(p.offset) ?? 0;
    if (offset > 0) {
      bot.confirmedOffset = Math.max(bot.confirmedOffset, offset);
      bot.queue = bot.queue.filter((u) => (u.update_id as number) >= offset);
    } else if (offset < 0) {
      bot.queue = bot.queue.slice(offset);
    }
    const limit = Math.min(100, Math.max(1, num(p.limit) ?? 100));
    const timeout = Math.max(0, num(p.timeout) ?? 0);
    // A newer getUpdates terminates the pending one, as Telegram does.
    bot.poll?.finish({ status: 409, body: { ok: false, error_code: 409, description: CONFLICT_POLLER } });
    const batch = () => ({ status: 200, body: { ok: true, result: bot.queue.slice(0, limit) } });
    if (bot.queue.length > 0 || timeout === 0) return batch();
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: { status: number; body: unknown }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.signal.removeEventListener("abort", onAbort);
        if (bot.poll === poll) bot.poll = undefined;
        if (bot.wake === wake) bot.wake = undefined;
        resolve(outcome);
      };
      const poll = { finish };
      const wake = () => finish(batch());
      const onAbort = () => finish(batch());
      const timer = setTimeout(() => finish(batch()), timeout * 1000);
      req.signal.addEventListener("abort", onAbort);
      bot.poll = poll;
      bot.wake = wake;
    });
  }

  // ── methods ──

  private readonly methods: Record<
    string,
    (this: FakeBotApi, bot: BotInternal, p: Record<string, unknown>, files: Record<string, UploadedFile>) => unknown
  > = {
    getme(bot) {
      return bot.user;
    },
    logout() {
      return true;
    },
    close() {
      return true;
    },

    setwebhook(bot, p) {
      const url = typeof p.url === "string" ? p.url : "";
      if (p.allowed_updates !== undefined) {
        if (!Array.isArray(p.allowed_updates)) throw new BotApiError(400, "Bad Request: can't parse allowed updates");
        bot.allowedUpdates = p.allowed_updates.map(String);
      }
      if (p.drop_pending_updates === true) bot.queue = [];
      if (url === "") {
        const had = !!bot.webhook;
        bot.webhook = undefined;
        return new Described(true, had ? "Webhook was deleted" : "Webhook is already deleted");
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new BotApiError(400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known");
      }
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
        throw new BotApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
      }
      const secret = p.secret_token;
      if (secret !== undefined && (typeof secret !== "string" || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
        throw new BotApiError(400, "Bad Request: secret token contains unallowed characters");
      }
      const same = bot.webhook?.url === url && bot.webhook.secret_token === secret;
      bot.webhook = {
        url,
        ...(typeof secret === "string" ? { secret_token: secret } : {}),
        ...(num(p.max_connections) !== undefined ? { max_connections: num(p.max_connections) } : {}),
        ...(typeof p.ip_address === "string" ? { ip_address: p.ip_address } : {}),
      };
      // A pending long poll ends; the next getUpdates gets the 409.
      bot.wake?.();
      return new Described(true, same ? "Webhook is already set" : "Webhook was set");
    },
    deletewebhook(bot, p) {
      if (p.drop_pending_updates === true) bot.queue = [];
      const had = !!bot.webhook;
      bot.webhook = undefined;
      return new Described(true, had ? "Webhook was deleted" : "Webhook is already deleted");
    },
    getwebhookinfo(bot) {
      const w = bot.webhook;
      return {
        url: w?.url ?? "",
        has_custom_certificate: false,
        pending_update_count: bot.queue.length,
        ...(w?.max_connections !== undefined ? { max_connections: w.max_connections } : w ? { max_connections: 40 } : {}),
        ...(w?.ip_address ? { ip_address: w.ip_address } : {}),
        ...(bot.lastErrorDate !== undefined ? { last_error_date: bot.lastErrorDate, last_error_message: bot.lastErrorMessage } : {}),
        ...(bot.allowedUpdates && bot.allowedUpdates.length ? { allowed_updates: bot.allowedUpdates } : {}),
      };
    },

    sendmessage(bot, p) {
      const chat = this.targetChat(bot, p.chat_id);
      if (typeof p.text !== "string" || p.text.trim() === "") throw new BotApiError(400, "Bad Request: message text is empty");
      const parsed = this.parseText(p.text, p.parse_mode, p.entities);
      if (parsed.text.trim() === "") throw new BotApiError(400, "Bad Request: message text is empty");
      if (parsed.text.length > 4096) throw new BotApiError(400, "Bad Request: message is too long");
      const markup = checkReplyMarkup(p.reply_markup);
      return {
        ...this.messageBase(bot, chat),
        text: parsed.text,
        ...(parsed.entities.length ? { entities: parsed.entities } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      };
    },
    sendphoto(bot, p, files) {
      const chat = this.targetChat(bot, p.chat_id);
      const stored = this.resolveFile(bot, "photo", p.photo, files.photo);
      if (stored.kind !== "photo") throw new BotApiError(400, "Bad Request: can't use file of type Video as Photo");
      return { ...this.messageBase(bot, chat), photo: stored.photo, ...this.caption(p) };
    },
    sendvideo(bot, p, files) {
      const chat = this.targetChat(bot, p.chat_id);
      const stored = this.resolveFile(bot, "video", p.video, files.video, p);
      if (stored.kind !== "video") throw new BotApiError(400, "Bad Request: can't use file of type Photo as Video");
      return { ...this.messageBase(bot, chat), video: stored.video, ...this.caption(p) };
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

    createchatinvitelink(bot, p) {
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
      knownInviteLinks.set(link.invite_link, link);
      this.inviteLinks.set(link.invite_link, { ...link, chat_id: chatId, token: bot.token });
      return link;
    },
    revokechatinvitelink(_bot, p) {
      const url = typeof p.invite_link === "string" ? p.invite_link : "";
      const known = this.inviteLinks.get(url);
      if (!known) throw new BotApiError(400, "Bad Request: INVITE_HASH_EXPIRED");
      known.is_revoked = true;
      const { chat_id: _c, token: _t, ...link } = known;
      const revoked = { ...link, is_revoked: true };
      knownInviteLinks.set(url, revoked);
      return revoked;
    },
    approvechatjoinrequest(_bot, p) {
      return this.handleJoinRequest(p, true);
    },
    declinechatjoinrequest(_bot, p) {
      return this.handleJoinRequest(p, false);
    },
    banchatmember(_bot, p) {
      const chatId = numericChatId(p.chat_id);
      const userId = num(p.user_id);
      if (userId === undefined) throw new BotApiError(400, "Bad Request: invalid user_id specified");
      if (this.chats.has(chatId)) this.setMember(chatId, { status: "kicked", user: this.userOrStub(userId), until_date: num(p.until_date) ?? 0 });
      return true;
    },
    unbanchatmember(_bot, p) {
      const chatId = numericChatId(p.chat_id);
      const userId = num(p.user_id);
      if (userId === undefined) throw new BotApiError(400, "Bad Request: invalid user_id specified");
      const m = this.member(chatId, userId);
      if (!this.chats.has(chatId) || (p.only_if_banned === true && m?.status !== "kicked")) return true;
      this.setMember(chatId, { status: "left", user: this.userOrStub(userId) });
      return true;
    },

    getchat(_bot, p) {
      const chatId = p.chat_id;
      const state = this.findChat(chatId);
      const id = num(chatId);
      const user = id !== undefined && id > 0 ? this.users.get(id) : undefined;
      const chat = state?.chat ?? (user ? tg.privateChat(user) : undefined);
      if (!chat) throw new BotApiError(400, "Bad Request: chat not found");
      return {
        ...chat,
        accent_color_id: 0,
        max_reaction_count: 11,
        accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false },
      };
    },
    getchatmember(_bot, p) {
      const state = this.findChat(p.chat_id);
      if (!state) throw new BotApiError(400, "Bad Request: chat not found");
      const userId = num(p.user_id);
      if (userId === undefined) throw new BotApiError(400, "Bad Request: invalid user_id specified");
      return state.members.get(userId) ?? { status: "left", user: this.userOrStub(userId) };
    },
    getchatadministrators(_bot, p) {
      const state = this.findChat(p.chat_id);
      if (!state) throw new BotApiError(400, "Bad Request: chat not found");
      return [...state.members.values()].filter((m) => m.status === "creator" || m.status === "administrator");
    },
    getchatmembercount(_bot, p) {
      const state = this.findChat(p.chat_id);
      if (!state) throw new BotApiError(400, "Bad Request: chat not found");
      return [...state.members.values()].filter(isInChat).length;
    },
  };

  private handleJoinRequest(p: Record<string, unknown>, approve: boolean): true {
    const chatId = numericChatId(p.chat_id);
    const userId = num(p.user_id);
    if (userId === undefined) throw new BotApiError(400, "Bad Request: invalid user_id specified");
    const state = this.chats.get(chatId);
    const m = state?.members.get(userId);
    if (approve && m && isInChat(m)) throw new BotApiError(400, "Bad Request: USER_ALREADY_PARTICIPANT");
    if (state?.joinRequests.get(userId) === false) throw new BotApiError(400, "Bad Request: HIDE_REQUESTER_MISSING");
    if (!state) return true; // chat never seen: nothing to track
    state.joinRequests.set(userId, false);
    if (approve) this.setMember(chatId, { status: "member", user: this.userOrStub(userId) });
    return true;
  }

  private findChat(chatId: unknown): ChatState | undefined {
    if (typeof chatId === "string" && chatId.startsWith("@")) {
      const name = chatId.slice(1).toLowerCase();
      return [...this.chats.values()].find((s) => typeof s.chat.username === "string" && s.chat.username.toLowerCase() === name);
    }
    const id = num(chatId);
    return id === undefined ? undefined : this.chats.get(id);
  }

  private userOrStub(id: number): User {
    return this.users.get(id) ?? { id, is_bot: false, first_name: `User${id}` };
  }

  /** The chat a message is sent to; 403 if that user blocked the bot. */
  private targetChat(bot: BotInternal, chatId: unknown): Record<string, unknown> & { id: number; type: string } {
    if (chatId === undefined || chatId === "") throw new BotApiError(400, "Bad Request: chat_id is empty");
    const known = this.findChat(chatId);
    const id = known?.chat.id ?? num(chatId);
    if (id === undefined || id === 0) throw new BotApiError(400, "Bad Request: chat not found");
    if (bot.blocked.has(id)) throw new BotApiError(403, "Forbidden: bot was blocked by the user");
    if (known) return compactChat(known.chat);
    if (id > 0) {
      if (id === bot.user.id) throw new BotApiError(403, "Forbidden: bots can't send messages to bots");
      return tg.privateChat(this.userOrStub(id)) as unknown as Record<string, unknown> & { id: number; type: string };
    }
    return { id, type: id < -1e12 ? "supergroup" : "group", title: `Chat ${id}` };
  }

  private messageBase(bot: BotInternal, chat: Record<string, unknown> & { id: number; type: string }): Record<string, unknown> {
    const base: Record<string, unknown> = { message_id: this.nextMessageId++ };
    if (chat.type === "channel") base.sender_chat = chat;
    else base.from = botUser(bot.user);
    base.chat = chat;
    base.date = this.nowSec();
    return base;
  }

  private parseText(text: string, parseMode: unknown, entities: unknown): Parsed {
    if (Array.isArray(entities)) return { text, entities: entities as Entity[] };
    if (!this.opts.parseEntities || parseMode === undefined || parseMode === "") return { text, entities: [] };
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

  private caption(p: Record<string, unknown>): Record<string, unknown> {
    checkReplyMarkup(p.reply_markup);
    const markup = isRecord(p.reply_markup) && Array.isArray(p.reply_markup.inline_keyboard) ? { reply_markup: p.reply_markup } : {};
    if (typeof p.caption !== "string" || p.caption === "") return markup;
    const parsed = this.parseText(p.caption, p.parse_mode, p.caption_entities);
    if (parsed.text.length > 1024) throw new BotApiError(400, "Bad Request: message caption is too long");
    return { caption: parsed.text, ...(parsed.entities.length ? { caption_entities: parsed.entities } : {}), ...markup };
  }

  /** An uploaded file, a reusable file_id of this bot, or an HTTP URL (fetched by Telegram: a new file). */
  private resolveFile(
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
}

// ───────────────────────────── small utilities ─────────────────────────────

function unauthorized() {
  return { ok: false, error_code: 401, description: "Unauthorized" };
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

function chatIdParam(v: unknown): number | string {
  if (typeof v === "string" && v.startsWith("@")) return v;
  const id = num(v);
  if (id === undefined) throw new BotApiError(400, "Bad Request: chat not found");
  return id;
}

function numericChatId(v: unknown): number {
  const id = num(v);
  if (id === undefined) throw new BotApiError(400, "Bad Request: chat not found");
  return id;
}

function compactChat(chat: Record<string, unknown> & { id: number; type: string }): Record<string, unknown> & { id: number; type: string } {
  const out: Record<string, unknown> & { id: number; type: string } = { id: chat.id, type: chat.type };
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

function summarize(params: Record<string, unknown>): string {
  const s = JSON.stringify(params);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
