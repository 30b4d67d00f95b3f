// Updates: the getUpdates long poll (offset confirms, limit, timeout that ends early when an update
// is queued, sticky allowed_updates, 409 while a webhook is set or when a newer poll starts), the
// webhook methods, and the POST of an update to a webhook with the secret-token header.
import { num } from "./request.ts";
import { BotApiError, Described, type BotInternal, type MethodImpl, type WebhookState } from "./types.ts";

/** Update types Telegram leaves out when allowed_updates was never given (or given empty). */
const DEFAULT_EXCLUDED_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);
const CONFLICT_WEBHOOK =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const CONFLICT_POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

/** allowed_updates, when given, replaces the bot's sticky list (getUpdates and setWebhook alike). */
function setAllowedUpdates(bot: BotInternal, p: Record<string, unknown>): void {
  if (p.allowed_updates === undefined) return;
  if (!Array.isArray(p.allowed_updates)) throw new BotApiError(400, "Bad Request: can't parse allowed updates");
  bot.allowedUpdates = p.allowed_updates.map(String);
}

/** A copy of the update with its update_id (the bot's next one when absent), update_id first. */
export function prepareUpdate(bot: BotInternal, update: object & { update_id?: number }): Record<string, unknown> {
  const u = structuredClone(update) as Record<string, unknown>;
  if (typeof u.update_id !== "number") u.update_id = bot.nextUpdateId;
  bot.nextUpdateId = Math.max(bot.nextUpdateId, (u.update_id as number) + 1);
  // Keep update_id first, like Telegram.
  const { update_id, ...rest } = u;
  return { update_id, ...rest };
}

/** Whether Telegram would not deliver this update to the bot (its type is not in allowed_updates). */
export function isFiltered(bot: BotInternal, u: Record<string, unknown>): boolean {
  const type = Object.keys(u).find((k) => k !== "update_id");
  if (!type) return false;
  const allowed = bot.allowedUpdates;
  if (!allowed || allowed.length === 0) return DEFAULT_EXCLUDED_UPDATES.has(type);
  return !allowed.includes(type);
}

export async function getUpdates(bot: BotInternal, p: Record<string, unknown>, req: Request): Promise<{ status: number; body: unknown }> {
  if (bot.webhook) return { status: 409, body: { ok: false, error_code: 409, description: CONFLICT_WEBHOOK } };
  setAllowedUpdates(bot, p);
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

export const webhookMethods: Record<string, MethodImpl> = {
  setwebhook(_ctx, bot, p) {
    const url = typeof p.url === "string" ? p.url : "";
    setAllowedUpdates(bot, p);
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
  deletewebhook(_ctx, bot, p) {
    if (p.drop_pending_updates === true) bot.queue = [];
    const had = !!bot.webhook;
    bot.webhook = undefined;
    return new Described(true, had ? "Webhook was deleted" : "Webhook is already deleted");
  },
  getwebhookinfo(_ctx, bot) {
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
};

export interface PushOptions {
  /** The secret-token header: the webhook's stored secret when undefined, none when null. */
  secret?: string | null;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/**
 * POSTs an update to the bot's webhook as Telegram does, with `X-Telegram-Bot-Api-Secret-Token`.
 * A failed connection or a non-2xx answer becomes the webhook's last error (getWebhookInfo), dated
 * by `nowMs`. Resolves with the webhook's answer; rejects when it could not be reached.
 */
export async function postToWebhook(
  bot: BotInternal,
  webhook: WebhookState,
  u: Record<string, unknown>,
  opts: PushOptions,
  nowMs: () => number,
): Promise<{ status: number; body: string }> {
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
    bot.lastErrorDate = Math.floor(nowMs() / 1000);
    bot.lastErrorMessage = `Connection failed: ${(err as Error).message}`;
    throw err;
  }
  if (status < 200 || status > 299) {
    bot.lastErrorDate = Math.floor(nowMs() / 1000);
    bot.lastErrorMessage = `Wrong response from the webhook: ${status}`;
  }
  return { status, body };
}
