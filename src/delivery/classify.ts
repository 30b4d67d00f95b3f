/** What one HTTP attempt produced, before any judgement. */
export type AttemptResult =
  | { kind: "response"; status: number; body: string; retryAfterMs: number | null }
  | { kind: "error"; error: AttemptError; message: string };

export type AttemptError =
  | "timeout" | "network" | "dns_temporary" // worth another try
  | "dns_not_found" | "blocked_address" | "malformed_url" | "too_many_redirects"; // never will work

/** A preset's reading of a 2xx body: a refusal with the tracker's words, or undefined when it is a success. */
export type BodyVerdict = (body: string) => { refused: string } | undefined;

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
const RETRY_ERRORS = new Set<AttemptError>(["timeout", "network", "dns_temporary"]);

/** Decides delivered / retry / rejected for one attempt (pure). */
export function classifyAttempt(result: AttemptResult, verdict?: BodyVerdict): Classification {
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
  if (status >= 200 && status < 300) {
    const refusal = verdict?.(result.body);
    return refusal ? { outcome: "rejected", reason: `tracker refused: ${refusal.refused}` } : { outcome: "delivered" };
  }
  if (status >= 500 || RETRY_STATUSES.has(status) || status < 200) {
    return {
      outcome: "retry",
      reason: `http_${status}`,
      retryAfterMs: result.retryAfterMs,
      minDelayMs: status === 429 ? THROTTLE_FLOOR_MS : 0,
    };
  }
  return { outcome: "rejected", reason: `http_${status}` };
}

/** Retry-After is either delta-seconds or an HTTP date; returns ms from `now`, or null. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
