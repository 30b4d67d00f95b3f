// How each host's postbacks have gone since this process started: what GET /api/hosts shows and
// the alerts read (a host failing for N minutes). Kept in memory beside the circuit breakers: a
// restart starts every host unknown, and the alerts treat unknown as "no news", not as fine.

/** One host as the dispatcher sees it now. */
export interface HostState {
  host: string;
  /** Requests to it in flight now. */
  inFlight: number;
  /** closed: sends as usual; open: paused until openUntil; half_open: the cool-down is over, one probe may go. */
  circuit: "closed" | "open" | "half_open";
  openUntil: number | null;
  /** Retries in a row, what opens the circuit (delivery.circuit_failures). */
  circuitFailures: number;
  /** The first attempt that failed (retried or rejected) since the last delivered one; null while the last attempt was delivered. */
  failingSince: number | null;
  /** Attempts failed since the last delivered one. */
  failedAttempts: number;
  lastDeliveredAt: number | null;
  lastFailure: { at: number; reason: string } | null;
  /** A Telegram bot's flood wait: nothing is sent to it until then. */
  pausedUntil: number | null;
}

/** What the routes and the alerts may ask of the dispatcher's hosts: read only. */
export interface HostStates {
  states(now: number): readonly HostState[];
}

interface Record {
  failingSince: number | null;
  failedAttempts: number;
  lastDeliveredAt: number | null;
  lastFailure: { at: number; reason: string } | null;
}

/** Per host: its last delivery and the run of failures since. */
export class HostHealth {
  private readonly hosts = new Map<string, Record>();

  private of(host: string): Record {
    let r = this.hosts.get(host);
    if (!r) this.hosts.set(host, (r = { failingSince: null, failedAttempts: 0, lastDeliveredAt: null, lastFailure: null }));
    return r;
  }

  delivered(host: string, now: number) {
    const r = this.of(host);
    r.lastDeliveredAt = now;
    r.failingSince = null;
    r.failedAttempts = 0;
  }

  /** A retried or rejected attempt (a flood wait is the peer's pace, not a failure: not recorded). */
  failed(host: string, reason: string, now: number) {
    const r = this.of(host);
    r.failingSince ??= now;
    r.failedAttempts++;
    r.lastFailure = { at: now, reason };
  }

  hostsSeen(): string[] {
    return [...this.hosts.keys()];
  }

  get(host: string): Readonly<Record> | undefined {
    return this.hosts.get(host);
  }
}
