import { hostname } from "node:os";
import pino, { type Logger } from "pino";

export type { Logger };

/** json: one JSON object a line, for machines (the default); pretty: one readable line an event, for people. */
export type LogFormat = "json" | "pretty";

/** Paths whose values are secrets; pino replaces them wherever a component logs them. */
const REDACT = [
  "token", "*.token", "*.*.token", "key", "*.key", "api_keys", "inbound_keys", "*.api_keys", "*.inbound_keys",
  "secret", "*.secret", "authorization", "*.authorization", "headers.authorization", "req.headers.authorization",
  // ad-platform destinations' params
  "access_token", "*.access_token", "*.*.access_token", "api_secret", "*.api_secret", "*.*.api_secret",
  "oauth_token", "*.oauth_token", "*.*.oauth_token", "access-token", "*.access-token",
];

/**
 * pino with secrets redacted, ISO times (UTC) and level names. The pretty format is a plain stream
 * on the same thread, not a pino transport: transports run in worker threads that load modules by
 * file name, which a `bun build --compile` binary does not have. Redaction happens before either
 * format sees a record.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = "json"): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT, censor: "[redacted]" },
    // pino's own pid and hostname kept beside ours: a collector reading several hosts or restarts tells them apart.
    base: { service: "tgcpa", pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (format === "json") return pino(options, destination);
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options, { write: (line: string) => void out.write(prettyLine(line)) });
}

/** Fields every line has, shown in its fixed columns (or, pid and hostname, left to the json format) rather than as key=value. */
const FIXED = new Set(["time", "level", "msg", "service", "component", "pid", "hostname"]);

/**
 * One JSON log line → one readable line: local ISO time with its offset, level name, [component],
 * message, then the other fields as key=value (strings quoted only when they need it, objects as JSON).
 * `offsetMinutes` is east of UTC (e.g. 180 for UTC+3); the local zone's by default.
 */
export function prettyLine(json: string, offsetMinutes?: number): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json);
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`; // not a record: pass it through untouched
  }
  const when = new Date(typeof record.time === "string" || typeof record.time === "number" ? record.time : Date.now());
  const parts = [localIso(when, offsetMinutes ?? -when.getTimezoneOffset()), String(record.level ?? "").toUpperCase().padEnd(5)];
  if (record.component !== undefined) parts.push(`[${record.component}]`);
  if (record.msg !== undefined) parts.push(String(record.msg));
  for (const [key, value] of Object.entries(record)) {
    if (!FIXED.has(key) && value !== undefined) parts.push(`${key}=${fieldValue(key, value)}`);
  }
  return `${parts.join(" ").replace(/\r?\n/g, "\\n")}\n`;
}

function fieldValue(key: string, value: unknown): string {
  if (key === "err" && value && typeof value === "object") {
    const err = value as { type?: string; message?: string };
    return JSON.stringify(`${err.type ?? "Error"}: ${err.message ?? ""}`); // the stack stays in the json format
  }
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/** e.g. 2026-05-01T14:03:07.123+03:00 */
export function localIso(date: Date, offsetMinutes: number): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/**
 * An error already put into words (a bot's cause without its token, an update's problem), logged
 * under `err` in the shape pino gives an Error (`type`, `message`), so a log collector finds every
 * error in one field. No stack: it would point at the log line, not at the cause.
 */
export const describedError = (type: string, message: string | null) =>
  // No prototype: pino names an error by its constructor, and this one has none but its name.
  Object.assign(Object.create(null) as object, { name: type, message: message ?? "" });

/** Removes `key=...` from a URL before it is logged or shown (API keys can travel in the query). */
export const stripKey = (url: string) => url.replace(/([?&]key=)[^&#]*/gi, "$1[redacted]");

/** Replaces every URL in a text with `[url]`: a postback URL may carry a tracker key, a Bot API URL a token. */
export const stripUrls = (text: string) => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, "[url]");
