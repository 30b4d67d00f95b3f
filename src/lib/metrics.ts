import { Histogram } from "./histogram.ts";
import type { MetricsPage } from "./prometheus.ts";

/** Buckets of an attempt's duration, seconds: a tracker answers in tens of ms; the timeout is 10 s by default. */
const ATTEMPT_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Hosts counted by name in the outcome counter; later ones share the label `other`. Hosts come
 * from the configured templates, so this is only reached by a template with a macro in its host.
 */
export const MAX_OUTCOME_HOSTS = 200;

/** In-process counters for /metrics; gauges (queue depth, oldest due) are read from the DB when scraped. */
export class Metrics {
  /** `reasonClass` sorts an attempt's reason into one of a fixed set of classes (delivery/verdict.ts), so the series stay few. */
  constructor(private readonly reasonClass: (reason: string | null) => string) {}

  readonly events = new Map<string, number>();
  readonly attempts = new Map<string, number>();
  readonly postbacks = new Map<string, number>();
  /** Click link requests by result. */
  readonly clicks = new Map<string, number>();
  /** Attempt outcomes by `host|outcome|reason class`. */
  readonly outcomes = new Map<string, number>();
  /** How long each attempt took, seconds (request and answer; all redirects). */
  readonly attemptSeconds = new Histogram(ATTEMPT_BUCKETS_S);
  private readonly outcomeHosts = new Set<string>();
  /** Keys presented and wrong, by `how|answer` (how: bearer, query, sign_in, inbound; answer: refused 401/403, or limited 429 unchecked). */
  readonly authFailures = new Map<string, number>();

  private static bump(map: Map<string, number>, key: string, by = 1) {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  /** One lead event accepted (applied or ignored). */
  recordEvent(status: string, applied: boolean) {
    Metrics.bump(this.events, `${status}|${applied ? "applied" : "ignored"}`);
  }

  /**
   * One attempt: its outcome, and the state its row moved to with the attempt's reason (null when
   * delivered), counted per host and reason class (outcome `retry` while the row stays pending).
   */
  recordAttempt(outcome: string, state: string, host: string, reason: string | null, seconds?: number) {
    Metrics.bump(this.attempts, outcome);
    if (seconds !== undefined) this.attemptSeconds.observe(seconds);
    if (state !== "pending") Metrics.bump(this.postbacks, state);
    if (!this.outcomeHosts.has(host) && this.outcomeHosts.size < MAX_OUTCOME_HOSTS) this.outcomeHosts.add(host);
    const label = this.outcomeHosts.has(host) ? host : "other";
    Metrics.bump(this.outcomes, `${label}|${state === "pending" ? "retry" : state}|${this.reasonClass(reason)}`);
  }

  /** A key presented that was wrong (`refused`), or not checked because its client was past its limit (`limited`). */
  recordAuthFailure(via: string, answer: "refused" | "limited") {
    Metrics.bump(this.authFailures, `${via}|${answer}`);
  }

  /** Bodies that did not arrive within their deadline (408), and requests refused for their client's cap on requests in progress (429). */
  readonly slowClients = { bodyTimeouts: 0, refusedInProgress: 0 };
  /** Requests in progress without a key, as the app counts them (set by app.ts). */
  requestsInProgress: () => number = () => 0;

  /** One request to the click link: recorded, or why not (head, crawler, rate_limited, not_stored, or the refusal's reason). */
  recordClick(result: string) {
    Metrics.bump(this.clicks, result);
  }

  recordPostbacksCreated(states: readonly string[]) {
    for (const s of states) if (s !== "pending") Metrics.bump(this.postbacks, s);
  }

  /** The counters of this process onto a /metrics page. */
  writeTo(page: MetricsPage) {
    const split = (map: Map<string, number>, names: string[]) =>
      [...map].map(([k, v]) => [Object.fromEntries(k.split("|").map((part, i) => [names[i]!, part])), v] as const);
    page.counter("tgcpa_events_total", "Lead events received, by status and whether they changed the lead.", split(this.events, ["status", "result"]));
    page.counter("tgcpa_postback_attempts_total", "Delivery attempts by outcome.", split(this.attempts, ["outcome"]));
    page.counter("tgcpa_postback_outcomes_total", "Delivery attempts by host, outcome (delivered, retry, rejected, failed) and reason class.",
      split(this.outcomes, ["host", "outcome", "reason"]));
    page.counter("tgcpa_postbacks_finished_total", "Postbacks that reached a final state in this process.", split(this.postbacks, ["state"]));
    page.counter("tgcpa_auth_failures_total", "Keys presented that were wrong (refused) or not checked because the client was past its limit (limited), by how they came (bearer, query, sign_in, inbound).",
      split(this.authFailures, ["via", "answer"]));
    page.gauge("tgcpa_http_requests_in_progress", "Requests in progress without a valid API key or session (capped per client address).", [[{}, this.requestsInProgress()]]);
    page.counter("tgcpa_http_body_timeouts_total", "Request bodies that did not arrive within their deadline (answered 408, the connection closed).", [[{}, this.slowClients.bodyTimeouts]]);
    page.counter("tgcpa_http_refused_in_progress_total", "Requests refused (429) because their client address had rate_limits.requests_in_progress_per_client in progress.", [[{}, this.slowClients.refusedInProgress]]);
    page.counter("tgcpa_clicks_total", "Requests to the click link /c/{campaign} by result: recorded, head, crawler, rate_limited, not_stored, or why the link refused (unknown_campaign, campaign_paused, bot_not_connected, …).",
      split(this.clicks, ["result"]));
    page.histogram("tgcpa_postback_attempt_seconds", "How long a delivery attempt took (the request, its redirects and the answer).", this.attemptSeconds);
  }
}
