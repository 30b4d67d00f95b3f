// What every ad-platform destination is made of (reference/ad-platforms.md): its params, the URL a
// row stores (its secret replaced by ***), a request builder that takes a list of events (one
// request can carry several: the batching calls it that way), the secret filled in at send time,
// and a pure classifier of the platform's own answers.
import type { Status } from "../domain/status.ts";
import type { MacroValues } from "../domain/templates.ts";
import { THROTTLE_FLOOR_MS, answerWords, classifyAttempt, type AttemptResult, type Classification } from "../domain/verdict.ts";

export type AdResponse = Extract<AttemptResult, { kind: "response" }>;

export interface AdParam {
  name: string;
  required: boolean;
  default?: string;
  description: string;
  /** An access token or API secret: resolved at send time, never stored in a row, never shown. */
  secret?: boolean;
}

/** A destination as the builders read it: its params with defaults (the secret left out), its event names. */
export interface AdSettings {
  params: Readonly<Record<string, string>>;
  /** Event name (Yandex: the goal's Target) per status; a status without one sends nothing. */
  events: Readonly<Partial<Record<Status, string>>>;
  /** GA4: send to the validation endpoint (/debug/mp/collect), which records nothing. */
  validateOnly: boolean;
}

export interface BuiltBody {
  body: string;
  contentType: string;
}

export interface AdPlatform {
  name: string;
  platform: string;
  params: AdParam[];
  /** Event names per status when `events` does not say; `{}` where the user must name them (Yandex goals). */
  defaultEvents: Partial<Record<Status, string>>;
  /** Events one request may carry (the platform's limit). */
  maxEvents: number;
  /** The URL a row stores and shows: the secret, if the URL carries it, is `***`. */
  storedUrl(settings: AdSettings): string;
  /** One request for these events; rows of one request share batchKey. */
  build(settings: AdSettings, rows: readonly MacroValues[]): BuiltBody;
  /** Rows with equal keys may share a request (GA4: one client per request; Yandex: one id column per CSV). */
  batchKey(row: MacroValues): string;
  /**
   * The same key read from a row's stored body (built alone: `build(settings, [row])`), with what
   * else the request carries that must be equal (a test_event_code); null: the row is sent alone.
   */
  bodyBatchKey(body: string, contentType: string | null): string | null;
  /** One request's body carrying the events of rows built alone, of one bodyBatchKey. */
  mergeBodies(bodies: readonly string[], contentType: string | null): BuiltBody;
  /**
   * Whether the platform's refusal of a request of several events may be about one of them (Meta:
   * "if any event is invalid, the whole batch is rejected"), so that each is sent alone to find
   * it; false when the refusal is the request's own (a bad token, a wrong pixel).
   */
  refusalMayBeOneEvent(answer: AdResponse): boolean;
  /** Puts the secret into the request at send time: the URL (a query parameter) or the returned headers. */
  sign(url: URL, secret: string): Record<string, string>;
  /** Delivered, retried or rejected from the platform's own answer (never by the HTTP status alone). */
  classify(answer: AdResponse): Classification;
  /** Why an event name cannot be sent, or null. */
  checkEventName(name: string): string | null;
  /** Problems of the params, by param name. */
  checkParams(params: Readonly<Record<string, string>>): [param: string, message: string][];
  notes: string;
}

/** base_url: the platform's own host by default; tests point it at a fake on 127.0.0.1. */
export const baseUrlParam = (host: string): AdParam => ({
  name: "base_url", required: false, default: host, description: `the API's base URL (default ${host}); an http(s) URL without a path`,
});

/** The base URL without trailing slashes. */
export const baseOf = (settings: AdSettings) => settings.params.base_url!.replace(/\/+$/, "");

/** Seconds of the event (the `{time}` macro). */
export const eventSeconds = (row: MacroValues) => Number(row.time);

/**
 * Value and currency from the campaign's payouts (or an inbound postback's): sent together or not
 * at all (GA4 and Firebase want a currency with every value), as a number and an upper-case ISO
 * 4217 code (TikTok documents upper case; Meta's case is unverified, and upper case is the code).
 */
export function valueOf(row: MacroValues): { value: number; currency: string } | null {
  const value = Number(row.payout.trim());
  const currency = row.currency.trim().toUpperCase();
  if (row.payout.trim() === "" || !Number.isFinite(value) || !/^[A-Z]{3}$/.test(currency)) return null;
  return { value, currency };
}

/** The event name of a row's status (builders are only given rows of statuses that have one). */
export const eventName = (settings: AdSettings, row: MacroValues) => settings.events[row.status as Status] ?? "";

/** A body's JSON object, or null. */
export const jsonObject = (body: string): Record<string, unknown> | null => {
  const parsed = parseJson(body);
  return isObject(parsed) ? parsed : null;
};

/** The array `field` of each body's JSON, one after another (the events of rows built alone). */
export function concatArrays(bodies: readonly string[], field: string): unknown[] {
  return bodies.flatMap((b) => {
    const list = jsonObject(b)?.[field];
    return Array.isArray(list) ? list : [];
  });
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A platform's message, made short and single-line for a reason. */
export const platformWords = (text: unknown) => (typeof text === "string" ? answerWords(text) : null) ?? "";

/** A permanent refusal in the platform's words (metrics class platform_refused). */
export const refused = (words: string): Classification => ({ outcome: "rejected", reason: `platform refused: ${words}` });

/** A retry the platform's own code asked for; `throttled`: a rate limit, so at least THROTTLE_FLOOR_MS. */
export const retryLater = (answer: AdResponse, words: string, throttled: boolean): Classification => ({
  outcome: "retry", reason: `platform retry: ${words}`, retryAfterMs: answer.retryAfterMs, minDelayMs: throttled ? THROTTLE_FLOOR_MS : 0,
});

/** An answer without the platform's own code: by its HTTP status (5xx, 408, 425, 429 retried; 4xx rejected). */
export const byStatus = (answer: AdResponse) => classifyAttempt(answer, { judge: "status" });

/** A URL parameter or path value: percent-encoded. */
export const enc = encodeURIComponent;

/** A base URL problem, or null: http(s), no query or fragment. */
export function checkBaseUrl(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!/^https?:\/\//i.test(value) || !URL.canParse(value)) return `"${value}" is not an http(s) URL`;
  const url = new URL(value);
  if (url.search || url.hash || /[{}]/.test(value)) return "must be a base URL without a query, fragment or {macro}";
  return null;
}
