// Several instances on one PostgreSQL database. Every HEARTBEAT_MS each instance, in one write,
// tells it is alive (instances: version, config hash, heartbeat), renews the bot leases it holds
// and takes the free ones (bot_leases), and reads every lease and the circuits open (circuits).
// Between instances, one LISTEN channel carries three signals: new rows to send (coalesced to one
// per WAKE_EVERY_MS), a config reload, a circuit opened or closed.
//
// Heartbeats and leases are in the database's time (one clock for every instance, whatever theirs
// say), and an owner measures how long its lease has left on its own monotonic clock from the
// moment it asked for it. Their timers are wall time, like a network timeout: they pace talk with
// other processes, not the service's own schedule (the injected clock, which tests move by hand).
// Circuits stay in the injected clock, as the dispatcher that opens and reads them.
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { BotLeaseRow } from "../storage/port-cluster.ts";
import type { PostgresStorage } from "../storage/postgres/store.ts";
import { telegramHost } from "../telegram/pacing.ts";
import { instanceRow, instanceView, newInstanceId, type BotOwner, type Cluster, type ClusterEvents, type InstanceView } from "./cluster.ts";
import {
  BOT_LEASE_MS, CLUSTER_CHANNEL, decodeSignal, encodeSignal, FORGET_AFTER_MS, HEARTBEAT_MS, nextNotifyAt, OWNERSHIP_MARGIN_MS, ownedBots,
  type ClusterSignal,
} from "./rules.ts";

export interface PgClusterDeps {
  storage: Pick<PostgresStorage, "write" | "read" | "notify" | "listen">;
  clock: Clock;
  log: Logger;
  /** The bots of the running config. */
  bots: () => readonly string[];
  /** The hash of the config file this instance runs on. */
  configHash: () => string;
  /** Fixed in tests; a new one per process otherwise. */
  instanceId?: string;
}

const TELEGRAM = "telegram:";

export class PgCluster implements Cluster {
  readonly instanceId: string;
  readonly shared = true;
  /** The database's time at the first heartbeat. */
  private startedAt: number | null = null;
  private events: ClusterEvents | null = null;
  /** Every bot's lease as the last heartbeat read it. */
  private leases = new Map<string, BotLeaseRow>();
  private owned = new Set<string>();
  /** Until when (performance.now() ms) this instance may act on each lease it holds. */
  private actUntil = new Map<string, number>();
  private tickTimer: ReturnType<typeof setTimeout> | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private lastWakeAt = Number.NEGATIVE_INFINITY;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private failing = false;

  constructor(private readonly deps: PgClusterDeps) {
    this.instanceId = deps.instanceId ?? newInstanceId();
  }

  /** Listens, then takes its first heartbeat (and the bots it can) before the service starts its bots. */
  async start(events: ClusterEvents) {
    this.events = events;
    await this.deps.storage.listen(CLUSTER_CHANNEL, (payload) => this.heard(payload), () => {
      // (Re)subscribed, e.g. after the listening connection was lost: signals sent meanwhile are
      // gone, so look again at once at what they would have said.
      if (this.events) void this.refreshCircuits();
      this.events?.wake();
    });
    await this.tick();
    this.schedule();
  }

  async stop() {
    this.stopped = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.ticking;
    this.events = null; // signals heard from now on are dropped; the listener ends with the pool (storage.close)
    // A clean stop hands the bots over at once instead of after their lease.
    await this.deps.storage.write(async (tx) => {
      await tx.botLeases.release(this.instanceId, await tx.instances.databaseNow());
      await tx.instances.remove(this.instanceId);
    }).catch((err) => this.deps.log.warn({ err }, "could not release the bot leases at stop; they expire by themselves"));
    this.owned.clear();
  }

  ownsBot(name: string): boolean {
    return this.owned.has(name) && performance.now() < (this.actUntil.get(name) ?? 0);
  }

  botOwner(name: string): BotOwner | null {
    const l = this.leases.get(name);
    if (!l) return null;
    return { instance: l.owner, epoch: l.epoch, expires_at: new Date(l.expiresAt).toISOString(), self: l.owner === this.instanceId };
  }

  isForeignHost(host: string): boolean {
    if (!host.startsWith(TELEGRAM)) return false;
    const bot = host.slice(TELEGRAM.length);
    if (this.ownsBot(bot)) return false;
    // A bot this config has is sent by its owner only; a bot no instance holds a live lease on
    // (in no config any more) is claimed like any row, and refused by the channel as on SQLite.
    if (this.deps.bots().includes(bot)) return true;
    return this.leases.get(bot)?.owner !== this.instanceId && this.leaseLive(bot);
  }

  /** A lease another instance holds, not yet expired as far as this instance can tell (from its last read). */
  private leaseLive(bot: string): boolean {
    const lease = this.leases.get(bot);
    return lease !== undefined && performance.now() < this.readAt + (lease.expiresAt - this.readDbNow);
  }

  foreignHosts(): string[] {
    const bots = new Set([...this.deps.bots(), ...this.leases.keys()]);
    return [...bots].map(telegramHost).filter((h) => this.isForeignHost(h));
  }

  async instances(): Promise<InstanceView[]> {
    const [rows, now] = await Promise.all([this.deps.storage.read.instances.list(), this.deps.storage.read.instances.databaseNow()]);
    return rows.map((r) => instanceView(r, this.instanceId, now));
  }

  rowsCommitted() {
    if (this.wakeTimer || this.stopped) return; // a send is already due: it covers these rows too
    const now = performance.now();
    const at = nextNotifyAt(this.lastWakeAt, now);
    if (at === null) return this.sendWake(now);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.sendWake(performance.now());
    }, at - now);
  }

  reloaded() {
    this.signal({ kind: "reload", from: this.instanceId });
  }

  circuitOpened(host: string, openUntil: number, failures: number) {
    const now = this.deps.clock.now();
    void this.deps.storage.write(async (tx) => tx.circuits.open({ host, openUntil, failures, openedBy: this.instanceId, updatedAt: now }))
      .then(() => this.signal({ kind: "circuit", from: this.instanceId }), (err) => this.deps.log.warn({ err, host }, "could not share an open circuit"));
  }

  circuitClosed(host: string) {
    void this.deps.storage.write(async (tx) => tx.circuits.close(host))
      .then(() => this.signal({ kind: "circuit", from: this.instanceId }), (err) => this.deps.log.warn({ err, host }, "could not share a closed circuit"));
  }

  private schedule() {
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        this.schedule();
      });
    }, HEARTBEAT_MS);
  }

  /** The last heartbeat that read the leases: when it asked (performance.now() ms), and the database's time then. */
  private readAt = 0;
  private readDbNow = 0;

  /** The heartbeat: alive, leases renewed and taken, every lease and open circuit read; then ownership is decided. */
  private async tick() {
    const asked = performance.now(); // before the database read its clock: a lease is measured from no later than this
    try {
      const circuitsNow = this.deps.clock.now();
      const { leases, open, dbNow } = await this.deps.storage.write(async (tx) => {
        const dbNow = await tx.instances.databaseNow();
        this.startedAt ??= dbNow;
        await tx.instances.heartbeat(instanceRow(this.instanceId, this.startedAt, this.deps.configHash(), dbNow));
        await tx.botLeases.claim(this.deps.bots(), this.instanceId, dbNow, BOT_LEASE_MS);
        await tx.instances.pruneSilent(dbNow - FORGET_AFTER_MS);
        await tx.circuits.pruneClosed(circuitsNow - FORGET_AFTER_MS);
        return { leases: await tx.botLeases.all(), open: await tx.circuits.openAt(circuitsNow), dbNow };
      });
      this.leases = new Map(leases.map((l) => [l.bot, l]));
      this.readAt = asked;
      this.readDbNow = dbNow;
      this.actUntil = new Map(leases.filter((l) => l.owner === this.instanceId).map((l) => [l.bot, asked + (l.expiresAt - dbNow) - OWNERSHIP_MARGIN_MS]));
      this.events?.circuitsOpen(open);
      if (this.failing) this.deps.log.info("heartbeat written again");
      this.failing = false;
    } catch (err) {
      // Leases are not renewed: past their margin the bots are given up (below) for another instance to take.
      if (!this.failing) this.deps.log.warn({ err }, "heartbeat failed; bots are handed over if it keeps failing");
      this.failing = true;
    }
    this.decideOwnership();
  }

  private decideOwnership() {
    // In the database's time as of the last read, moved on by what this instance's clock measured since.
    const owned = ownedBots([...this.leases.values()], this.instanceId, this.readDbNow + (performance.now() - this.readAt));
    const changed = owned.size !== this.owned.size || [...owned].some((b) => !this.owned.has(b));
    if (!changed) return;
    const gained = [...owned].filter((b) => !this.owned.has(b));
    const lost = [...this.owned].filter((b) => !owned.has(b));
    this.owned = owned;
    this.deps.log.info({ gained, lost, instance: this.instanceId }, "bot ownership changed");
    this.events?.botsChanged();
  }

  private heard(payload: string) {
    const s = decodeSignal(payload);
    if (!s || s.from === this.instanceId || !this.events) return;
    if (s.kind === "wake") this.events.wake();
    else if (s.kind === "reload") this.events.reload();
    else void this.refreshCircuits();
  }

  private async refreshCircuits() {
    try {
      this.events?.circuitsOpen(await this.deps.storage.read.circuits.openAt(this.deps.clock.now()));
    } catch (err) {
      this.deps.log.debug({ err }, "reading the open circuits failed; the next heartbeat reads them");
    }
  }

  private sendWake(now: number) {
    this.lastWakeAt = now;
    this.signal({ kind: "wake", from: this.instanceId });
  }

  private signal(s: ClusterSignal) {
    // Sent after the commit it tells of; a lost one costs only latency (each instance also claims on its own timers).
    this.deps.storage.notify(CLUSTER_CHANNEL, encodeSignal(s)).catch((err) => this.deps.log.debug({ err }, "notify failed"));
  }
}
