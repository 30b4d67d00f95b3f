// A bot's webhook secret and how its errors read, without its token.
import { createHash } from "node:crypto";
import { GrammyError, HttpError } from "grammy";
import type { BotConfig } from "../config/model.ts";

/** The webhook secret: the configured one, else one derived from the token (stable across restarts). */
export const webhookSecret = (bot: Pick<BotConfig, "secret" | "token">) =>
  bot.secret ?? createHash("sha256").update(`tgcpa-webhook:${bot.token}`).digest("hex").slice(0, 48);

/**
 * A readable error with its real cause, never carrying the token (network errors can quote the
 * request URL): Telegram's own answer, or what the network said — a refused connection is not a
 * bad token.
 */
export function describeBotError(err: unknown, token: string): string {
  let text: string;
  if (err instanceof GrammyError) {
    text = `${err.error_code}: ${err.description}`;
    if (err.error_code === 401 || err.error_code === 404) text += " (Telegram does not know this token: check it with @BotFather)";
  } else if (err instanceof HttpError) {
    const cause = err.error as (Error & { code?: string }) | undefined;
    text = `network: ${cause?.code ? `${cause.code}: ` : ""}${cause?.message ?? err.message}`;
  } else text = (err as Error)?.message ?? String(err);
  return token ? text.split(token).join("[token]") : text;
}
