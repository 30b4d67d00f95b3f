import { closeSync, fdatasync, openSync } from "node:fs";
import { COMMIT_BUCKETS_MS, Histogram } from "../../lib/histogram.ts";

/** Flushes the write-ahead log to the disk (fdatasync); injected in tests. */
export type WalSync = () => Promise<void>;

/**
 * Who waits for which committed batch to reach the disk, and the one fsync at a time that gets it
 * there: a sync covers every batch committed before it started. If the disk refuses a sync,
 * everything waiting fails and `failed` stays set: committed rows may not be on the disk.
 */
export class WalDurability {
  readonly syncMs = new Histogram(COMMIT_BUCKETS_MS);
  /** Batches committed so far, and how many of them are known to be on the disk. */
  private committed = 0;
  private synced = 0;
  private waiters: { batch: number; done: () => void; fail: (err: unknown) => void }[] = [];
  private syncing: Promise<void> | null = null;
  failed: unknown = null;
  private walFd: number | null = null;
  private readonly sync: WalSync;

  constructor(private readonly path: string, sync: WalSync | undefined, private readonly onFailure?: (err: unknown) => void) {
    this.sync = sync ?? (() => this.fdatasyncWal());
  }

  /** A batch was committed: `done` runs once it is on the disk, `fail` if the disk refuses. */
  committedBatch(done: () => void, fail: (err: unknown) => void) {
    this.waiters.push({ batch: ++this.committed, done, fail });
    this.start();
  }

  /** Resolves once everything committed so far is on the disk; undefined when it already is. */
  durable(): Promise<void> | undefined {
    if (this.synced === this.committed) return undefined;
    return new Promise((done, fail) => this.waiters.push({ batch: this.committed, done, fail }));
  }

  /** The sync in progress, if any. */
  get inProgress(): Promise<void> | null {
    return this.syncing;
  }

  close() {
    if (this.walFd !== null) closeSync(this.walFd);
    this.walFd = null;
  }

  private start() {
    if (this.syncing || this.failed || this.synced === this.committed) return;
    const upTo = this.committed;
    const started = performance.now();
    this.syncing = this.sync().then(
      () => {
        this.syncMs.observe(performance.now() - started);
        this.synced = upTo;
        let n = 0;
        while (n < this.waiters.length && this.waiters[n]!.batch <= upTo) n++;
        for (const w of this.waiters.splice(0, n)) w.done();
      },
      (err) => {
        // The disk refused: what was committed may be lost at the next power cut. Refuse from now on.
        this.failed = err;
        for (const w of this.waiters.splice(0)) w.fail(err);
        this.onFailure?.(err);
      },
    ).finally(() => {
      this.syncing = null;
      this.start();
    });
  }

  /** The WAL file lives as long as the connection is open (SQLite removes it only at the last close). */
  private fdatasyncWal(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.walFd ??= openSync(`${this.path}-wal`, "r");
      } catch (err) {
        return reject(err);
      }
      fdatasync(this.walFd, (err) => (err ? reject(err) : resolve())); // on the runtime's file-system thread pool
    });
  }
}
