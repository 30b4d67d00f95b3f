import { sql } from "drizzle-orm";
import type { Synchronous } from "../../config/model.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Reads, Storage, Tx } from "../port.ts";
import { openDatabase, type Db } from "./client.ts";
import { GroupCommit, type WalSync } from "./group-commit.ts";
import { SqliteAlerts } from "./alerts.ts";
import { SqliteCampaigns } from "./campaigns.ts";
import { SqliteBotLeases, SqliteCircuits, SqliteInstances } from "./cluster.ts";
import { SqliteClicks } from "./clicks.ts";
import { lockDatabase, type InstanceLock } from "./instance-lock.ts";
import { SqliteInbound } from "./inbound.ts";
import { SqliteJournal } from "./journal.ts";
import { SqliteLeads } from "./leads.ts";
import { SqliteOutbox } from "./outbox.ts";
import { SqliteCohorts, SqliteProfiles } from "./profiles.ts";
import { SqliteMoney } from "./money.ts";
import { storageProbe } from "./schema.ts";
import { SqliteSessions } from "./sessions.ts";
import { SqliteStats } from "./stats.ts";
import { SqliteTelegram } from "./telegram.ts";

export interface SqliteStorageOptions {
  path: string;
  synchronous: Synchronous;
  busy_timeout_ms?: number;
  log?: Pick<Logger, "info" | "debug">;
  now?: () => number;
  /** Replaces the fdatasync of the WAL (tests). */
  sync?: WalSync;
  onSyncFailure?: (err: unknown) => void;
  /** Take the file's instance lock (`<path>.lock`): one process per database. Default true. */
  lock?: boolean;
}

/** The SQLite engine behind the port, and its connection for what only SQLite does (backup, tests). */
export interface SqliteStorage extends Storage {
  readonly engine: "sqlite";
  readonly db: Db;
  readonly commits: GroupCommit;
}

/** Every store on one connection: reads and writes alike (the port's types keep writes inside `write`). */
export function sqliteStores(db: Db): Tx {
  return {
    leads: new SqliteLeads(db),
    outbox: new SqliteOutbox(db),
    campaigns: new SqliteCampaigns(db),
    journal: new SqliteJournal(db),
    inbound: new SqliteInbound(db),
    telegram: new SqliteTelegram(db),
    stats: new SqliteStats(db),
    sessions: new SqliteSessions(db),
    instances: new SqliteInstances(db),
    botLeases: new SqliteBotLeases(db),
    circuits: new SqliteCircuits(db),
    alerts: new SqliteAlerts(db),
    profiles: new SqliteProfiles(db),
    cohorts: new SqliteCohorts(db),
    money: new SqliteMoney(db),
    clicks: new SqliteClicks(db),
    writeProbe: (now) => {
      db.insert(storageProbe).values({ id: 1, writtenAt: now }).onConflictDoUpdate({ target: storageProbe.id, set: { writtenAt: sql`excluded.written_at` } }).run();
    },
  };
}

/**
 * Opens the database (migrating it), takes its instance lock and serves the port: reads on the
 * connection, writes through the group commit (one transaction and one WAL sync for every write
 * that arrives together).
 */
export function openSqliteStorage(opts: SqliteStorageOptions): SqliteStorage {
  const lock: InstanceLock | null = opts.lock === false ? null : lockDatabase(opts.path); // throws DatabaseInUse
  let db: Db;
  try {
    db = openDatabase(opts);
  } catch (err) {
    lock?.release();
    throw err;
  }
  const commits = new GroupCommit(db, { synchronous: opts.synchronous, path: opts.path, now: opts.now, sync: opts.sync, onSyncFailure: opts.onSyncFailure });
  const stores = sqliteStores(db);
  const ping = db.$client.prepare("SELECT 1");
  let closed: Promise<void> | null = null;
  return {
    engine: "sqlite",
    serialWrites: true,
    db,
    commits,
    read: stores as Reads,
    write: (work, o) => commits.run(() => work(stores), o),
    durable: () => commits.durable(),
    state: () => commits.storageState(),
    noteFailure: (err) => commits.noteStorageFailure(err),
    get lastWriteAt() {
      return commits.lastWriteAt;
    },
    ping: async () => void ping.get(),
    runAlone: (_name, work) => work(), // the instance lock: this process is the only one
    metrics: commits.stats,
    close: () => (closed ??= (async () => {
      try {
        await commits.drain();
      } finally {
        db.$client.close();
        lock?.release();
      }
    })()),
  };
}
