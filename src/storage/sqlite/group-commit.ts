import type { Statement } from "bun:sqlite";
import type { Synchronous } from "../../config/model.ts";
import { isStorageUnavailable } from "../../lib/errors.ts";
import { COMMIT_BUCKETS_MS, Histogram } from "../../lib/histogram.ts";
import type { StorageState } from "../port.ts";
import type { Db } from "./client.ts";
import { WalDurability, type WalSync } from "./wal-sync.ts";

export type { WalSync } from "./wal-sync.ts";

interface Pending<T> {
  work: () => T | Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  /** Answered at its commit, before the WAL sync (see run). */
  early: boolean;
}

export interface GroupCommitOptions {
  /** The configured storage.synchronous: FULL and EXTRA answer a write only once it is on the disk. */
  synchronous: Synchronous;
  /** The database file; its `-wal` is what gets synced. ":memory:" has nothing to sync. */
  path: string;
  maxBatch?: number;
  /** Replaces the fdatasync of the WAL file (tests). */
  sync?: WalSync;
  /**
   * Called when the disk refused a sync: committed rows may not be on the disk, so the process
   * must not go on answering from them (the service exits and recovers from what the disk has).
   */
  onSyncFailure?: (err: unknown) => void;
  /** Clock for the storage state (epoch ms). */
  now?: () => number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const NONE = Symbol("no error");

/** A write awaited something that is not its transaction (a timer, the network): a bug, refused with its batch. */
export class HeldTransaction extends Error {
  constructor() {
    super("a write awaited something other than its transaction; the batch was rolled back");
    this.name = "HeldTransaction";
  }
}

/**
 * Group commit: writes that arrive while the event loop is busy share one transaction, and every
 * caller is answered only after the commit is durable. A write that throws is rolled back alone
 * and only its caller sees the error. The batch first runs without savepoints (each savepoint that
 * writes copies every page it touches into a sub-journal: about a third of the SQLite time of an
 * event); if any write throws, the whole transaction is rolled back and the batch runs again with
 * each write in its own savepoint. So `work` may run twice: it must act on the database only.
 *
 * A write is an async function over the SQLite stores, whose methods answer at once: a batch runs
 * from BEGIN to COMMIT within one turn of the event loop (its awaits are microtasks only), so no
 * request is served while its transaction is open. A write that awaits anything else (a timer, the
 * network) would hold the transaction open: that batch is rolled back and refused (HeldTransaction).
 *
 * Durability without blocking the thread: with synchronous FULL (or EXTRA) the batch commits at
 * synchronous=NORMAL — SQLite writes the WAL frames but does not fsync them — and the WAL file is
 * then fdatasync'ed on the runtime's file-system thread pool before any caller of the batch is
 * answered (WalDurability). So a write is acknowledged exactly when FULL would acknowledge it,
 * while the event loop keeps serving requests and building the next batch during the fsync.
 * Checkpoints keep SQLite's own NORMAL rules (the WAL is synced before, the database after).
 */
export class GroupCommit {
  /** For /metrics: batches and writes committed, the time each batch held the event loop, and each WAL sync. */
  readonly stats: { batches: number; writes: number; commitMs: Histogram; syncMs: Histogram };
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  private flushing = false;
  private readonly maxBatch: number;
  private readonly deferSync: boolean;
  private readonly wal: WalDurability;
  private readonly statements: Record<"begin" | "commit" | "abort" | "savepoint" | "release" | "rollback" | "totalChanges", Statement>;
  /** The configured mode, set again after each batch (null when batches are not deferred). */
  private readonly restore: string | null;
  private changesSeen = 0;
  private storage: StorageState = { writable: true };
  private readonly now: () => number;
  /** When a batch last committed changes (clock ms): the storage probe runs only after a quiet spell. */
  lastWriteAt: number;

  constructor(private readonly db: Db, opts: GroupCommitOptions) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.deferSync = (opts.synchronous === "FULL" || opts.synchronous === "EXTRA") && opts.path !== ":memory:";
    this.wal = new WalDurability(opts.path, opts.sync, opts.onSyncFailure);
    this.stats = { batches: 0, writes: 0, commitMs: new Histogram(COMMIT_BUCKETS_MS), syncMs: this.wal.syncMs };
    const sqlite = db.$client;
    this.statements = {
      begin: sqlite.prepare("BEGIN IMMEDIATE"),
      commit: sqlite.prepare("COMMIT"),
      abort: sqlite.prepare("ROLLBACK"),
      savepoint: sqlite.prepare("SAVEPOINT grouped_write"),
      release: sqlite.prepare("RELEASE grouped_write"),
      rollback: sqlite.prepare("ROLLBACK TO grouped_write"),
      totalChanges: sqlite.prepare("SELECT total_changes() AS n"),
    };
    this.restore = this.deferSync ? `PRAGMA synchronous = ${opts.synchronous}` : null;
    this.changesSeen = (this.statements.totalChanges.get() as { n: number }).n;
    this.now = opts.now ?? Date.now;
    this.lastWriteAt = this.now();
  }

  /** What the last write found (a refused sync is for good: writes are refused from then on). */
  storageState(): StorageState {
    const failed = this.wal.failed;
    if (failed) return { writable: false, error: `the disk refused to sync: ${(failed as Error).message}`, since: this.storage.writable ? this.lastWriteAt : this.storage.since };
    return this.storage;
  }

  /** A write met storage trouble (here, or on a path that writes on its own: the backup). */
  noteStorageFailure(err: unknown) {
    if (!isStorageUnavailable(err)) return;
    this.changesMoved(); // rows its statements changed before the failure prove nothing
    const message = (err as Error).message;
    this.storage = { writable: false, error: message, since: this.storage.writable ? this.now() : this.storage.since };
  }

  /**
   * Runs `work` inside a batch's transaction on the shared connection. It may run a second time
   * (after a rollback, when another write of its batch threw), so it must have no effect but on
   * the database and return its result.
   *
   * The promise settles once the batch is on the disk — or, with `beforeSync`, as soon as it is
   * committed: for a write whose result only this process acts on and which nothing outside
   * sees before a later durable write (a delivery outcome frees a slot; the claim that reuses the
   * slot waits for its own sync, which covers this commit). A committed write survives a crash of
   * the process either way; only a power cut can take one not yet synced.
   */
  run<T>(work: () => T | Promise<T>, opts: { beforeSync?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.wal.failed) return reject(this.wal.failed);
      this.queue.push({ work, resolve, reject, early: opts.beforeSync === true } as Pending<unknown>);
      this.schedule();
    });
  }

  /** Resolves once everything committed so far is on the disk; undefined when it already is. */
  durable(): Promise<void> | undefined {
    return this.wal.durable();
  }

  /** Resolves once every write handed in so far is committed and on the disk (shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length || this.scheduled || this.flushing || this.wal.inProgress) {
      await (this.wal.inProgress ?? new Promise((resolve) => setImmediate(resolve)));
    }
    this.wal.close();
  }

  private schedule() {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush() {
    this.scheduled = false;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      if (this.wal.failed) return batch.forEach((item) => item.reject(this.wal.failed));
      const started = performance.now();
      const outcomes = await this.commit(batch);
      this.stats.commitMs.observe(performance.now() - started);
      if (outcomes) this.settle(batch, outcomes);
    } finally {
      this.flushing = false;
      if (this.queue.length) this.schedule();
    }
  }

  private settle(batch: Pending<unknown>[], outcomes: Outcome[]) {
    this.noteOutcomes(outcomes);
    this.stats.batches++;
    this.stats.writes += batch.length;
    const settle = (item: Pending<unknown>, i: number) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    };
    if (!this.deferSync) return batch.forEach(settle);
    batch.forEach((item, i) => item.early && settle(item, i));
    this.wal.committedBatch(
      () => batch.forEach((item, i) => !item.early && settle(item, i)),
      (err) => batch.forEach((item) => !item.early && item.reject(err)),
    );
  }

  /** Runs the batch in one transaction; null when the transaction itself failed (every caller rejected). */
  private async commit(batch: Pending<unknown>[]): Promise<Outcome[] | null> {
    const sqlite = this.db.$client;
    // PRAGMA synchronous acts when prepared, not when stepped: a fresh statement each time.
    if (this.restore) sqlite.run("PRAGMA synchronous = NORMAL");
    try {
      return (await this.commitTogether(batch)) ?? (await this.commitIsolated(batch));
    } catch (error) {
      this.noteStorageFailure(error);
      for (const item of batch) item.reject(error); // nothing of the batch was committed
      return null;
    } finally {
      if (this.restore) sqlite.run(this.restore);
    }
  }

  /**
   * The whole batch without savepoints; null when one of several writes threw (all rolled back).
   * Storage trouble (disk full, I/O error, a lock) fails the whole batch with its own error:
   * another run could not do better, and SQLite may have rolled the transaction back itself.
   */
  private async commitTogether(batch: Pending<unknown>[]): Promise<Outcome[] | null> {
    const outcomes: Outcome[] = [];
    let failed: unknown = NONE; // what a write threw (the transaction's own error may be the rollback's)
    try {
      await this.transaction(async () => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: await item.work() });
          } catch (error) {
            failed = error;
            throw error;
          }
        }
      });
    } catch (error) {
      if (failed === NONE || failed instanceof HeldTransaction) throw error;
      if (isStorageUnavailable(failed)) throw failed;
      // A batch of one needs no second run: its write is the one that threw.
      return batch.length === 1 ? [{ ok: false, error: failed }] : null;
    }
    return outcomes;
  }

  /** Each write in its own savepoint: one that throws is rolled back alone. */
  private async commitIsolated(batch: Pending<unknown>[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const sqlite = this.db.$client;
    const { savepoint, release, rollback } = this.statements;
    let lost: unknown = NONE;
    try {
      await this.transaction(async () => {
        for (const item of batch) {
          savepoint.run();
          try {
            outcomes.push({ ok: true, value: await item.work() });
            release.run();
          } catch (error) {
            // SQLite rolled the whole transaction back (disk full, I/O error): nothing is kept.
            if (!sqlite.inTransaction) throw (lost = error);
            rollback.run();
            release.run();
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      throw lost === NONE ? error : lost;
    }
    return outcomes;
  }

  /**
   * BEGIN IMMEDIATE … COMMIT around `body`, which must finish within this turn of the event loop.
   * A transaction left open by a rollback that failed is rolled back first, or this batch would
   * nest inside it and never be committed.
   */
  private async transaction(body: () => Promise<void>) {
    const sqlite = this.db.$client;
    if (sqlite.inTransaction) this.statements.abort.run();
    let turnEnded = false;
    // Whichever phase of the event loop comes next: the check phase (an immediate), or the timers
    // phase when the loop is late (a GC pause) — there this timer, armed before any timer the
    // batch's writes arm and due no later, fires before theirs.
    const watch = setImmediate(() => (turnEnded = true));
    const watchTimer = setTimeout(() => (turnEnded = true), 0);
    this.statements.begin.run();
    try {
      await body();
      if (turnEnded) throw new HeldTransaction();
      this.statements.commit.run();
    } catch (error) {
      if (sqlite.inTransaction) this.statements.abort.run();
      throw error;
    } finally {
      clearImmediate(watch);
      clearTimeout(watchTimer);
    }
  }

  /** A committed batch: writable if it changed rows, unless one of its writes met storage trouble. */
  private noteOutcomes(outcomes: Outcome[]) {
    const trouble = outcomes.find((o) => !o.ok && isStorageUnavailable(o.error));
    if (trouble && !trouble.ok) return this.noteStorageFailure(trouble.error);
    if (!this.changesMoved()) return; // a batch that wrote nothing (an empty claim) proves nothing
    this.lastWriteAt = this.now();
    this.storage = { writable: true };
  }

  /** Whether the connection changed rows since the last look (SQLite's total_changes()). */
  private changesMoved(): boolean {
    const changes = (this.statements.totalChanges.get() as { n: number }).n;
    if (changes === this.changesSeen) return false;
    this.changesSeen = changes;
    return true;
  }
}
