import { createHash } from "node:crypto";
import { Bot, GrammyError, HttpError, type Api } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import type { Runtime } from "../campaigns/registry.ts";
import type { BotConfig } from "../config/model.ts";
import type { Db } from "../db/client.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../ops/metrics.ts";
import { advancePollingOffset, getBotRow, saveBotIdentity } from "./repository.ts";
import type { GrammySignal } from "./sender.ts";
import { ALLOWED_UPDATES, applyUpdate, malformedUpdate, type UpdateOutcome } from "./updates.ts";

export interface BotState {
  name: string;
  mode: "polling" | "webhook";
  status: "starting" | "running" | "error" | "stopped";
  id: number | null;
  username: string | null;
  last_error: string | null;
  last_error_at: string | null;
  webhook_url: string | null;
  last_update_at: string | null;
}

interface Running {
  config: BotConfig;
  bot: Bot;
  state: BotState;
  abort: AbortController;
  loop: Promise<void> | null;
}

export interface TelegramDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  runtime: () => Runtime;
  /** Called after an update wrote pending outbox rows (wakes the dispatcher). */
  onQueued: () => void;
}

const POLL_TIMEOUT_S = 25;
const MAX_POLL_BACKOFF_MS = 30_000;

/** The webhook secret: the configured one, else one derived from the token (stable across restarts). */
export const webhookSecret = (bot: Pick<BotConfig, "secret" | "token">) =>
  bot.secret ?? createHash("sha256").update(`tgcpa-webhook:${bot.token}`).digest("hex").slice(0, 48);

/** A readable error that never carries the token (network errors can quote the request URL). */
export function describeBotError(err: unknown, token: string): string {
  let text: string;
  if (err instanceof GrammyError) text = `${err.error_code}: ${err.description}`;
  else if (err instanceof HttpError) text = `network: ${(err.error as Error)?.message ?? err.message}`;
  else text = (err as Error)?.message ?? String(err);
  return token ? text.split(token).join("[token]") : text;
}

/**
 * The configured bots: identifies each with getMe, then polls (offset stored with each applied
 * update) or registers its webhook. A failing bot is marked with its error; the others run on.
 */
export class TelegramBots {
  private readonly running = new Map<string, Running>();

  constructor(private readonly deps: TelegramDeps) {}

  async start() {
    const bots = Object.values(this.deps.runtime().config.bots);
    await Promise.all(bots.map((b) => this.startBot(b)));
  }

  async stop() {
    const all = [...this.running.values()];
    for (const r of all) {
      r.abort.abort();
      r.state.status = "stopped";
    }
    await Promise.all(all.map((r) => r.loop));
    this.running.clear();
  }

  /** After a config reload: bots are restarted with their new settings. */
  async restart() {
    await this.stop();
    await this.start();
  }

  api(name: string): Api | undefined {
    return this.running.get(name)?.bot.api;
  }

  config(name: string): BotConfig | undefined {
    return this.running.get(name)?.config;
  }

  offset(name: string): number | undefined {
    return getBotRow(this.deps.db, name)?.pollingOffset;
  }

  states(): BotState[] {
    return [...this.running.values()].map((r) => ({ ...r.state }));
  }

  /** Applies one update (webhook or polling) in one transaction; wakes the dispatcher if it queued work. */
  handleUpdate(name: string, update: Update, polling: boolean): UpdateOutcome {
    const outcome = applyUpdate(this.deps.db, this.deps.runtime(), name, update, this.deps.clock.now(), polling);
    const r = this.running.get(name);
    if (r) r.state.last_update_at = new Date(this.deps.clock.now()).toISOString();
    for (const e of outcome.events) this.deps.metrics.recordEvent(e.status, e.applied);
    if (outcome.queued) this.deps.onQueued();
    return outcome;
  }

  private fail(r: Running, err: unknown, what: string) {
    r.state.last_error = `${what}: ${describeBotError(err, r.config.token)}`;
    r.state.last_error_at = new Date(this.deps.clock.now()).toISOString();
    this.deps.log.warn({ bot: r.config.name, error: r.state.last_error }, "telegram bot error");
  }

  private async startBot(config: BotConfig) {
    const bot = new Bot(config.token, { client: { ...(config.api_root ? { apiRoot: config.api_root.replace(/\/+$/, "") } : {}) } });
    const r: Running = {
      config, bot, abort: new AbortController(), loop: null,
      state: { name: config.name, mode: config.mode, status: "starting", id: null, username: null, last_error: null, last_error_at: null, webhook_url: null, last_update_at: null },
    };
    this.running.set(config.name, r);
    const signal = r.abort.signal as unknown as GrammySignal;
    let me: UserFromGetMe;
    try {
      me = await bot.api.getMe(signal);
    } catch (err) {
      r.state.status = "error";
      return this.fail(r, err, "getMe failed (check the token)");
    }
    bot.botInfo = me;
    r.state.id = me.id;
    r.state.username = me.username;
    saveBotIdentity(this.deps.db, config.name, me.id, me.username, this.deps.clock.now());
    try {
      if (config.mode === "webhook") {
        const base = this.deps.runtime().config.server.public_url;
        if (!base) throw new Error("server.public_url is required for webhook mode");
        const url = `${base}/telegram/${encodeURIComponent(config.name)}`;
        await bot.api.setWebhook(url, { secret_token: webhookSecret(config), allowed_updates: [...ALLOWED_UPDATES] }, signal);
        r.state.webhook_url = url;
      } else {
        await bot.api.deleteWebhook({ drop_pending_updates: false }, signal); // a webhook left from before blocks getUpdates
        r.loop = this.poll(r);
      }
      r.state.status = "running";
      this.deps.log.info({ bot: config.name, username: me.username, mode: config.mode }, "telegram bot started");
    } catch (err) {
      r.state.status = "error";
      this.fail(r, err, config.mode === "webhook" ? "setWebhook failed" : "deleteWebhook failed");
    }
  }

  private async poll(r: Running) {
    const signal = r.abort.signal;
    let backoff = 1000;
    while (!signal.aborted) {
      try {
        const offset = getBotRow(this.deps.db, r.config.name)?.pollingOffset ?? 0;
        const updates = await r.bot.api.getUpdates({ offset, timeout: POLL_TIMEOUT_S, allowed_updates: [...ALLOWED_UPDATES] }, signal as unknown as GrammySignal);
        for (const update of updates) {
          if (signal.aborted) break;
          const malformed = malformedUpdate(update);
          if (malformed) {
            // Skipped (the offset moves past it), not retried forever.
            advancePollingOffset(this.deps.db, r.config.name, update.update_id + 1, this.deps.clock.now());
            this.deps.log.warn({ bot: r.config.name, update_id: update.update_id, field: malformed }, "malformed update skipped");
            continue;
          }
          this.handleUpdate(r.config.name, update, true);
        }
        backoff = 1000;
      } catch (err) {
        if (signal.aborted) break;
        this.fail(r, err, "getUpdates failed");
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, backoff);
          signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
        });
        backoff = Math.min(backoff * 2, MAX_POLL_BACKOFF_MS);
      }
    }
  }
}
