/**
 * Telegram's rate limits as the fake Bot API enforces them (reference/telegram.md: about 30
 * messages a second per bot, 1 a second per private chat, 20 a minute per group). What is over a
 * limit is answered as Telegram does — HTTP 429, `Too Many Requests: retry after N`,
 * `parameters.retry_after` — and starts a flood wait for the whole bot: every counted call before
 * it ends gets a 429 with the seconds left.
 */
export interface TelegramLimitOptions {
  /** Counted calls per rolling second per bot (default 30). */
  perSecond?: number;
  /** The same with `allow_paid_broadcast: true` (default 1000). */
  paidPerSecond?: number;
  /** Messages per rolling second to one private chat (default 1). */
  perPrivateChatPerSecond?: number;
  /** Messages per rolling minute to one group or channel (default 20). */
  perGroupPerMinute?: number;
  /** The flood wait a violation starts, seconds (default 3). */
  floodWaitS?: number;
}

/** Calls that do not send anything and are not counted (updates, webhook, identity, reads). */
const NOT_COUNTED = new Set([
  "getupdates", "getme", "setwebhook", "deletewebhook", "getwebhookinfo", "logout", "close",
  "getchat", "getchatmember", "getchatadministrators", "getchatmembercount", "getmycommands",
]);

const isMessage = (method: string) => method.startsWith("send") || method === "copymessage" || method === "forwardmessage";

/** Call times in a rolling window. */
class Window {
  private times: number[] = [];
  constructor(private readonly windowMs: number) {}
  count(now: number) {
    while (this.times.length && this.times[0]! <= now - this.windowMs) this.times.shift();
    return this.times.length;
  }
  add(now: number) {
    this.times.push(now);
  }
}

interface BotLimits {
  calls: Window;
  paid: Window;
  chats: Map<number, Window>;
  floodUntil: number;
}

export class TelegramLimits {
  /** 429s answered, per bot token. */
  readonly refused = new Map<string, number>();
  private readonly bots = new Map<string, BotLimits>();
  private readonly o: Required<TelegramLimitOptions>;

  constructor(opts: TelegramLimitOptions = {}) {
    this.o = { perSecond: 30, paidPerSecond: 1000, perPrivateChatPerSecond: 1, perGroupPerMinute: 20, floodWaitS: 3, ...opts };
  }

  /**
   * Checks one call at `now` (real ms) and counts it when it passes; returns the retry_after
   * seconds of a 429, or 0 when the call may proceed.
   */
  check(token: string, method: string, params: Record<string, unknown>, now: number): number {
    const lower = method.toLowerCase();
    if (NOT_COUNTED.has(lower)) return 0;
    let bot = this.bots.get(token);
    if (!bot) this.bots.set(token, (bot = { calls: new Window(1000), paid: new Window(1000), chats: new Map(), floodUntil: 0 }));
    if (now < bot.floodUntil) return this.refuse(token, Math.ceil((bot.floodUntil - now) / 1000));
    const paid = params.allow_paid_broadcast === true;
    const overall = paid ? bot.paid : bot.calls;
    const chatId = typeof params.chat_id === "number" ? params.chat_id : Number(params.chat_id);
    let chat: Window | undefined;
    let chatLimit = Infinity;
    if (isMessage(lower) && Number.isFinite(chatId) && !paid) {
      const group = chatId < 0;
      chatLimit = group ? this.o.perGroupPerMinute : this.o.perPrivateChatPerSecond;
      chat = bot.chats.get(chatId);
      if (!chat) bot.chats.set(chatId, (chat = new Window(group ? 60_000 : 1000)));
    }
    if (overall.count(now) >= (paid ? this.o.paidPerSecond : this.o.perSecond) || (chat && chat.count(now) >= chatLimit)) {
      bot.floodUntil = now + this.o.floodWaitS * 1000;
      return this.refuse(token, this.o.floodWaitS);
    }
    overall.add(now);
    chat?.add(now);
    return 0;
  }

  /** All 429s answered. */
  get refusedTotal() {
    let n = 0;
    for (const v of this.refused.values()) n += v;
    return n;
  }

  private refuse(token: string, seconds: number) {
    this.refused.set(token, (this.refused.get(token) ?? 0) + 1);
    return Math.max(1, seconds);
  }
}
