import type { Config } from "../config/model.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { Alarm, type Clock } from "../lib/clock.ts";
import { stripUrls, type Logger } from "../lib/logger.ts";
import type { Metrics } from "../ops/metrics.ts";
import { AddressGuard } from "./address-guard.ts";
import { nextRetryDelay } from "./backoff.ts";
import { CircuitBreakers } from "./circuit.ts";
import { isStorageUnavailable } from "../lib/errors.ts";
import { verdictByName } from "../presets/presets.ts";
import { classifyAttempt, type Classification } from "./verdict.ts";
import type { SendPacer } from "./pacing.ts";
import type { ClaimedPostback, Completion, OutboxRepository } from "./repository.ts";
import { sendPostback, type SendReport } from "./http-request.ts";

/** One attempt over one channel: what happened and how it is judged. */
export interface ChannelAttempt {
  report: SendReport;
  verdict: Classification;
}

/**
 * Sends one claimed row; `abort` is the row's controller: the dispatcher aborts it at shutdown, a
 * sender may abort it on its own timeout. Must not throw for delivery failures.
 */
export type ChannelSender = (row: ClaimedPostback, abort: AbortController) => Promise<ChannelAttempt>;

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

export interface DispatcherDeps {
  outbox: OutboxRepository;
  /** Completions share transactions with each other and with the intake (one fsync for many). */
  commits: GroupCommit;
  config: () => Config;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  random?: () => number;
  /** Senders for channels other than http (e.g. telegram), by channel name. */
  senders?: Record<string, ChannelSender>;
  /** Hosts sent to at a limited rate (Telegram bots); tracker hosts are never paced. */
  pacing?: Pacing;
}

const IDLE_RECHECK_MS = 1000;

/**
 * Rows claimed beyond the free slots, as a share of max_in_flight (and of a healthy host's cap).
 * A slot freed by an answer is refilled at once from them, not after a claim round (a group
 * commit and its fsync), so under a backlog every slot stays busy. They are leased like rows in
 * flight; they are given back at shutdown, when their host's circuit opens, and when a row has
 * waited so long that its lease could run out before its request would.
 */
const PREFETCH_SHARE = 0.5;

/**
 * During sustained delivery a full garbage collection runs every this many attempts. JSC's own
 * heuristics let the garbage of fetch (responses, buffers) grow the process by 40-100 MB before
 * collecting; a collection of this small heap takes a few ms, under 2 % of the time at 15k
 * attempts/s, and keeps the peak RSS near the live size — what counts on a small VPS.
 */
const GC_EVERY_ATTEMPTS = 10_000;

interface InFlight {
  row: ClaimedPostback;
  abort: AbortController;
  done: Promise<void>;
  shuttingDown: boolean;
  /** When its claim (and lease) began, clock ms. */
  claimedAt: number;
}

/**
 * Drains the outbox: claims due rows under a lease, sends them, records the outcome. Woken at
 * once by new commits (wake) and by a timer for the next due row; never holds a DB lock
 * across a network call.
 */
export class Dispatcher {
  /** Every row this process holds a lease on: sending, saving its outcome, or queued. */
  private readonly inFlight = new Map<number, InFlight>();
  /** Claimed rows waiting for a slot, in claim order (see PREFETCH_SHARE). */
  private queued: InFlight[] = [];
  /** Rows started and not finished, per host: what the caps count. */
  private readonly perHost = new Map<string, number>();
  private circuits: CircuitBreakers;
  private guard: AddressGuard;
  /** The next claim round: a row falls due, a paused host may be probed, a storage retry. */
  private readonly claimAlarm: Alarm;
  /** When a queued row's pace lets it start. */
  private readonly paceAlarm: Alarm;
  private pumpQueued = false;
  private attemptsSinceGc = 0;
  /** The claim round being committed, if any. */
  private claiming: Promise<void> | null = null;
  private pumpAgain = false;
  private running = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: DispatcherDeps) {
    this.claimAlarm = new Alarm(deps.clock, () => this.pump());
    this.paceAlarm = new Alarm(deps.clock, () => this.pump());
    const d = deps.config().delivery;
    this.circuits = new CircuitBreakers(d.circuit_failures, d.circuit_cooldown_ms);
    this.guard = new AddressGuard(d.allow_hosts);
  }

  start() {
    this.running = true;
    this.wake();
  }

  /** Picks up a new config (caps, allow-list, breaker settings) after a reload. */
  reconfigure() {
    const d = this.deps.config().delivery;
    this.guard = new AddressGuard(d.allow_hosts);
    this.circuits = new CircuitBreakers(d.circuit_failures, d.circuit_cooldown_ms);
    this.wake();
  }

  /** Ask for a claim round soon; many wakes in one tick collapse into one round. */
  wake() {
    if (!this.running || this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Requests started and not finished (queued rows not counted). */
  get inFlightCount() {
    return this.inFlight.size - this.queued.length;
  }

  /**
   * One claim round. The claim runs inside the group commit (sharing its transaction and fsync
   * with the writes around it); its rows are launched once that commit is on the disk. One round
   * at a time: wakes during a round ask for another one after it.
   */
  private pump() {
    if (!this.running) return;
    this.startQueued();
    if (this.claiming) {
      this.pumpAgain = true;
      return;
    }
    const d = this.deps.config().delivery;
    // Rows waiting for their host's pace (at most a second of its sends each) are outside the
    // claim budget: however many a bot has waiting, tracker postbacks are claimed as before.
    const want = d.max_in_flight + Math.ceil(d.max_in_flight * PREFETCH_SHARE) - (this.inFlight.size - this.waitingForPace());
    if (want <= 0) return this.claimAlarm.set(null); // completions will pump
    this.claiming = (async () => {
      let rows: ClaimedPostback[];
      let now = this.deps.clock.now();
      try {
        rows = await this.deps.commits.run(() => {
          now = this.deps.clock.now();
          const queued = this.queuedPerHost();
          const allowance = (host: string) => this.claimAllowance(host, d.per_host_in_flight, now, queued);
          return this.deps.outbox.claimDue(now, want, d.lease_ms, this.blockedHosts(now, d.per_host_in_flight, queued), allowance, (id) => this.inFlight.has(id));
        });
      } catch (err) {
        // Storage trouble (locked, disk full): nothing is lost; try again shortly.
        this.deps.log.error({ code: (err as { code?: string }).code, message: (err as Error).message }, "claiming postbacks failed; retrying");
        if (this.running) this.claimAlarm.set(this.deps.clock.now() + IDLE_RECHECK_MS);
        return;
      }
      if (!this.running) return this.releaseQuietly(rows); // stopped while the claim was committing
      for (const row of rows) this.enqueue(row, now);
      this.startQueued();
      if (rows.length === want) this.pumpAgain = true; // there may be more: claim again at once
      else this.scheduleTimer(now, d.per_host_in_flight, rows.length > 0);
      if (this.inFlight.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    })().finally(() => {
      this.claiming = null;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    });
  }

  /** How many requests a host may have in flight now: 0 while it is paused (flood wait) or its circuit is open. */
  private hostSlots(host: string, perHostInFlight: number, now: number): number {
    const pacing = this.deps.pacing?.forHost(host);
    if (pacing?.pacer.pausedUntil(now)) return 0;
    return this.circuits.allowance(host, pacing?.inFlight ?? perHostInFlight, now);
  }

  /**
   * How many more rows of a host a claim may take: its free slots, plus a prefetch while its
   * circuit is closed. A paced host holds no more than one second of its sends: rows waiting for
   * their pace would otherwise take the claims that tracker postbacks need.
   */
  private claimAllowance(host: string, perHostInFlight: number, now: number, queued: Map<string, number>): number {
    const pacing = this.deps.pacing?.forHost(host);
    const cap = pacing?.inFlight ?? perHostInFlight;
    const slots = this.hostSlots(host, perHostInFlight, now);
    let limit = slots === cap ? slots + Math.ceil(cap * PREFETCH_SHARE) : slots;
    if (pacing) limit = Math.min(limit, Math.ceil(pacing.pacer.limits.perSecond));
    return limit - (this.perHost.get(host) ?? 0) - (queued.get(host) ?? 0);
  }

  /** Queued rows of paced hosts. */
  private waitingForPace(): number {
    if (!this.deps.pacing) return 0;
    let n = 0;
    for (const [host, count] of this.queuedPerHost()) if (this.deps.pacing.forHost(host)) n += count;
    return n;
  }

  private queuedPerHost(): Map<string, number> {
    const n = new Map<string, number>();
    for (const e of this.queued) n.set(e.row.host, (n.get(e.row.host) ?? 0) + 1);
    return n;
  }

  private blockedHosts(now: number, cap: number, queued = this.queuedPerHost()): string[] {
    const hosts = new Set([...this.perHost.keys(), ...queued.keys()]);
    const full = [...hosts].filter((h) => this.claimAllowance(h, cap, now, queued) <= 0);
    const paused = this.deps.pacing?.pausedHosts(now).map((p) => p.host) ?? [];
    return [...new Set([...full, ...this.circuits.openHosts(now), ...paused])];
  }

  private scheduleTimer(now: number, cap: number, progressed: boolean) {
    if (this.inFlightCount >= this.deps.config().delivery.max_in_flight) return this.claimAlarm.set(null); // completions will pump
    const wakes = [this.deps.outbox.nextDueAt(this.blockedHosts(now, cap)), this.circuits.nextProbeAt(now)];
    for (const p of this.deps.pacing?.pausedHosts(now) ?? []) wakes.push(p.until);
    let at = earliestOf(wakes);
    // A row reported due that this round could not claim must not turn the timer into a busy loop.
    if (at !== null && at <= now && !progressed) at = now + IDLE_RECHECK_MS;
    this.claimAlarm.set(at);
  }

  private enqueue(row: ClaimedPostback, claimedAt: number) {
    const entry: InFlight = { row, abort: new AbortController(), shuttingDown: false, done: Promise.resolve(), claimedAt };
    this.inFlight.set(row.id, entry);
    this.queued.push(entry);
  }

  /**
   * Starts queued rows, oldest claim first, as far as the global and per-host caps and the hosts'
   * pacing allow; a row waiting for its pace keeps its place and a timer wakes it.
   */
  private startQueued() {
    if (this.queued.length === 0) return;
    const d = this.deps.config().delivery;
    const now = this.deps.clock.now();
    let started = this.inFlightCount;
    const back: InFlight[] = [];
    let paceAt: number | null = null;
    this.queued = this.queued.filter((e) => {
      const slots = this.hostSlots(e.row.host, d.per_host_in_flight, now);
      // Back to the database, unattempted: its host is paused, or its lease could end mid-request.
      if (slots === 0 || now > e.claimedAt + d.lease_ms - d.timeout_ms) return !back.push(e);
      if (started >= d.max_in_flight || (this.perHost.get(e.row.host) ?? 0) >= slots) return true;
      const pacing = this.deps.pacing?.forHost(e.row.host);
      if (pacing) {
        const chat = pacing.chatOf(e.row);
        const at = pacing.pacer.earliest(chat, now);
        if (at > now) {
          paceAt = paceAt === null ? at : Math.min(paceAt, at);
          return true;
        }
        pacing.pacer.take(chat, now);
      }
      started++;
      this.launch(e);
      return false;
    });
    if (back.length) this.giveBack(back, now);
    this.paceAlarm.set(paceAt);
  }

  /** Releases queued rows through the group commit (no fsync on the event loop); if that fails, their leases expire. */
  private giveBack(entries: InFlight[], now: number) {
    for (const e of entries) this.inFlight.delete(e.row.id);
    const rows = entries.map((e) => e.row);
    this.deps.commits.run(() => this.deps.outbox.releaseInTransaction(rows, now)).then(
      () => this.deps.log.info({ released: rows.length }, "queued postbacks given back"),
      (err) => this.deps.log.error({ code: (err as { code?: string }).code, message: (err as Error).message }, "giving queued postbacks back failed; their leases will expire"),
    );
  }

  private launch(entry: InFlight) {
    const { row } = entry;
    this.perHost.set(row.host, (this.perHost.get(row.host) ?? 0) + 1);
    entry.done = this.deliver(entry).catch((err) => this.deps.log.error({ err, postback: row.id }, "delivery crashed"))
      .finally(() => {
        this.inFlight.delete(row.id);
        const n = (this.perHost.get(row.host) ?? 1) - 1;
        if (n > 0) this.perHost.set(row.host, n);
        else this.perHost.delete(row.host);
        this.wake();
      });
  }

  private async deliver(entry: InFlight) {
    const { row } = entry;
    const { clock, config, outbox, log, metrics } = this.deps;
    const d = config().delivery;
    const startedAt = clock.now();
    const t0 = performance.now();
    const send = (row.channel === "http" ? this.sendHttp : this.deps.senders?.[row.channel]) ?? this.noSender;
    const { report, verdict } = await send(row, entry.abort);
    if (entry.shuttingDown) return; // released by stop(); this attempt does not count
    const durationMs = Math.round(performance.now() - t0);
    const now = clock.now();
    const completion = this.completionFor(row, verdict);
    const result = report.result;
    const attempt = {
      postbackId: row.id, attempt: row.attempts, startedAt, durationMs, url: report.url,
      httpStatus: result.kind === "response" ? result.status : null,
      outcome: verdict.outcome,
      error: verdict.outcome === "delivered" ? null : verdict.reason,
      responseHead: report.responseHead,
    };
    const pauseMs = verdict.outcome === "retry" ? verdict.pauseHostMs : undefined;
    // Paused before the outcome is saved, so no row of the host starts in the meantime.
    if (pauseMs !== undefined) this.pauseHost(row.host, now + pauseMs, verdict);
    const kept = await this.saveOutcome(() => outbox.completeAttempt(row, attempt, completion, now), entry);
    if (kept === undefined) return; // shut down before the outcome could be saved; the lease expires
    // A flood wait is the peer's pace, not the host failing: it never counts toward the circuit.
    if (verdict.outcome !== "retry") this.circuits.recordSuccess(row.host);
    else if (pauseMs === undefined && this.circuits.recordFailure(row.host, now)) log.warn({ host: row.host }, "circuit opened: host paused");
    metrics.recordAttempt(verdict.outcome, completion.state, row.host, verdict.outcome === "delivered" ? null : verdict.reason);
    if (++this.attemptsSinceGc >= GC_EVERY_ATTEMPTS) {
      this.attemptsSinceGc = 0;
      Bun.gc(true);
    }
    if (!kept) log.warn({ postback: row.id }, "lease lost before completion; outcome not applied");
    else if (completion.state === "failed" || completion.state === "rejected") this.warnFinished(row, completion.state, completion.reason, attempt.httpStatus);
    else log.debug({ postback: row.id, attempt: row.attempts, state: completion.state, reason: completion.reason }, "postback attempt");
  }

  /** One warn line for a row that ends failed or rejected: what a buyer needs to find it, never its URL. */
  private warnFinished(row: ClaimedPostback, state: "failed" | "rejected", reason: string | null, httpStatus: number | null) {
    const about = this.deps.outbox.about(row.id);
    this.deps.log.warn({
      postback: row.id, campaign: about?.campaign ?? null, host: row.host, status: about?.status ?? null,
      state, http_status: httpStatus, reason: reason === null ? null : stripUrls(reason),
    }, `postback ${state}`);
  }

  private readonly noSender: ChannelSender = async (row) => {
    const message = `no sender for channel ${row.channel}`;
    return { report: { result: { kind: "error", error: "malformed_url", message }, url: row.url, responseHead: null }, verdict: { outcome: "rejected", reason: message } };
  };

  private readonly sendHttp: ChannelSender = async (row, abort) => {
    const d = this.deps.config().delivery;
    const report = await sendPostback(row, { timeoutMs: d.timeout_ms, maxRedirects: d.max_redirects, guard: this.guard, abort, now: this.deps.clock.now });
    return { report, verdict: classifyAttempt(report.result, verdictByName(row.verdict)) };
  };

  /**
   * Saves an attempt's outcome; while storage is unavailable (locked, disk full) it keeps the
   * outcome and tries again — the row stays in flight here, so it is not sent a second time.
   */
  private async saveOutcome(save: () => boolean, entry: InFlight): Promise<boolean | undefined> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      try {
        // Settled at the commit: the slot can go to the next row while the WAL is synced (the claim
        // that takes the slot waits for its own sync, which covers this outcome).
        return await this.deps.commits.run(save, { beforeSync: true });
      } catch (err) {
        if (!isStorageUnavailable(err)) throw err;
        if (!this.running || entry.shuttingDown) return undefined;
        this.deps.log.warn({ postback: entry.row.id, code: (err as { code?: string }).code }, "saving a delivery outcome failed; keeping it and retrying");
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private pauseHost(host: string, until: number, verdict: Classification) {
    const pacing = this.deps.pacing?.forHost(host);
    if (!pacing) return;
    pacing.pacer.pause(until);
    this.deps.log.warn({ host, until: new Date(until).toISOString(), reason: verdict.outcome === "retry" ? verdict.reason : null }, "flood wait: nothing is sent to this host until the pause ends");
  }

  private completionFor(row: ClaimedPostback, verdict: Classification): Completion {
    if (verdict.outcome === "delivered") return { state: "delivered", reason: null };
    if (verdict.outcome === "rejected") return { state: "rejected", reason: verdict.reason };
    // A flood wait: the row keeps its place in line; the host's pause holds it until the wait is over.
    if (verdict.pauseHostMs !== undefined) return { state: "pending", reason: verdict.reason, nextAttemptAt: row.dueAt, uncounted: true };
    const d = this.deps.config().delivery;
    const delay = nextRetryDelay({
      attempts: row.attempts, ladderMs: d.retry_ladder_ms, jitter: d.jitter, random: (this.deps.random ?? Math.random)(),
      retryAfterMs: verdict.retryAfterMs, minDelayMs: verdict.minDelayMs,
    });
    if (delay === null) return { state: "failed", reason: `gave up after ${row.attempts} attempts; last: ${verdict.reason}` };
    return { state: "pending", reason: verdict.reason, nextAttemptAt: this.deps.clock.now() + delay };
  }

  /** Resolves when nothing is in flight (tests and shutdown). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops claiming, lets in-flight requests finish for up to `graceMs`, then aborts the rest
   * and gives their rows back so the next start sends them at once.
   */
  async stop(graceMs = this.deps.config().delivery.shutdown_grace_ms) {
    this.running = false;
    this.claimAlarm.set(null);
    this.paceAlarm.set(null);
    await this.claiming; // its rows are given back, not launched
    const queued = this.queued.splice(0); // never sent: given back at once
    for (const e of queued) this.inFlight.delete(e.row.id);
    this.releaseQuietly(queued.map((e) => e.row));
    const pending = [...this.inFlight.values()];
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      Promise.all(pending.map((p) => p.done)).then(() => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); }),
    ]);
    clearTimeout(timer);
    if (finished) return;
    const left = [...this.inFlight.values()];
    for (const e of left) {
      e.shuttingDown = true;
      e.abort.abort();
    }
    this.releaseQuietly(left.map((e) => e.row));
    await Promise.all(left.map((e) => e.done));
  }

  /** Gives rows back at shutdown so the next start sends them at once. */
  private releaseQuietly(rows: ClaimedPostback[]) {
    if (rows.length === 0) return;
    try {
      this.deps.outbox.release(rows, this.deps.clock.now());
      this.deps.log.info({ released: rows.length }, "shutdown: unfinished postbacks released");
    } catch (err) {
      // Storage unavailable at shutdown: nothing is lost, the leases simply expire.
      this.deps.log.error({ code: (err as { code?: string }).code, message: (err as Error).message }, "shutdown: releasing leases failed; they will expire");
    }
  }
}

/** The earliest of some moments, ignoring the absent ones. */
function earliestOf(moments: (number | null)[]): number | null {
  let at: number | null = null;
  for (const m of moments) if (m !== null && (at === null || m < at)) at = m;
  return at;
}
