import type { Config } from "../config/model.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";
import type { Storage } from "../storage/port.ts";
import { Admission } from "./admission.ts";
import { AttemptRunner } from "./attempt-runner.ts";
import { NO_BATCHING, type Batching } from "./batching.ts";
import type { ChannelSender } from "./channel.ts";
import { ClaimRounds } from "./claim-rounds.ts";
import type { HostState } from "./host-health.ts";
import { HostSlots, type Pacing, type SharedHosts } from "./host-slots.ts";

export interface DispatcherDeps {
  /** Claims and outcomes are writes like any other (on SQLite they share the intake's group commits and fsyncs). */
  storage: Pick<Storage, "read" | "write">;
  config: () => Config;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  random?: () => number;
  /** How each channel sends a row, by the row's `channel` (http: tracker postbacks; telegram: Bot API calls). */
  channels: Record<string, ChannelSender>;
  /** Hosts sent to at a limited rate (Telegram bots); tracker hosts are never paced. */
  pacing?: Pacing;
  /** Which rows may share a request (ad platforms, adplatforms/batch.ts); by default every row goes alone. */
  batching?: Batching;
  /** Other instances on the database: the hosts they send to, and the circuits they share (PostgreSQL). */
  shared?: SharedHosts;
}

/**
 * Drains the outbox: claim rounds lease due rows (ClaimRounds), the admission queue starts them
 * as their hosts allow (Admission, HostSlots), and each attempt is sent and its outcome saved
 * (AttemptRunner, decideCompletion). Woken at once by new commits (wake) and by the clock for
 * the next due row, a circuit's probe, the end of a flood wait or a row's pace; never holds a
 * database lock across a network call.
 */
export class Dispatcher {
  private readonly hosts: HostSlots;
  private readonly admission: Admission;
  private readonly rounds: ClaimRounds;
  private pumpQueued = false;
  private running = false;

  constructor(private readonly deps: DispatcherDeps) {
    const delivery = () => deps.config().delivery;
    const batching = deps.batching ?? NO_BATCHING;
    const solo = new Set<number>(); // rows whose batch was refused as a whole: each goes alone next
    this.hosts = new HostSlots(deps.pacing, this.breaker(), (host) => batching.hostLimit(host), deps.shared);
    const runner = new AttemptRunner({ ...deps, delivery, hosts: this.hosts, running: () => this.running, batching, solo });
    this.admission = new Admission({
      delivery, clock: deps.clock, hosts: this.hosts, batching, solo,
      run: (entries) => runner.run(entries).catch((err) => deps.log.error({ err, postback: entries[0]!.row.id }, "delivery crashed")),
      giveBack: (rows, now) => void this.giveBack(rows, now, "queued postbacks given back"),
      finished: () => this.wake(),
    });
    this.rounds = new ClaimRounds({
      ...deps, delivery, hosts: this.hosts, admission: this.admission, running: () => this.running,
      giveBack: (rows) => this.giveBack(rows, deps.clock.now(), "stopped while claiming: postbacks given back"),
    }, () => this.wake());
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

  /** Circuits open on the database (other instances'): their hosts pause here too. */
  circuitsOpen(open: readonly { host: string; openUntil: number }[]) {
    if (this.hosts.mergeShared(open, this.deps.clock.now())) this.wake();
  }

  /** Ask for a claim round soon; many wakes in one tick collapse into one round. */
  wake() {
    if (!this.running || this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      if (!this.running) return;
      this.admission.startQueued();
      this.rounds.round();
    });
  }

  /** Each host's circuit, run of failures and flood wait, read only (GET /api/hosts, the alerts). */
  hostStates(now: number): HostState[] {
    return this.hosts.states(now);
  }

  /** Requests started and not finished (queued rows not counted). */
  get inFlightCount() {
    return this.admission.started;
  }

  /** Resolves when nothing is in flight (tests and shutdown). */
  idle(): Promise<void> {
    return this.admission.idle();
  }

  /**
   * Stops claiming, lets in-flight requests finish for up to `graceMs`, then aborts the rest
   * and gives their rows back so the next start sends them at once. The grace is wall time (a
   * real timer, not the injected clock): it bounds how long the process takes to exit, and must
   * end even where the clock is a test's, standing still.
   */
  async stop(graceMs = this.deps.config().delivery.shutdown_grace_ms) {
    this.running = false;
    await this.rounds.stop(); // its rows are given back, not launched
    await this.giveBack(this.admission.takeQueued(), this.deps.clock.now(), "shutdown: unfinished postbacks released"); // never sent
    const pending = [...this.admission.held.values()];
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      Promise.all(pending.map((p) => p.done)).then(() => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); }),
    ]);
    clearTimeout(timer);
    if (finished) return;
    const left = [...this.admission.held.values()];
    for (const e of left) {
      e.shuttingDown = true;
      e.abort.abort();
    }
    await this.giveBack(left.map((e) => e.row), this.deps.clock.now(), "shutdown: unfinished postbacks released");
    await Promise.all(left.map((e) => e.done));
  }

  /** Gives rows back through a write (no fsync on the event loop); if that fails, their leases simply expire. */
  private async giveBack(rows: ClaimedPostback[], now: number, what: string) {
    if (rows.length === 0) return;
    try {
      await this.deps.storage.write(async (tx) => tx.outbox.release(rows, now));
      this.deps.log.info({ released: rows.length }, what);
      // Claimable again only from this commit on: an engine that runs writes side by side
      // (PostgreSQL) may have run the claim round that followed the give-back before it.
      this.wake();
    } catch (err) {
      // Storage unavailable: nothing is lost, the leases simply expire.
      this.deps.log.error({ err }, `${what}: failed; their leases will expire`);
    }
  }
}
