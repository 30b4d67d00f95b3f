import { reasonClass } from "../delivery/verdict.ts";

/**
 * Hosts counted by name in the outcome counter; later ones share the label `other`. Hosts come
 * from the configured templates, so this is only reached by a template with a macro in its host.
 */
export const MAX_OUTCOME_HOSTS = 200;

/** In-process counters for /metrics; gauges (queue depth, oldest due) are read from the DB when scraped. */
export class Metrics {
  readonly events = new Map<string, number>();
  readonly attempts = new Map<string, number>();
  readonly postbacks = new Map<string, number>();
  /** Attempt outcomes by `host|outcome|reason class`. */
  readonly outcomes = new Map<string, number>();
  private readonly outcomeHosts = new Set<string>();

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
  recordAttempt(outcome: string, state: string, host: string, reason: string | null) {
    Metrics.bump(this.attempts, outcome);
    if (state !== "pending") Metrics.bump(this.postbacks, state);
    if (!this.outcomeHosts.has(host) && this.outcomeHosts.size < MAX_OUTCOME_HOSTS) this.outcomeHosts.add(host);
    const label = this.outcomeHosts.has(host) ? host : "other";
    Metrics.bump(this.outcomes, `${label}|${state === "pending" ? "retry" : state}|${reasonClass(reason)}`);
  }

  recordPostbacksCreated(states: readonly string[]) {
    for (const s of states) if (s !== "pending") Metrics.bump(this.postbacks, s);
  }
}
