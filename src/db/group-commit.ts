import type { Db } from "./client.ts";

interface Pending<T> {
  work: () => T;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes that arrive while the event loop is busy share one transaction (one fsync
 * with synchronous=FULL). Each write runs in its own savepoint, so one that throws is rolled back
 * alone and only its caller sees the error; every caller is answered only after the commit.
 */
export class GroupCommit {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;

  constructor(private readonly db: Db, private readonly maxBatch = 256) {}

  /** `work` runs synchronously on the shared connection, inside the batch's transaction and its own savepoint. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve, reject } as Pending<unknown>);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush() {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const sqlite = this.db.$client;
    try {
      sqlite.transaction(() => {
        for (const item of batch) {
          sqlite.query("SAVEPOINT grouped_write").run();
          try {
            outcomes.push({ ok: true, value: item.work() });
            sqlite.query("RELEASE grouped_write").run();
          } catch (error) {
            sqlite.query("ROLLBACK TO grouped_write").run();
            sqlite.query("RELEASE grouped_write").run();
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
    } catch (error) {
      for (const item of batch) item.reject(error); // nothing of the batch was committed
      return;
    }
    batch.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }
}
