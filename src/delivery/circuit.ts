interface HostCircuit {
  failures: number;
  /** While set and in the future the host is paused; after it, one probe may go. */
  openUntil: number | null;
}

/**
 * Per-host circuit breaker: after `threshold` failures in a row the host is paused for
 * `cooldownMs`, then one probe is let through; success closes it, failure pauses it again.
 */
export class CircuitBreakers {
  private readonly hosts = new Map<string, HostCircuit>();

  constructor(private readonly threshold: number, private readonly cooldownMs: number) {}

  /** How many requests the host may have in flight now, given its normal cap. */
  allowance(host: string, cap: number, now: number): number {
    const c = this.hosts.get(host);
    if (!c?.openUntil) return cap;
    return now < c.openUntil ? 0 : 1; // half-open: one probe
  }

  /** Closes the host's circuit; true when it was open (a probe went through), not merely counting failures. */
  recordSuccess(host: string): boolean {
    const wasOpen = this.hosts.get(host)?.openUntil != null;
    this.hosts.delete(host);
    return wasOpen;
  }

  /** Another instance opened the host's circuit until `until`: it is paused here too, and a failed probe re-opens it. */
  openElsewhere(host: string, until: number) {
    const c = this.hosts.get(host);
    if (c?.openUntil != null && c.openUntil >= until) return;
    this.hosts.set(host, { failures: Math.max(c?.failures ?? 0, this.threshold), openUntil: until });
  }

  /** The circuit's end and failures in a row, if it is open. */
  openState(host: string): { openUntil: number; failures: number } | null {
    const c = this.hosts.get(host);
    return c?.openUntil != null ? { openUntil: c.openUntil, failures: c.failures } : null;
  }

  /** Returns true when this failure opened (or re-opened) the circuit. */
  recordFailure(host: string, now: number): boolean {
    const c = this.hosts.get(host) ?? { failures: 0, openUntil: null };
    c.failures++;
    this.hosts.set(host, c);
    if (c.openUntil !== null || c.failures >= this.threshold) {
      c.openUntil = now + this.cooldownMs;
      return true;
    }
    return false;
  }

  /** The earliest moment a paused host may be probed, if any is paused. */
  nextProbeAt(now: number): number | null {
    let next: number | null = null;
    for (const c of this.hosts.values()) {
      if (c.openUntil !== null && c.openUntil > now && (next === null || c.openUntil < next)) next = c.openUntil;
    }
    return next;
  }

  /** A host's circuit: its retries in a row and until when it is paused (null: closed). */
  state(host: string): { failures: number; openUntil: number | null } {
    const c = this.hosts.get(host);
    return { failures: c?.failures ?? 0, openUntil: c?.openUntil ?? null };
  }

  hostsKnown(): string[] {
    return [...this.hosts.keys()];
  }

  openHosts(now: number): string[] {
    return [...this.hosts].filter(([, c]) => c.openUntil !== null && c.openUntil > now).map(([h]) => h);
  }
}
