// The storage port's part for several instances on one database (PostgreSQL): the instances
// themselves with their heartbeats, one owner per bot (a lease), and the circuits a tracker host
// has open. On SQLite one process holds the database (its instance lock), owns every bot and keeps
// its circuits in memory: the SQLite engine stores these tables too, but the service does not use them.
import type { Awaitable } from "./port.ts";

/** A running tgcpa on the database, as its last heartbeat told. Times are epoch ms. */
export interface InstanceRow {
  /** Chosen at start: hostname, pid and a random part. */
  id: string;
  version: string;
  commit: string | null;
  /** SHA-256 (first 16 hex digits) of the config file it runs on. */
  configHash: string;
  hostname: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
}

export interface InstanceReads {
  /** Every instance, the first started first. */
  list(): Awaitable<InstanceRow[]>;
  /**
   * The database's own clock, epoch ms: heartbeats and bot leases are in its time, so instances
   * whose clocks disagree still agree on when a lease ends.
   */
  databaseNow(): Awaitable<number>;
}

export interface InstanceWrites {
  /** Records the instance (and its config hash) as alive at `row.heartbeatAt`. */
  heartbeat(row: InstanceRow): Awaitable<void>;
  /** A clean stop: the instance is gone. */
  remove(id: string): Awaitable<void>;
  /** Instances whose last heartbeat is before `before` (killed, or cut off); how many went. */
  pruneSilent(before: number): Awaitable<number>;
}

/** Which instance may poll a bot, set its webhook and send its Telegram rows, until when. */
export interface BotLeaseRow {
  bot: string;
  /** The owner's instance id. */
  owner: string;
  /** Counts the owners the bot has had: 1 for the first, one more at each takeover. */
  epoch: number;
  expiresAt: number;
  /** When this owner took the bot. */
  acquiredAt: number;
  updatedAt: number;
}

export interface BotLeaseReads {
  /** Every lease, by bot name. */
  all(): Awaitable<BotLeaseRow[]>;
}

export interface BotLeaseWrites {
  /**
   * Renews the leases `owner` holds on `bots` and takes those that are free (never leased, or
   * expired at `now`); a bot another owner holds is left to it. Answers the lease of each of
   * `bots` after that (a bot's own row, whoever holds it), by bot name.
   */
  claim(bots: readonly string[], owner: string, now: number, leaseMs: number): Awaitable<BotLeaseRow[]>;
  /** A clean stop: `owner`'s leases end now, so another instance takes the bots at once. */
  release(owner: string, now: number): Awaitable<void>;
}

/** A tracker host whose circuit an instance opened: every instance pauses it until `openUntil`. */
export interface CircuitRow {
  host: string;
  openUntil: number;
  /** Failures in a row that opened it. */
  failures: number;
  openedBy: string;
  updatedAt: number;
}

export interface CircuitReads {
  /** Circuits still open at `now`, by host. */
  openAt(now: number): Awaitable<CircuitRow[]>;
}

export interface CircuitWrites {
  /** Opens (or keeps open) a host's circuit; a later `openUntil` wins over an earlier one. */
  open(row: CircuitRow): Awaitable<void>;
  /** A probe went through: the host's circuit is closed for everyone. */
  close(host: string): Awaitable<void>;
  /** Circuits that closed by themselves before `before`; how many went. */
  pruneClosed(before: number): Awaitable<number>;
}
