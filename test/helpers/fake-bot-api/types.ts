// The fake Bot API's types: what tests see (calls, failures, bots, options) and what its parts
// share inside (a bot's server-side state, a chat's members, the context a method runs in).
import type { ChatInviteLink, ChatMember, UserFromGetMe } from "grammy/types";
import type { ChatRegistry } from "./chats.ts";
import type { TelegramLimitOptions } from "./rate-limits.ts";

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

// ───────────────────────────── inside the fake ─────────────────────────────

/** A chat object as the fake keeps it: whatever fields it was given, with an id and a type. */
export type ChatObject = Record<string, unknown> & { id: number; type: string };

/** A method's result that comes with a `description` beside `result` (setWebhook, deleteWebhook). */
export class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

export type StoredFile = { kind: "photo"; photo: Record<string, unknown>[] } | { kind: "video"; video: Record<string, unknown> };

export interface ChatState {
  chat: ChatObject;
  members: Map<number, ChatMember>;
  /** user id → pending (true) / handled (false). */
  joinRequests: Map<number, boolean>;
}

export interface BotInternal extends FakeBot {
  files: Map<string, StoredFile>;
  poll?: { finish: (outcome: { status: number; body: unknown }) => void };
  wake?: () => void;
}

/** An invite link created through the API, with the chat and the bot it was created for. */
export type CreatedInviteLink = ChatInviteLink & { chat_id: number | string; token: string };

/** What a Bot API method may use of the server's state. */
export interface MethodContext {
  readonly chats: ChatRegistry;
  readonly inviteLinks: Map<string, CreatedInviteLink>;
  /** Parse `parse_mode` markup like Telegram (false: text is echoed unchanged). */
  readonly parseEntities: boolean;
  /** Clock for `date` fields, epoch ms. */
  readonly now: () => number;
  /** The next message_id (increasing over the whole server). */
  nextMessageId(): number;
}

/** One Bot API method: the bot that called, its parameters and uploads; returns the `result`. */
export type MethodImpl = (ctx: MethodContext, bot: BotInternal, p: Record<string, unknown>, files: Record<string, UploadedFile>) => unknown;
