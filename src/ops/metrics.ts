/** In-process counters for /metrics; gauges (queue depth, oldest due) are read from the DB when scraped. */
export class Metrics {
  readonly events = new Map<string, number>();
  readonly attempts = new Map<string, number>();
  readonly postbacks = new Map<string, number>();

  private static bump(map: Map<string, number>, key: string, by = 1) {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  /** One lead event accepted (applied or ignored). */
  recordEvent(status: string, applied: boolean) {
    Metrics.bump(this.events, `${status}|${applied ? "applied" : "ignored"}`);
  }

  recordAttempt(outcome: string, state: string) {
    Metrics.bump(this.attempts, outcome);
    if (state !== "pending") Metrics.bump(this.postbacks, state);
  }

  recordPostbacksCreated(states: readonly string[]) {
    for (const s of states) if (s !== "pending") Metrics.bump(this.postbacks, s);
  }
}
