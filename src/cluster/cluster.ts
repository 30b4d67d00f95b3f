// What the rest of the service asks about the other instances on its database: which bots this
// one owns, which hosts it must leave to others, who is running, and how to tell the others about
// new rows, a reload and a circuit. On SQLite there are no others (SoloCluster); on PostgreSQL
// PgCluster keeps the instances table, the bot leases and the shared circuits (pg-cluster.ts).
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Clock } from "../lib/clock.ts";
import { iso } from "../lib/json.ts";
import { VERSION, buildCommit } from "../lib/version.ts";
import type { InstanceRow } from "../storage/port-cluster.ts";
import { isAlive } from "./rules.ts";

/** A bot's owner as GET /api/bots shows it. */
export interface BotOwner {
  instance: string;
  epoch: number;
  expires_at: string | null;
  /** Whether this instance is the owner. */
  self: boolean;
}

/** One instance as GET /api/instances shows it. */
export interface InstanceView {
  id: string;
  version: string;
  commit: string | null;
  config_hash: string;
  hostname: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  alive: boolean;
  self: boolean;
}

/** What the cluster tells the service. */
export interface ClusterEvents {
  /** The bots this instance owns changed: start or stop their polling (or webhook) and claims. */
  botsChanged(): void;
  /** Another instance committed rows to send. */
  wake(): void;
  /** Another instance reloaded its config: reload this one's file. */
  reload(): void;
  /** Circuits other instances opened, each until `openUntil` (clock ms). */
  circuitsOpen(open: readonly { host: string; openUntil: number }[]): void;
}

export interface Cluster {
  readonly instanceId: string;
  /** Whether other instances may share the database (PostgreSQL). */
  readonly shared: boolean;
  /** Whether this instance may poll (or set the webhook of) and send for the bot now. */
  ownsBot(name: string): boolean;
  /** The bot's lease; null on SQLite, where this process owns every bot. */
  botOwner(name: string): BotOwner | null;
  /** A host whose rows another instance sends (the Telegram host of a bot it owns): never claimed here. */
  isForeignHost(host: string): boolean;
  /** Every such host now. */
  foreignHosts(): string[];
  instances(): Promise<InstanceView[]>;
  /** Rows to send were committed here: the other instances are woken (coalesced). */
  rowsCommitted(): void;
  /** The config was reloaded here: the other instances reload their own files. */
  reloaded(): void;
  circuitOpened(host: string, openUntil: number, failures: number): void;
  circuitClosed(host: string): void;
  start(events: ClusterEvents): Promise<void>;
  stop(): Promise<void>;
}

/** An instance's id: its host name, pid and a random part (a restarted process is a new instance). */
export const newInstanceId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;

/** SHA-256 of the config file (first 16 hex digits): instances on the same config show the same hash. */
export function configHash(path: string | null): string {
  if (!path) return "none";
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
  } catch {
    return "unreadable";
  }
}

let commitOnce: string | null | undefined;

/** This instance's row, as its heartbeat writes it (the commit asked of git once, not per heartbeat). */
export function instanceRow(id: string, startedAt: number, configHash: string, now: number): InstanceRow {
  if (commitOnce === undefined) {
    const commit = buildCommit();
    commitOnce = commit === "unknown" ? null : commit;
  }
  return { id, version: VERSION, commit: commitOnce, configHash, hostname: hostname(), pid: process.pid, startedAt, heartbeatAt: now };
}

export const instanceView = (r: InstanceRow, me: string, now: number): InstanceView => ({
  id: r.id, version: r.version, commit: r.commit, config_hash: r.configHash, hostname: r.hostname, pid: r.pid,
  started_at: iso(r.startedAt)!, heartbeat_at: iso(r.heartbeatAt)!, alive: isAlive(r.heartbeatAt, now), self: r.id === me,
});

/** SQLite: one process per database (the instance lock) owns every bot and keeps its circuits to itself. */
export class SoloCluster implements Cluster {
  readonly instanceId = newInstanceId();
  readonly shared = false;
  private readonly startedAt: number;

  constructor(private readonly clock: Clock, private readonly hash: () => string) {
    this.startedAt = clock.now();
  }

  ownsBot() {
    return true;
  }

  botOwner() {
    return null;
  }

  isForeignHost() {
    return false;
  }

  foreignHosts() {
    return [];
  }

  async instances() {
    const now = this.clock.now();
    return [instanceView(instanceRow(this.instanceId, this.startedAt, this.hash(), now), this.instanceId, now)];
  }

  rowsCommitted() {}
  reloaded() {}
  circuitOpened() {}
  circuitClosed() {}
  async start() {}
  async stop() {}
}
