// The fake Bot API server: Bun.serve on 127.0.0.1, one route `/bot{TOKEN}/{method}`. It reads the
// request, records the call, answers 401 for an unknown token, injected failures and rate limits
// first, then the method from the tables of updates.ts, messages.ts, chats.ts and invite-links.ts
// (or a test's own handler), in Telegram's envelope `{ ok, result }` / `{ ok: false, error_code,
// description, parameters? }` with the HTTP status of the error.
import type { Chat, ChatMember, UserFromGetMe } from "grammy/types";
import { ChatRegistry, chatMethods } from "./chats.ts";
import { inviteLinkMethods } from "./invite-links.ts";
import { messageMethods } from "./messages.ts";
import { TelegramLimits } from "./rate-limits.ts";
import { jsonResponse, readRequest, summarize, unauthorized } from "./request.ts";
import {
  BotApiError,
  Described,
  type ApiCall,
  type ApiFailure,
  type BotInternal,
  type BotSpec,
  type CreatedInviteLink,
  type FakeBot,
  type FakeBotApiOptions,
  type MethodContext,
  type MethodHandler,
  type MethodImpl,
  type PushResult,
  type UploadedFile,
  type WebhookState,
} from "./types.ts";
import { getUpdates, isFiltered, postToWebhook, prepareUpdate, webhookMethods, type PushOptions } from "./updates.ts";

/** Every method the fake knows (lower case, as Telegram matches them), but getUpdates (a long poll). */
const METHODS: Record<string, MethodImpl> = {
  getme: (_ctx, bot) => bot.user,
  logout: () => true,
  close: () => true,
  ...webhookMethods,
  ...messageMethods,
  ...inviteLinkMethods,
  ...chatMethods,
};

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
  readonly inviteLinks = new Map<string, CreatedInviteLink>();

  private server?: Server;
  private readonly bots = new Map<string, BotInternal>();
  private readonly chats = new ChatRegistry();
  private failures: { method: string; failure: ApiFailure; left: number }[] = [];
  private readonly handlers = new Map<string, MethodHandler>();
  private waiters: Waiter[] = [];
  private nextMessageId = 1;
  private readonly opts: Required<Omit<FakeBotApiOptions, "limits" | "port">>;
  /** What the Bot API methods see of this server. */
  private readonly context: MethodContext;
  /** Rate limits in force (real time), when asked for. */
  readonly limits: TelegramLimits | undefined;

  private constructor(opts: FakeBotApiOptions) {
    const { limits, port: _port, ...rest } = opts;
    this.opts = { enforceAllowedUpdates: false, parseEntities: true, now: () => Date.now(), ...rest };
    this.limits = limits ? new TelegramLimits(limits === true ? {} : limits) : undefined;
    this.context = {
      chats: this.chats,
      inviteLinks: this.inviteLinks,
      parseEntities: this.opts.parseEntities,
      now: this.opts.now,
      nextMessageId: () => this.nextMessageId++,
    };
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
    this.chats.state(chat);
    for (const m of members) this.chats.setMember(chat.id, m);
  }

  /** Sets a member of a known chat (registers the chat lazily if it is unknown). */
  setMember(chatId: number, m: ChatMember): void {
    this.chats.setMember(chatId, m);
  }

  /** A member as the fake knows it (from addChat/setMember, updates, approve/ban calls). */
  member(chatId: number, userId: number): ChatMember | undefined {
    return this.chats.member(chatId, userId);
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
    const u = prepareUpdate(bot, update);
    const id = u.update_id as number;
    if (this.opts.enforceAllowedUpdates && isFiltered(bot, u)) {
      this.dropped.push({ token, update: u });
      return id;
    }
    this.chats.observe(u);
    bot.queue.push(u);
    bot.queue.sort((a, b) => (a.update_id as number) - (b.update_id as number));
    bot.wake?.();
    return id;
  }

  /**
   * POSTs an update to the bot's webhook with `X-Telegram-Bot-Api-Secret-Token` (the stored secret,
   * `opts.secret` instead, or none with `secret: null`). Resolves with the answer.
   */
  async push(token: string, update: object & { update_id?: number }, opts: PushOptions = {}): Promise<PushResult> {
    const bot = this.mustBot(token);
    const webhook = bot.webhook;
    if (!webhook) throw new Error(`push: no webhook is set for bot ${bot.user.username}`);
    const u = prepareUpdate(bot, update);
    const update_id = u.update_id as number;
    if (this.opts.enforceAllowedUpdates && isFiltered(bot, u)) {
      this.dropped.push({ token, update: u });
      return { update_id, status: 0, body: "", dropped: true };
    }
    this.chats.observe(u);
    const { status, body } = await postToWebhook(bot, webhook, u, opts, this.opts.now);
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
        const outcome = await getUpdates(bot, params, req);
        return answer(outcome.status, outcome.body);
      }
      const impl = METHODS[lower];
      if (!custom && !impl) return answer(404, { ok: false, error_code: 404, description: "Not Found" });
      const result = custom ? await custom(call, bot) : await impl?.(this.context, bot, params, files);
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

}
