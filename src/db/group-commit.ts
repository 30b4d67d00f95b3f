import type { Statement } from "bun:sqlite";
import { closeSync, fdatasync, openSync } from "node:fs";
import type { Synchronous } from "../config/model.ts";
import { isStorageUnavailable } from "../lib/errors.ts";
import { COMMIT_BUCKETS_MS, Histogram } from "../lib/histogram.ts";
import type { Db } from "./client.ts";

interface Pending<T> {
  work: () => T;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  /** Answered at its commit, before the WAL sync (see run). */
  early: boolean;
}

/** Flushes the write-ahead log to the disk (fdatasync); injected in tests. */
export type WalSync = () => Promise<void>;

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

/**
 * Whether the database takes writes, as the last write that went through here found: a batch that
 * changed rows and committed (writable), or one that failed with storage trouble — disk full, I/O
 * error, read-only, a lock held too long — (not writable, with that error, since when).
 */
export type StorageState = { writable: true } | { writable: false; error: string; since: number };

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const NONE = Symbol("no error");

/**
 * Group commit: writes that arrive while the event loop is busy share one transaction, and every
 * caller is answered only after the commit is durable. A write that throws is rolled back alone
 * and only its caller sees the error. The batch first runs without savepoints (each savepoint that
 * writes copies every page it touches into a sub-journal: about a third of the SQLite time of an
 * event); if any write throws, the whole transaction is rolled back and the batch runs again with
 * each write in its own savepoint. So `work` may run twice: it must act on the database only.
 *
 * Durability without blocking the thread: with synchronous FULL (or EXTRA) the batch commits at
 * synchronous=NORMAL — SQLite writes the WAL frames but does not fsync them — and the WAL file is
 * then fdatasync'ed on the runtime's file-system thread pool before any caller of the batch is
 * answered. So a write is acknowledged exactly when FULL would acknowledge it (its WAL frames are
 * on the disk), while the event loop keeps serving requests and building the next batch during
 * the fsync. One fsync covers every batch committed before it started. Checkpoints keep SQLite's
 * own NORMAL rules (the WAL is synced before, the database after). Writes outside the group commit
 * keep the configured mode and its in-thread fsync.
 */
export class GroupCommit {
  /** For /metrics: batches and writes committed, the time each batch held the event loop, and each WAL sync. */
  readonly stats = {
    batches: 0,
    writes: 0,
    commitMs: new Histogram(COMMIT_BUCKETS_MS),
    syncMs: new Histogram(COMMIT_BUCKETS_MS),
  };
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  /** Batches committed so far, and how many of them are known to be on the disk. */
  private committed = 0;
  private synced = 0;
  /** Who waits for which batch to reach the disk, in batch order. */
  private waiters: { batch: number; done: () => void; fail: (err: unknown) => void }[] = [];
  private syncing: Promise<void> | null = null;
  private failed: unknown = null;
  private readonly maxBatch: number;
  private readonly deferSync: boolean;
  private readonly sync: WalSync;
  private readonly begin: Statement;
  private readonly release: Statement;
  private readonly rollback: Statement;
  /** The configured mode, set again after each batch (null when batches are not deferred). */
  private readonly restore: string | null;
  private walFd: number | null = null;
  private readonly totalChanges: Statement;
  private changesSeen = 0;
  private storage: StorageState = { writable: true };
  private readonly now: () => number;
  /** When a batch last committed changes (clock ms): the storage probe runs only after a quiet spell. */
  lastWriteAt: number;

  constructor(private readonly db: Db, private readonly opts: GroupCommitOptions) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.deferSync = (opts.synchronous === "FULL" || opts.synchronous === "EXTRA") && opts.path !== ":memory:";
    this.sync = opts.sync ?? (() => this.fdatasyncWal());
    const sqlite = db.$client;
    this.begin = sqlite.prepare("SAVEPOINT grouped_write");
    this.release = sqlite.prepare("RELEASE grouped_write");
    this.rollback = sqlite.prepare("ROLLBACK TO grouped_write");
    this.restore = this.deferSync ? `PRAGMA synchronous = ${opts.synchronous}` : null;
    this.totalChanges = sqlite.prepare("SELECT total_changes() AS n");
    this.changesSeen = (this.totalChanges.get() as { n: number }).n;
    this.now = opts.now ?? Date.now;
    this.lastWriteAt = this.now();
  }

  /** What the last write found (a refused sync is for good: writes are refused from then on). */
  storageState(): StorageState {
    if (this.failed) return { writable: false, error: `the disk refused to sync: ${(this.failed as Error).message}`, since: this.storage.writable ? this.lastWriteAt : this.storage.since };
    return this.storage;
  }

  /** A write met storage trouble (here, or on a path that writes on its own, e.g. an HTTP route). */
  noteStorageFailure(err: unknown) {
    if (!isStorageUnavailable(err)) return;
    this.changesMoved(); // rows its statements changed before the failure prove nothing
    const message = (err as Error).message;
    this.storage = { writable: false, error: message, since: this.storage.writable ? this.now() : this.storage.since };
  }

  /**
   * `work` runs synchronously on the shared connection, inside the batch's transaction. It may run
   * a second time (after a rollback, when another write of its batch threw), so it must have no
   * effect but on the database and return its result.
   *
   * The promise settles once the batch is on the disk — or, with `beforeSync`, as soon as it is
   * committed: for a write whose result only this process acts on and which nothing outside
   * sees before a later durable write (a delivery outcome frees a slot; the claim that reuses the
   * slot waits for its own sync, which covers this commit). A committed write survives a crash of
   * the process either way; only a power cut can take one not yet synced.
   */
  run<T>(work: () => T, opts: { beforeSync?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.queue.push({ work, resolve, reject, early: opts.beforeSync === true } as Pending<unknown>);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Resolves once everything committed so far is on the disk; undefined when it already is. A
   * reader awaits it before answering, so nothing it shows can be lost by a power cut.
   */
  durable(): Promise<void> | undefined {
    if (this.synced === this.committed) return undefined;
    return new Promise((done, fail) => this.waiters.push({ batch: this.committed, done, fail }));
  }

  /** Resolves once every write handed in so far is committed and on the disk (shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length || this.scheduled || this.syncing) {
      await (this.syncing ?? new Promise((resolve) => setImmediate(resolve)));
    }
    if (this.walFd !== null) closeSync(this.walFd);
    this.walFd = null;
  }

  private flush() {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (this.failed) return batch.forEach((item) => item.reject(this.failed));
    const started = performance.now();
    const outcomes = this.commit(batch);
    this.stats.commitMs.observe(performance.now() - started);
    if (!outcomes) return;
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
    const answer = () => batch.forEach((item, i) => !item.early && settle(item, i));
    const fail = (err: unknown) => batch.forEach((item) => !item.early && item.reject(err));
    this.waiters.push({ batch: ++this.committed, done: answer, fail });
    this.startSync();
  }

  /** Runs the batch in one transaction; null when the transaction itself failed (every caller rejected). */
  private commit(batch: Pending<unknown>[]): Outcome[] | null {
    const sqlite = this.db.$client;
    // PRAGMA synchronous acts when prepared, not when stepped: a fresh statement each time.
    if (this.restore) sqlite.run("PRAGMA synchronous = NORMAL");
    try {
      return this.commitTogether(batch) ?? this.commitIsolated(batch);
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
  private commitTogether(batch: Pending<unknown>[]): Outcome[] | null {
    const outcomes: Outcome[] = [];
    let failed: unknown = NONE; // what a write threw (the transaction's own error may be the rollback's)
    try {
      this.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: item.work() });
          } catch (error) {
            failed = error;
            throw error;
          }
        }
      });
    } catch (error) {
      if (failed === NONE) throw error;
      if (isStorageUnavailable(failed)) throw failed;
      // A batch of one needs no second run: its write is the one that threw.
      return batch.length === 1 ? [{ ok: false, error: failed }] : null;
    }
    return outcomes;
  }

  /** Each write in its own savepoint: one that throws is rolled back alone. */
  private commitIsolated(batch: Pending<unknown>[]): Outcome[] {
    const outcomes: Outcome[] = [];
    const sqlite = this.db.$client;
    let lost: unknown = NONE;
    try {
      this.transaction(() => {
        for (const item of batch) {
          this.begin.run();
          try {
            outcomes.push({ ok: true, value: item.work() });
            this.release.run();
          } catch (error) {
            // SQLite rolled the whole transaction back (disk full, I/O error): nothing is kept.
            if (!sqlite.inTransaction) throw (lost = error);
            this.rollback.run();
            this.release.run();
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
   * BEGIN IMMEDIATE … COMMIT. A transaction left open by a rollback that failed is rolled back
   * first, or this batch would nest inside it and never be committed.
   */
  private transaction(body: () => void) {
    const sqlite = this.db.$client;
    if (sqlite.inTransaction) sqlite.run("ROLLBACK");
    sqlite.transaction(body).immediate();
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
    const changes = (this.totalChanges.get() as { n: number }).n;
    if (changes === this.changesSeen) return false;
    this.changesSeen = changes;
    return true;
  }

  /** One fsync at a time; it covers every batch committed before it started. */
  private startSync() {
    if (this.syncing || this.failed || this.synced === this.committed) return;
    const upTo = this.committed;
    const started = performance.now();
    this.syncing = this.sync().then(
      () => {
        this.stats.syncMs.observe(performance.now() - started);
        this.synced = upTo;
        let n = 0;
        while (n < this.waiters.length && this.waiters[n]!.batch <= upTo) n++;
        for (const w of this.waiters.splice(0, n)) w.done();
      },
      (err) => {
        // The disk refused: what was committed may be lost at the next power cut. Refuse from now on.
        this.failed = err;
        for (const w of this.waiters.splice(0)) w.fail(err);
        this.opts.onSyncFailure?.(err);
      },
    ).finally(() => {
      this.syncing = null;
      this.startSync();
    });
  }

  /** The WAL file lives as long as this connection is open (SQLite removes it only at the last close). */
  private fdatasyncWal(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.walFd ??= openSync(`${this.opts.path}-wal`, "r");
      } catch (err) {
        return reject(err);
      }
      fdatasync(this.walFd, (err) => (err ? reject(err) : resolve())); // on the runtime's file-system thread pool
    });
  }
}
