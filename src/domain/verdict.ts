import { isHtmlMarkup, redactTokens } from "./stored-answer.ts";

/** What one HTTP attempt produced, before any judgement. */
export type AttemptResult =
  | { kind: "response"; status: number; body: string; retryAfterMs: number | null }
  | { kind: "error"; error: AttemptError; message: string };

export type AttemptError =
  | "timeout" | "network" | "dns_temporary" | "internal" // worth another try (internal: a sender that threw)
  | "dns_not_found" | "blocked_address" | "malformed_url" | "too_many_redirects" // never will work
  | "no_destination"; // an ad row whose destination (and so its secret) is no longer configured

/** A preset's reading of a 2xx body: a refusal with the tracker's words, or undefined when it is not one. */
export type BodyVerdict = (body: string) => { refused: string } | undefined;

/**
 * How the answers of a destination are judged (config `verdict`, see presets.ts `verdictByName`):
 * - `body`: a 2xx is delivered unless its body is a refusal — an HTML page (always: a postback URL
 *   that answers with a web page hit a wrong path or key), or one the tracker's format knows;
 * - `status`: by the HTTP status alone;
 * - `none`: every HTTP answer counts as delivered, whatever its status; only a request that got
 *   no answer (timeout, network, DNS) is retried, and one that cannot be sent is rejected;
 * - `platform`: an ad platform's own reading of every answer, whatever its status (adplatforms/).
 */
export type AnswerRule =
  | { judge: "body"; refusal?: BodyVerdict } | { judge: "status" } | { judge: "none" }
  | { judge: "platform"; classify(answer: Extract<AttemptResult, { kind: "response" }>): Classification };

/** The stored reason for an HTML page where a postback answer belongs; never the page itself. */
export const HTML_PAGE_REASON = "answered with an HTML page (wrong path or key?)";

// An HTML document: after a BOM, blanks, an XML prolog or comments, a doctype or an <html> tag.
const HTML_DOCUMENT = /^\uFEFF?\s*(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html)(?=[\s>])/i;

/** Whether an answer is an HTML document (a login, parking or error page) rather than a tracker's answer. */
export const isHtmlPage = (body: string) => HTML_DOCUMENT.test(body);

/** Characters of a tracker's words kept in a reason: enough for any documented answer. */
const WORDS_MAX = 120;

/**
 * The words of a short text answer (its first non-blank line, control characters removed), to
 * carry in a reason; null for an empty body or an HTML page, whose content is not the tracker's
 * answer (and may hold a session or CSRF token).
 */
export function answerWords(body: string): string | null {
  if (isHtmlPage(body) || isHtmlMarkup(body)) return null;
  const raw = body.split(/\r?\n/).map((l) => l.replace(/[\u0000-\u001f\u007f]+/g, " ").trim()).find((l) => l !== "");
  if (!raw) return null;
  const line = redactTokens(raw); // a reason is stored: no token-shaped value in it
  return line.length > WORDS_MAX ? `${line.slice(0, WORDS_MAX)}…` : line;
}

const STATUS_ONLY: AnswerRule = { judge: "status" };

export type Classification =
  | { outcome: "delivered" }
  | { outcome: "rejected"; reason: string }
  | {
    outcome: "retry";
    reason: string;
    retryAfterMs: number | null;
    minDelayMs: number;
    /**
     * The peer asked the whole sender to wait this long (a Telegram flood wait): the host is paused,
     * the row keeps its place in line and goes first when the pause ends; not a circuit failure,
     * and not an attempt of the retry ladder.
     */
    pauseHostMs?: number;
  };

/** SPEC §4: after a 429 or a timeout the next wait is at least this long. */
export const THROTTLE_FLOOR_MS = 60_000;

const RETRY_STATUSES = new Set([408, 425, 429]);
const RETRY_ERRORS = new Set<AttemptError>(["timeout", "network", "dns_temporary", "internal"]);

/** Decides delivered / retry / rejected for one attempt (pure); by the HTTP status alone unless a rule says more. */
export function classifyAttempt(result: AttemptResult, rule: AnswerRule = STATUS_ONLY): Classification {
  if (result.kind === "error") {
    if (!RETRY_ERRORS.has(result.error)) return { outcome: "rejected", reason: `${result.error}: ${result.message}` };
    return {
      outcome: "retry",
      reason: `${result.error}: ${result.message}`,
      retryAfterMs: null,
      minDelayMs: result.error === "timeout" ? THROTTLE_FLOOR_MS : 0,
    };
  }
  const { status } = result;
  if (rule.judge === "none") return { outcome: "delivered" };
  if (rule.judge === "platform") return rule.classify(result);
  if (status >= 200 && status < 300) {
    if (rule.judge === "status") return { outcome: "delivered" };
    if (isHtmlPage(result.body)) return { outcome: "rejected", reason: HTML_PAGE_REASON };
    const refusal = rule.refusal?.(result.body);
    return refusal ? { outcome: "rejected", reason: `tracker refused: ${refusal.refused}` } : { outcome: "delivered" };
  }
  // The tracker's own words, when it gave some (e.g. 404 "Click ID not found in database.").
  const words = answerWords(result.body);
  const reason = words ? `http_${status}: ${words}` : `http_${status}`;
  if (status >= 500 || RETRY_STATUSES.has(status) || status < 200) {
    return { outcome: "retry", reason, retryAfterMs: result.retryAfterMs, minDelayMs: status === 429 ? THROTTLE_FLOOR_MS : 0 };
  }
  return { outcome: "rejected", reason };
}

/**
 * Classes of reasons for /metrics: a fixed set, so a label never carries a tracker's free text and
 * the number of series stays bounded.
 */
export const REASON_CLASSES = [
  "ok", "tracker_refused", "platform_refused", "platform_retry", "html_page", "http_4xx", "http_429", "http_5xx", "http_other",
  "timeout", "network", "dns", "blocked_address", "malformed_url", "too_many_redirects", "no_click", "campaign_paused", "no_destination", "other",
] as const;
export type ReasonClass = (typeof REASON_CLASSES)[number];

const REASON_WORDS = new Map<string, ReasonClass>([
  ["timeout", "timeout"], ["network", "network"], ["dns_not_found", "dns"], ["dns_temporary", "dns"],
  ["blocked_address", "blocked_address"], ["malformed_url", "malformed_url"], ["too_many_redirects", "too_many_redirects"],
  ["no_click", "no_click"], ["campaign_paused", "campaign_paused"], ["no_destination", "no_destination"],
]);

/** The class of one attempt's or row's reason (null: delivered). */
export function reasonClass(reason: string | null): ReasonClass {
  if (reason === null) return "ok";
  if (reason.startsWith("tracker refused:")) return "tracker_refused";
  if (reason.startsWith("platform refused:")) return "platform_refused";
  if (reason.startsWith("platform retry:")) return "platform_retry";
  if (reason === HTML_PAGE_REASON) return "html_page";
  const status = /^(?:http|telegram)_(\d{3})\b/.exec(reason)?.[1];
  if (status !== undefined) {
    const code = Number(status);
    return code === 429 ? "http_429" : code >= 500 ? "http_5xx" : code >= 400 ? "http_4xx" : "http_other";
  }
  return REASON_WORDS.get(/^[a-z_]+/.exec(reason)?.[0] ?? "") ?? "other";
}

/** Retry-After is either delta-seconds or an HTTP date; returns ms from `now`, or null. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
