import pino, { type Logger } from "pino";

export type { Logger };

/** Paths whose values are secrets; pino replaces them wherever a component logs them. */
const REDACT = [
  "token", "*.token", "*.*.token", "key", "*.key", "api_keys", "inbound_keys", "*.api_keys", "*.inbound_keys",
  "secret", "*.secret", "authorization", "*.authorization", "headers.authorization", "req.headers.authorization",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: "[redacted]" }, base: { service: "tgcpa" } }, destination);
}

/** Removes `key=...` from a URL before it is logged or shown (API keys can travel in the query). */
export const stripKey = (url: string) => url.replace(/([?&]key=)[^&#]*/gi, "$1[redacted]");

/** Replaces every URL in a text with `[url]`: a postback URL may carry a tracker key, a Bot API URL a token. */
export const stripUrls = (text: string) => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, "[url]");
