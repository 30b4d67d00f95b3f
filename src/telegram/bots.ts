import { Bot, type Api } from "grammy";
import type { Update } from "grammy/types";
import type { BotConfig } from "../config/model.ts";
import { isStorageUnavailable } from "../lib/errors.ts";
import { describedError } from "../lib/logger.ts";
import { receiveBatch, receiveUpdate, type ReceiveDeps, type Received } from "./receive.ts";
import type { Storage } from "../storage/port.ts";
import { bounded, type GrammySignal } from "./api-call.ts";
import { ALLOWED_UPDATES } from "./updates.ts";
import { describeBotError, webhookSecret } from "./bot-identity.ts";

export { describeBotError, webhookSecret } from "./bot-identity.ts";

export interface BotState {
  name: string;
  mode: "polling" | "webhook";
  /** standby: another instance on the database owns the bot (it polls or holds the webhook, and sends). */
  status: "starting" | "running" | "error" | "stopped" | "standby";
  id: number | null;
  username: string | null;
  last_error: string | null;
  last_error_at: string | null;
  webhook_url: string | null;
  last_update_at: string | null;
  /** When a bot that failed is tried again (ISO; while that try runs, its time); null while it runs. */
  next_retry_at: string | null;
  /** Since when it has been failing without being up in between (ISO); null while it runs or starts. */
  down_since: string | null;
}

interface Running {
  config: BotConfig;
  bot: Bot;
  state: BotState;
  abort: AbortController;
  loop: Promise<void> | null;
}

/** A step of bringing a bot up failed: which one, and why. */
class StartStepError extends Error {
  constructor(readonly step: string, readonly why: unknown) {
    super(step);
  }
}

/**
 * Updates are written through the intake; a bot's identity and offset are read and written through
 * the storage port. `owns` says whether this instance may bring a bot up (several instances on one
 * database: one owner per bot); without it every bot is this process's.
 */
export type TelegramDeps = ReceiveDeps & { storage: Pick<Storage, "read" | "write">; owns?: (bot: string) => boolean };

const POLL_TIMEOUT_S = 25;
/** A bot that cannot reach Telegram (or is refused) is tried again after 1 s, 2 s, 4 s, … up to this. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

/**
 * The configured bots: identifies each with getMe, then polls (offset stored once a batch is
 * applied) or registers its webhook. A bot that fails — getMe, setWebhook, getUpdates — is marked
 * with its error and tried again with backoff until it works; the others run on.
 */
export class TelegramBots {
  private readonly running = new Map<string, Running>();

  constructor(private readonly deps: TelegramDeps) {}

  /**
   * start, stop and restart run one after another: two reloads close together would otherwise
   * both stop the same loops and both start new ones, leaving one polling with the old config.
   */
  private turn: Promise<void> = Promise.resolve();

  private inTurn(step: () => Promise<void>): Promise<void> {
    const next = this.turn.then(step);
    this.turn = next.catch(() => {});
    return next;
  }

  /** Starts every bot; resolves once each has either come up or failed its first try (it keeps trying). */
  start(): Promise<void> {
    return this.inTurn(() => this.startAll());
  }

  stop(): Promise<void> {
    return this.inTurn(() => this.stopAll());
  }

  /** After a config reload: bots are restarted with their new settings. */
  restart(): Promise<void> {
    return this.inTurn(async () => {
      await this.stopAll();
      await this.startAll();
    });
  }

  /**
   * The bots this instance owns changed: a bot it now owns is brought up, one another instance now
   * owns is stopped (its long poll aborted) and waits in standby.
   */
  ownershipChanged(): Promise<void> {
    return this.inTurn(async () => {
      for (const r of this.running.values()) {
        const owned = this.owns(r.config.name);
        if (owned && r.loop === null) this.bringUp(r);
        else if (!owned && r.loop !== null) {
          r.abort.abort();
          await r.loop;
          this.standby(r);
          this.deps.log.info({ bot: r.config.name }, "telegram bot handed to another instance");
        }
      }
    });
  }

  private owns(name: string): boolean {
    return this.deps.owns?.(name) ?? true;
  }

  private standby(r: Running) {
    r.loop = null;
    r.abort = new AbortController();
    r.state.status = "standby";
    r.state.next_retry_at = null;
  }

  private bringUp(r: Running, firstTry: () => void = () => {}) {
    r.state.status = "starting";
    r.loop = this.keepUp(r, firstTry);
  }

  private async startAll() {
    const bots = Object.values(this.deps.runtime().config.bots);
    await Promise.all(bots.map((b) => this.startBot(b)));
  }

  private async stopAll() {
    const all = [...this.running.values()];
    for (const r of all) {
      r.abort.abort();
      r.state.status = "stopped";
    }
    await Promise.all(all.map((r) => r.loop));
    this.running.clear();
  }

  api(name: string): Api | undefined {
    return this.running.get(name)?.bot.api;
  }

  config(name: string): BotConfig | undefined {
    return this.running.get(name)?.config;
  }

  async offset(name: string): Promise<number | undefined> {
    return (await this.deps.storage.read.telegram.bot(name))?.pollingOffset;
  }

  states(): BotState[] {
    return [...this.running.values()].map((r) => ({ ...r.state }));
  }

  /** Bots that are not up (their last try failed); /health reports them. */
  down(): string[] {
    return [...this.running.values()].filter((r) => r.state.status === "error").map((r) => r.config.name);
  }

  /** A webhook update: applied through the intake, or journaled and skipped; throws on storage trouble. */
  async receive(name: string, update: Update): Promise<Received> {
    const received = await receiveUpdate(this.deps, name, update);
    this.touched(name);
    return received;
  }

  private touched(name: string) {
    const r = this.running.get(name);
    if (r) r.state.last_update_at = new Date(this.deps.clock.now()).toISOString();
  }

  private fail(r: Running, err: unknown, what: string) {
    r.state.status = "error";
    r.state.last_error = `${what}: ${describeBotError(err, r.config.token)}`;
    r.state.last_error_at = new Date(this.deps.clock.now()).toISOString();
    r.state.down_since ??= r.state.last_error_at;
    this.deps.log.warn({ bot: r.config.name, err: describedError("BotError", r.state.last_error) }, "telegram bot error; trying again");
  }

  /** Starts a bot's loop (or, owned elsewhere, keeps it in standby); resolves after its first try to come up, whatever its outcome. */
  private startBot(config: BotConfig): Promise<void> {
    const bot = new Bot(config.token, { client: { ...(config.api_root ? { apiRoot: config.api_root.replace(/\/+$/, "") } : {}) } });
    const r: Running = {
      config, bot, abort: new AbortController(), loop: null,
      state: { name: config.name, mode: config.mode, status: "starting", id: null, username: null, last_error: null, last_error_at: null, webhook_url: null, last_update_at: null, next_retry_at: null, down_since: null },
    };
    this.running.set(config.name, r);
    if (!this.owns(config.name)) {
      this.standby(r);
      return Promise.resolve();
    }
    return new Promise((firstTry) => this.bringUp(r, firstTry));
  }

  /**
   * Brings a bot up and keeps it up until it is stopped: getMe, then setWebhook, or deleteWebhook
   * and the polling loop. Any failure is recorded and retried after a backoff (1 s doubling to 1 min).
   */
  private async keepUp(r: Running, firstTry: () => void) {
    const signal = r.abort.signal;
    for (let wait = FIRST_RETRY_MS; !signal.aborted; wait = Math.min(wait * 2, MAX_RETRY_MS)) {
      const up = await this.connect(r).then(() => true, (err) => {
        if (!signal.aborted) this.fail(r, err instanceof StartStepError ? err.why : err, err instanceof StartStepError ? err.step : "start failed");
        return false;
      });
      firstTry();
      if (signal.aborted) return;
      if (up) {
        if (r.config.mode === "webhook") return;
        if (await this.poll(r)) wait = FIRST_RETRY_MS; // polled fine for a while: a new failure starts the backoff anew
        if (signal.aborted) return;
      }
      r.state.next_retry_at = new Date(this.deps.clock.now() + wait).toISOString();
      await this.sleep(wait, signal);
    }
  }

  /** getMe, then setWebhook (webhook) or deleteWebhook (polling); rejects with the step that failed. */
  private async connect(r: Running) {
    const { config, bot } = r;
    const timeoutMs = this.deps.runtime().config.delivery.timeout_ms;
    const step = async <T>(name: string, call: (signal: GrammySignal) => Promise<T>): Promise<T> => {
      try {
        return await bounded(r.abort.signal, timeoutMs, call);
      } catch (err) {
        throw new StartStepError(name, err);
      }
    };
    const me = await step("getMe failed", (signal) => bot.api.getMe(signal));
    bot.botInfo = me;
    r.state.id = me.id;
    r.state.username = me.username;
    const now = this.deps.clock.now();
    await this.deps.storage.write(async (tx) => tx.telegram.saveBotIdentity(config.name, me.id, me.username, now));
    if (config.mode === "webhook") {
      const base = this.deps.runtime().config.server.public_url;
      if (!base) throw new StartStepError("setWebhook failed", new Error("server.public_url is required for webhook mode"));
      const url = `${base}/telegram/${encodeURIComponent(config.name)}`;
      await step("setWebhook failed", (signal) => bot.api.setWebhook(url, { secret_token: webhookSecret(config), allowed_updates: [...ALLOWED_UPDATES] }, signal));
      r.state.webhook_url = url;
    } else {
      await step("deleteWebhook failed", (signal) => bot.api.deleteWebhook({ drop_pending_updates: false }, signal)); // a webhook left from before blocks getUpdates
    }
    r.state.status = "running";
    r.state.next_retry_at = null;
    r.state.down_since = null;
    this.deps.log.info({ bot: config.name, username: me.username, mode: config.mode }, "telegram bot started");
  }

  /**
   * Long polling until stopped or a poll fails (recorded; the caller backs off). Each batch is
   * applied through the intake and the offset stored after it. True when at least one poll worked.
   */
  private async poll(r: Running): Promise<boolean> {
    const signal = r.abort.signal;
    let worked = false;
    while (!signal.aborted) {
      try {
        const offset = (await this.deps.storage.read.telegram.bot(r.config.name))?.pollingOffset ?? 0;
        // Telegram holds a long poll up to its timeout: no answer by then and a request's timeout more, and the bot is down.
        const pollMs = POLL_TIMEOUT_S * 1000 + this.deps.runtime().config.delivery.timeout_ms;
        const updates = await bounded(signal, pollMs, (s) => r.bot.api.getUpdates({ offset, timeout: POLL_TIMEOUT_S, allowed_updates: [...ALLOWED_UPDATES] }, s));
        if (signal.aborted) break;
        r.state.status = "running";
        r.state.next_retry_at = null;
        r.state.down_since = null;
        worked = true;
        if (updates.length) {
          await receiveBatch(this.deps, r.config.name, updates);
          this.touched(r.config.name);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isStorageUnavailable(err)) this.deps.log.error({ bot: r.config.name, err }, "storage unavailable; the updates are fetched again");
        else this.fail(r, err, "getUpdates failed");
        return worked;
      }
    }
    return worked;
  }

  /** Waits `ms` of the clock's time, or until the signal aborts. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.setTimer(done, ms);
      function done() {
        cancel();
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
