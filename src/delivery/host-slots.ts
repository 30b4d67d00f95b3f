import { CircuitBreakers } from "./circuit.ts";
import { HostHealth, type HostState } from "./host-health.ts";
import type { SendPacer } from "./pacing.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";
import type { Classification } from "../domain/verdict.ts";

/** A host whose peer limits how fast it may be sent to (a Telegram bot), and how its rows are paced. */
export interface HostPacing {
  pacer: SendPacer;
  /** The chat a row is sent to, for the per-chat limits; null when it counts only toward the host's rate. */
  chatOf(row: ClaimedPostback): number | null;
  /** Requests in flight to this host at most (replaces delivery.per_host_in_flight: the rate is the real limit). */
  inFlight: number;
}

export interface Pacing {
  /** The pacing of a host, or undefined when it has none (tracker hosts). */
  forHost(host: string): HostPacing | undefined;
  /** Hosts paused at `now` (a flood wait), with the end of each pause. */
  pausedHosts(now: number): { host: string; until: number }[];
}

/**
 * Other instances on the database (PostgreSQL): hosts whose rows another instance sends (a bot it
 * owns), and the circuits they all share. Absent on SQLite, where this process is the only one.
 */
export interface SharedHosts {
  isForeignHost(host: string): boolean;
  foreignHosts(): string[];
  circuitOpened(host: string, openUntil: number, failures: number): void;
  circuitClosed(host: string): void;
}

/**
 * Rows claimed beyond the free slots, as a share of the caps. A slot freed by an answer is
 * refilled at once from them, not after a claim round (a group commit and its fsync), so under a
 * backlog every slot stays busy.
 */
export const PREFETCH_SHARE = 0.5;

/**
 * How much each host may take now: its requests in flight against its cap (delivery.per_host_in_flight,
 * or its pacing's), its circuit breaker (a host that keeps failing is paused, then probed), and
 * for a paced host (a Telegram bot) its pace and flood waits. The dispatcher asks it what to
 * claim and what to start, and tells it what started, finished and how it went.
 */
export class HostSlots {
  /** Requests started and not finished, per host: what the caps count. */
  private readonly running = new Map<string, number>();
  private circuits: CircuitBreakers;
  /** Circuits opened by another instance, with the end it gave them (clock ms). */
  private readonly openedElsewhere = new Map<string, number>();
  private readonly health = new HostHealth();

  constructor(
    private readonly pacing: Pacing | undefined, breaker: { failures: number; cooldownMs: number },
    /** Rows one request to a host may carry (an ad platform's batch; 1 for everything else). */
    private readonly batchLimit: (host: string) => number = () => 1,
    private readonly shared?: SharedHosts,
  ) {
    this.circuits = new CircuitBreakers(breaker.failures, breaker.cooldownMs);
  }

  /** New breaker settings after a reload (the circuits start closed). */
  reconfigure(breaker: { failures: number; cooldownMs: number }) {
    this.circuits = new CircuitBreakers(breaker.failures, breaker.cooldownMs);
    this.openedElsewhere.clear(); // taken again from the database at the next heartbeat
  }

  /** How many requests a host may have in flight now: 0 while it is paused (flood wait) or its circuit is open. */
  slots(host: string, perHostInFlight: number, now: number): number {
    if (this.shared?.isForeignHost(host)) return 0; // another instance sends its rows
    const pacing = this.pacing?.forHost(host);
    if (pacing?.pacer.pausedUntil(now)) return 0;
    return this.circuits.allowance(host, pacing?.inFlight ?? perHostInFlight, now);
  }

  /**
   * How many more rows of a host a claim may take: its free slots, plus a prefetch while its
   * circuit is closed, less what is in flight and queued. A paced host holds no more than one
   * second of its sends: rows waiting for their pace would otherwise take the claims that tracker
   * postbacks need. A host whose requests carry several rows (an ad platform) takes as many
   * requests' worth of rows: its free slots times its batch.
   */
  claimAllowance(host: string, perHostInFlight: number, now: number, queued: number): number {
    const pacing = this.pacing?.forHost(host);
    const cap = pacing?.inFlight ?? perHostInFlight;
    const slots = this.slots(host, perHostInFlight, now);
    let limit = slots === cap ? slots + Math.ceil(cap * PREFETCH_SHARE) : slots;
    if (pacing) limit = Math.min(limit, Math.ceil(pacing.pacer.limits.perSecond));
    return (limit - this.inFlight(host)) * this.batchOf(host) - queued;
  }

  /** Rows one request to this host may carry (1 but for an ad platform's host). */
  batchOf(host: string): number {
    return this.pacing?.forHost(host) ? 1 : Math.max(1, this.batchLimit(host));
  }

  /** The hosts a claim must not read now: full, paused by their circuit, or in a flood wait. */
  blocked(now: number, perHostInFlight: number, queued: ReadonlyMap<string, number>): string[] {
    const hosts = new Set([...this.running.keys(), ...queued.keys()]);
    const full = [...hosts].filter((h) => this.claimAllowance(h, perHostInFlight, now, queued.get(h) ?? 0) <= 0);
    const paused = this.pacing?.pausedHosts(now).map((p) => p.host) ?? [];
    return [...new Set([...full, ...this.circuits.openHosts(now), ...paused, ...(this.shared?.foreignHosts() ?? [])])];
  }

  isPaced(host: string): boolean {
    return this.pacing?.forHost(host) !== undefined;
  }

  /**
   * Whether a row may start now as far as its host's pace goes: 0, and its send is booked; else
   * the moment its pace allows it (a host without pacing always may).
   */
  paceWait(row: ClaimedPostback, now: number): number {
    const pacing = this.pacing?.forHost(row.host);
    if (!pacing) return 0;
    const chat = pacing.chatOf(row);
    const at = pacing.pacer.earliest(chat, now);
    if (at > now) return at;
    pacing.pacer.take(chat, now);
    return 0;
  }

  inFlight(host: string): number {
    return this.running.get(host) ?? 0;
  }

  started(host: string) {
    this.running.set(host, this.inFlight(host) + 1);
  }

  finished(host: string) {
    const n = this.inFlight(host) - 1;
    if (n > 0) this.running.set(host, n);
    else this.running.delete(host);
  }

  /**
   * Takes an attempt's verdict: a flood wait pauses the host (the peer's pace, not the host
   * failing: never a circuit failure); another retry counts toward the circuit; anything else
   * closes it. Says whether the circuit opened and until when a flood wait pauses the host.
   */
  recordVerdict(host: string, verdict: Classification, now: number): { circuitOpened: boolean; pausedUntil: number | null } {
    if (verdict.outcome !== "retry") {
      if (this.circuits.recordSuccess(host)) { // a refusal is an answer: the host is up
        this.openedElsewhere.delete(host);
        this.shared?.circuitClosed(host); // the probe went through: closed for every instance
      }
      if (verdict.outcome === "delivered") this.health.delivered(host, now);
      else this.health.failed(host, verdict.reason, now);
      return { circuitOpened: false, pausedUntil: null };
    }
    if (verdict.pauseHostMs !== undefined) {
      const pacer = this.pacing?.forHost(host)?.pacer;
      pacer?.pause(now + verdict.pauseHostMs);
      return { circuitOpened: false, pausedUntil: pacer ? now + verdict.pauseHostMs : null };
    }
    this.health.failed(host, verdict.reason, now);
    const circuitOpened = this.circuits.recordFailure(host, now);
    const open = circuitOpened ? this.circuits.openState(host) : null;
    if (open) this.shared?.circuitOpened(host, open.openUntil, open.failures);
    return { circuitOpened, pausedUntil: null };
  }

  /**
   * The circuits open on the database (every instance's): each pauses its host here too, until
   * its end; one this process took from there and that is no longer listed was closed by a probe
   * elsewhere, and closes here. True when a host reopened (worth a claim round).
   */
  mergeShared(open: readonly { host: string; openUntil: number }[], now: number): boolean {
    const listed = new Set(open.map((c) => c.host));
    let reopened = false;
    for (const [host, until] of this.openedElsewhere) {
      if (listed.has(host)) continue;
      this.openedElsewhere.delete(host);
      if (until > now && this.circuits.openState(host)?.openUntil === until) reopened = this.circuits.recordSuccess(host) || reopened;
    }
    for (const c of open) {
      if (c.openUntil <= now) continue;
      const mine = this.circuits.openState(c.host)?.openUntil;
      if (mine !== undefined && mine >= c.openUntil) continue;
      this.circuits.openElsewhere(c.host, c.openUntil);
      this.openedElsewhere.set(c.host, c.openUntil);
    }
    return reopened;
  }

  /** Every host attempted since start (or in flight now): its circuit, its run of failures, its flood wait. */
  states(now: number): HostState[] {
    const hosts = new Set([...this.health.hostsSeen(), ...this.running.keys(), ...this.circuits.hostsKnown()]);
    const paused = new Map((this.pacing?.pausedHosts(now) ?? []).map((p) => [p.host, p.until]));
    return [...hosts].sort().map((host) => {
      const c = this.circuits.state(host);
      const h = this.health.get(host);
      const circuit = c.openUntil === null ? "closed" : c.openUntil > now ? "open" : "half_open";
      return {
        host, inFlight: this.inFlight(host), circuit, openUntil: c.openUntil, circuitFailures: c.failures,
        failingSince: h?.failingSince ?? null, failedAttempts: h?.failedAttempts ?? 0, lastDeliveredAt: h?.lastDeliveredAt ?? null,
        lastFailure: h?.lastFailure ?? null, pausedUntil: paused.get(host) ?? null,
      };
    });
  }

  /** Moments a blocked host opens again by itself: a circuit's probe, the end of a flood wait. */
  reopenings(now: number): number[] {
    const at = (this.pacing?.pausedHosts(now) ?? []).map((p) => p.until);
    const probe = this.circuits.nextProbeAt(now);
    if (probe !== null) at.push(probe);
    return at;
  }
}
