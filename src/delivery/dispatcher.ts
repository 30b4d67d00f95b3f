import type { Config } from "../config/model.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { classifyAttempt } from "../domain/verdict.ts";
import { Alarm, type Clock } from "../lib/clock.ts";
import { isStorageUnavailable } from "../lib/errors.ts";
import { stripUrls, type Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ChannelAttempt, ChannelSender } from "./channel.ts";
import { decideCompletion } from "./completion.ts";
import { HostSlots, PREFETCH_SHARE, type Pacing } from "./host-slots.ts";
import type { ClaimedPostback, OutboxRepository } from "../outbox/claims.ts";

export interface DispatcherDeps {
  outbox: OutboxRepository;
  /** Claims and outcomes share transactions with each other and with the intake (one fsync for many). */
  commits: GroupCommit;
  config: () => Config;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  random?: () => number;
  /** How each channel sends a row, by the row's `channel` (http: tracker postbacks; telegram: Bot API calls). */
  channels: Record<string, ChannelSender>;
  /** Hosts sent to at a limited rate (Telegram bots); tracker hosts are never paced. */
  pacing?: Pacing;
}

const IDLE_RECHECK_MS = 1000;

/**
 * During sustained delivery a full garbage collection runs every this many attempts. JSC's own
 * heuristics let the garbage of fetch (responses, buffers) grow the process by 40-100 MB before
 * collecting; a collection of this small heap takes a few ms, under 2 % of the time at 15k
 * attempts/s, and keeps the peak RSS near the live size — what counts on a small VPS.
 */
const GC_EVERY_ATTEMPTS = 10_000;

/** A storage failure while saving an outcome is retried after 200 ms, doubling up to this. */
const MAX_SAVE_RETRY_MS = 5000;

interface InFlight {
  row: ClaimedPostback;
  abort: AbortController;
  done: Promise<void>;
  shuttingDown: boolean;
  /** When its claim (and lease) began, clock ms. */
  claimedAt: number;
}

/**
 * A sender that threw instead of answering (a bug, not the peer): a counted retry on the ladder,
 * with its attempt logged, so the row ends failed at worst. Left leased, it was sent again each
 * time its lease ran out, for ever.
 */
function crashed(row: ClaimedPostback, err: unknown): ChannelAttempt {
  const result = { kind: "error", error: "internal", message: err instanceof Error ? err.message : String(err) } as const;
  return { report: { result, url: row.url, responseHead: null }, verdict: classifyAttempt(result) };
}

const noChannel: ChannelSender = async (row) => {
  const message = `no sender for channel ${row.channel}`;
  return { report: { result: { kind: "error", error: "malformed_url", message }, url: row.url, responseHead: null }, verdict: { outcome: "rejected", reason: message } };
};

/**
 * Drains the outbox: claims due rows under a lease, starts them as their hosts allow
 * (HostSlots), sends each through its channel, and saves the outcome decided by
 * decideCompletion. Woken at once by new commits (wake) and by the clock for the next due row, a
 * circuit's probe, the end of a flood wait or a row's pace; never holds a DB lock across a
 * network call.
 */
export class Dispatcher {
  /** Every row this process holds a lease on: sending, saving its outcome, or queued. */
  private readonly inFlight = new Map<number, InFlight>();
  /**
   * Claimed rows waiting to start, in claim order: waiting for a slot (up to PREFETCH_SHARE more
   * than the caps, so a slot freed by an answer is refilled at once, not after a claim round) or
   * for their host's pace. They are given back at shutdown, when their host is paused, and when
   * one has waited so long that its lease could end mid-request.
   */
  private queued: InFlight[] = [];
  /**
   * Requests started to hosts without pacing (trackers): what delivery.max_in_flight counts. A
   * paced host (a bot) has its own cap and pace, so its sends never take the trackers' slots.
   */
  private unpacedStarted = 0;
  private readonly hosts: HostSlots;
  /** The next claim round: a row falls due, a paused host reopens, a storage retry. */
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
    this.hosts = new HostSlots(deps.pacing, this.breaker());
  }

  private breaker() {
    const d = this.deps.config().delivery;
    return { failures: d.circuit_failures, cooldownMs: d.circuit_cooldown_ms };
  }

  start() {
    this.running = true;
    this.wake();
  }

  /** Picks up a new config (caps, breaker settings) after a reload. */
  reconfigure() {
    this.hosts.reconfigure(this.breaker());
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
    const queued = this.queuedPerHost();
    // Rows of paced hosts (at most a second of sends each, their own caps) are outside the claim
    // budget: however many a bot has started or waiting, tracker postbacks are claimed as before.
    let unpacedQueued = 0;
    for (const [host, n] of queued) if (!this.hosts.isPaced(host)) unpacedQueued += n;
    const want = d.max_in_flight + Math.ceil(d.max_in_flight * PREFETCH_SHARE) - (this.unpacedStarted + unpacedQueued);
    if (want <= 0) return this.claimAlarm.set(null); // completions will pump
    this.claiming = (async () => {
      let rows: ClaimedPostback[];
      let now = this.deps.clock.now();
      try {
        rows = await this.deps.commits.run(() => {
          now = this.deps.clock.now();
          const queued = this.queuedPerHost();
          const allowance = (host: string) => this.hosts.claimAllowance(host, d.per_host_in_flight, now, queued.get(host) ?? 0);
          return this.deps.outbox.claimDue(now, want, d.lease_ms, this.hosts.blocked(now, d.per_host_in_flight, queued), allowance, (id) => this.inFlight.has(id));
        });
      } catch (err) {
        // Storage trouble (locked, disk full): nothing is lost; try again shortly.
        this.deps.log.error({ err }, "claiming postbacks failed; retrying");
        if (this.running) this.claimAlarm.set(this.deps.clock.now() + IDLE_RECHECK_MS);
        return;
      }
      if (!this.running) return this.releaseQuietly(rows); // stopped while the claim was committing
      for (const row of rows) this.enqueue(row, now);
      this.startQueued();
      if (rows.length === want) this.pumpAgain = true; // there may be more: claim again at once
      else this.scheduleClaim(now, rows.length > 0);
      if (this.inFlight.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    })().finally(() => {
      this.claiming = null;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    });
  }

  private queuedPerHost(): Map<string, number> {
    const n = new Map<string, number>();
    for (const e of this.queued) n.set(e.row.host, (n.get(e.row.host) ?? 0) + 1);
    return n;
  }

  /** Sets the claim alarm for the next moment something may be claimed: a due row, or a host that reopens. */
  private scheduleClaim(now: number, progressed: boolean) {
    const d = this.deps.config().delivery;
    if (this.unpacedStarted >= d.max_in_flight) return this.claimAlarm.set(null); // completions will pump
    const moments = [...this.hosts.reopenings(now)];
    const due = this.deps.outbox.nextDueAt(this.hosts.blocked(now, d.per_host_in_flight, this.queuedPerHost()));
    if (due !== null) moments.push(due);
    let at = moments.length ? Math.min(...moments) : null;
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
   * pacing allow; a row waiting for its pace keeps its place and the pace alarm wakes it.
   */
  private startQueued() {
    if (this.queued.length === 0) return;
    const d = this.deps.config().delivery;
    const now = this.deps.clock.now();
    let started = this.unpacedStarted;
    const back: InFlight[] = [];
    let paceAt: number | null = null;
    this.queued = this.queued.filter((e) => {
      const slots = this.hosts.slots(e.row.host, d.per_host_in_flight, now);
      // Back to the database, unattempted: its host is paused, or its lease could end mid-request.
      if (slots === 0 || now > e.claimedAt + d.lease_ms - d.timeout_ms) return !back.push(e);
      const paced = this.hosts.isPaced(e.row.host);
      if ((!paced && started >= d.max_in_flight) || this.hosts.inFlight(e.row.host) >= slots) return true;
      const wait = this.hosts.paceWait(e.row, now);
      if (wait > 0) {
        paceAt = paceAt === null ? wait : Math.min(paceAt, wait);
        return true;
      }
      if (!paced) started++;
      this.launch(e, !paced);
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
      (err) => this.deps.log.error({ err }, "giving queued postbacks back failed; their leases will expire"),
    );
  }

  /** Starts a row's delivery; `counted`: it takes one of delivery.max_in_flight (its host is not paced). */
  private launch(entry: InFlight, counted: boolean) {
    const { row } = entry;
    if (counted) this.unpacedStarted++;
    this.hosts.started(row.host);
    entry.done = this.deliver(entry).catch((err) => this.deps.log.error({ err, postback: row.id }, "delivery crashed"))
      .finally(() => {
        this.inFlight.delete(row.id);
        if (counted) this.unpacedStarted--;
        this.hosts.finished(row.host);
        this.wake();
      });
  }

  private async deliver(entry: InFlight) {
    const { row } = entry;
    const { clock, config, outbox, log, metrics } = this.deps;
    const d = config().delivery;
    const startedAt = clock.now();
    const t0 = performance.now();
    const { report, verdict } = await (this.deps.channels[row.channel] ?? noChannel)(row, entry.abort).catch((err: unknown) => {
      if (!entry.shuttingDown) log.error({ err, postback: row.id }, "sending a postback threw; counted as a failed attempt");
      return crashed(row, err);
    });
    if (entry.shuttingDown) return; // released by stop(); this attempt does not count
    const durationMs = performance.now() - t0;
    const now = clock.now();
    const completion = decideCompletion(row, verdict, { ladderMs: d.retry_ladder_ms, jitter: d.jitter }, (this.deps.random ?? Math.random)(), now);
    const result = report.result;
    const attempt = {
      postbackId: row.id, attempt: row.attempts, startedAt, durationMs: Math.round(durationMs), url: report.url,
      httpStatus: result.kind === "response" ? result.status : null,
      outcome: verdict.outcome,
      error: verdict.outcome === "delivered" ? null : verdict.reason,
      responseHead: report.responseHead,
    };
    // Before the outcome is saved: a flood wait pauses the host at once, so none of its rows starts meanwhile.
    const { circuitOpened, pausedUntil } = this.hosts.recordVerdict(row.host, verdict, now);
    if (circuitOpened) log.warn({ host: row.host }, "circuit opened: host paused");
    if (pausedUntil !== null) log.warn({ host: row.host, until: new Date(pausedUntil).toISOString(), reason: completion.reason }, "flood wait: nothing is sent to this host until the pause ends");
    const kept = await this.saveOutcome(() => outbox.completeAttempt(row, attempt, completion, now), entry);
    if (kept === undefined) return; // shut down before the outcome could be saved; the lease expires
    metrics.recordAttempt(verdict.outcome, completion.state, row.host, verdict.outcome === "delivered" ? null : verdict.reason, durationMs / 1000);
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

  /**
   * Saves an attempt's outcome; while storage is unavailable (locked, disk full) it keeps the
   * outcome and tries again — the row stays in flight here, so it is not sent a second time.
   */
  private async saveOutcome(save: () => boolean, entry: InFlight): Promise<boolean | undefined> {
    for (let wait = 200; ; wait = Math.min(wait * 2, MAX_SAVE_RETRY_MS)) {
      try {
        // Settled at the commit: the slot can go to the next row while the WAL is synced (the claim
        // that takes the slot waits for its own sync, which covers this outcome).
        return await this.deps.commits.run(save, { beforeSync: true });
      } catch (err) {
        if (!isStorageUnavailable(err)) throw err;
        if (!this.running || entry.shuttingDown) return undefined;
        this.deps.log.warn({ postback: entry.row.id, code: (err as { code?: string }).code }, "saving a delivery outcome failed; keeping it and retrying");
        await new Promise<void>((resolve) => this.deps.clock.setTimer(resolve, wait));
      }
    }
  }

  /** Resolves when nothing is in flight (tests and shutdown). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops claiming, lets in-flight requests finish for up to `graceMs`, then aborts the rest
   * and gives their rows back so the next start sends them at once. The grace is wall time (a
   * real timer, not the injected clock): it bounds how long the process takes to exit, and must
   * end even where the clock is a test's, standing still.
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
      this.deps.log.error({ err }, "shutdown: releasing leases failed; they will expire");
    }
  }
}
