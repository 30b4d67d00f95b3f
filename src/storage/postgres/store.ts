// The PostgreSQL engine behind the storage port: writes in transactions on a pooled connection,
// retried whole on a serialization failure or a deadlock; the dispatcher's delivery outcomes
// (shared writes) batched into one transaction and one statement; reads on the pool; migrations
// at open. Several instances may run on one database (see src/cluster/).
import type { SQL } from "bun";
import { isStorageUnavailable } from "../../lib/errors.ts";
import { COMMIT_BUCKETS_MS, Histogram } from "../../lib/histogram.ts";
import type { Logger } from "../../lib/logger.ts";
import type { CounterAdd, Storage, StorageMetrics, StorageState, Tx, WriteOptions } from "../port.ts";
import { openPostgres, type PostgresPool } from "./connect.ts";
import { LOCK_SPACE } from "./locks.ts";
import { migratePostgres } from "./migrate.ts";
import { PgOutboxClaims, type PendingCompletion } from "./outbox-claims.ts";
import { Pg, type WriteTally } from "./query.ts";
import { addCounters } from "./stats.ts";
import { pgReads, pgTx } from "./stores.ts";

export interface PostgresStorageOptions {
  url: string;
  pool_size: number;
  log?: Pick<Logger, "info" | "warn" | "debug">;
  /** Clock for the storage state (epoch ms). */
  now?: () => number;
  /** Shown in pg_stat_activity (the instance id). */
  application_name?: string;
}

/** The PostgreSQL engine, and what only it does: LISTEN/NOTIFY between instances. */
export interface PostgresStorage extends Storage {
  readonly engine: "postgres";
  readonly pool: PostgresPool;
  /** Sends `payload` on `channel` to every instance listening (delivered at once; not inside a transaction). */
  notify(channel: string, payload: string): Promise<void>;
  /** Calls `onPayload` for each notification on `channel`; `onListen` each time the listener (re)subscribes. */
  listen(channel: string, onPayload: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
}

/** A serialization failure or a deadlock: PostgreSQL rolled the transaction back whole, and running it again is the remedy. */
const RETRY_STATES = new Set(["40001", "40P01"]);
const MAX_RETRIES = 5;
/** A connection the server closed (a failover, pg_terminate_backend) fails its next statement once: one more try on another. */
const CONNECTION_RETRIES = 1;
/** Shared writes taken into one transaction at most. */
const MAX_SHARED = 256;

const isRetryable = (err: unknown) => RETRY_STATES.has((err as { errno?: string }).errno ?? "");

/** A work of a shared batch threw: the batch is rolled back and each work runs in a transaction of its own. */
class BatchFailed extends Error {}

interface SharedWrite {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Opens the pool (refusing the start with a StorageError naming the server when it cannot),
 * applies pending migrations (once, however many instances start together) and serves the port.
 */
export async function openPostgresStorage(opts: PostgresStorageOptions): Promise<PostgresStorage> {
  const pool = await openPostgres({ url: opts.url, pool_size: opts.pool_size, application_name: opts.application_name, log: opts.log });
  try {
    await migratePostgres(pool.sql, { now: opts.now, log: opts.log });
  } catch (err) {
    await pool.close();
    throw err;
  }
  return new PostgresEngine(pool, opts).storage();
}

class PostgresEngine {
  private readonly sql: SQL;
  private readonly now: () => number;
  private stateNow: StorageState = { writable: true };
  lastWriteAt: number;
  readonly metrics: StorageMetrics = { batches: 0, writes: 0, commitMs: new Histogram(COMMIT_BUCKETS_MS), syncMs: new Histogram(COMMIT_BUCKETS_MS) };
  private readonly running = new Set<Promise<unknown>>();
  private shared: SharedWrite[] = [];
  private sharedScheduled = false;
  private sharedRunning: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly pool: PostgresPool, private readonly opts: PostgresStorageOptions) {
    this.sql = pool.sql;
    this.now = opts.now ?? Date.now;
    this.lastWriteAt = this.now();
  }

  storage(): PostgresStorage {
    const engine = this;
    return {
      engine: "postgres",
      serialWrites: false,
      pool: this.pool,
      read: pgReads(new Pg(this.sql)),
      write: (work, o) => this.track(this.write(work, o)),
      durable: () => undefined, // a commit answered by PostgreSQL is durable (synchronous_commit)
      state: () => this.stateNow,
      noteFailure: (err) => this.noteFailure(err),
      get lastWriteAt() {
        return engine.lastWriteAt;
      },
      ping: async () => void (await this.sql`SELECT 1`),
      runAlone: (name, work) => this.runAlone(name, work),
      metrics: this.metrics,
      notify: async (channel, payload) => void (await this.sql`SELECT pg_notify(${channel}, ${payload})`),
      listen: async (channel, onPayload, onListen) => {
        const sub = await this.sql.listen(channel, onPayload, onListen);
        return () => sub.unlisten();
      },
      close: () => (this.closing ??= this.close()),
    };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.then(() => this.running.delete(p), () => this.running.delete(p));
    return p;
  }

  private write<T>(work: (tx: Tx) => Promise<T>, opts?: WriteOptions): Promise<T> {
    if (this.closing) return Promise.reject(new Error("storage is closed"));
    if (!opts?.shared) return this.solo(work);
    return new Promise<T>((resolve, reject) => {
      this.shared.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.scheduleShared();
    });
  }

  /** One transaction for one write, run again on a serialization failure or deadlock (and once after a lost connection). */
  private async solo<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 0, lost = 0; ; attempt++) {
      try {
        return await this.transaction(1, (tx) => work(tx));
      } catch (err) {
        if (isRetryable(err) && attempt < MAX_RETRIES) {
          await Bun.sleep(Math.random() * 5 * (attempt + 1)); // ms: the two sides apart, or they meet again
          continue;
        }
        if (isStorageUnavailable(err) && !isRetryable(err) && lost++ < CONNECTION_RETRIES) continue;
        this.noteFailure(err);
        throw err;
      }
    }
  }

  /**
   * Runs `body` in a transaction on a pooled connection; counters collected by its stores are
   * written last, right before COMMIT. Whether it changed rows decides the storage state.
   */
  private async transaction<T>(writes: number, body: (tx: Tx, pg: Pg) => Promise<T>, completions?: (pg: Pg) => TxCompletions): Promise<T> {
    const tally: WriteTally = { rows: 0 };
    const counters: CounterAdd[] = [];
    const late: { table: number; key: string; run: () => Promise<void> }[] = [];
    const started = performance.now();
    let result: T;
    /** The counters, sent without waiting for their answers: they go down the connection right ahead of the COMMIT. */
    const tail: Promise<unknown>[] = [];
    // Read after the COMMIT's answer: one rejecting before it (a connection cut) is handled here
    // meanwhile, or the process would end on an unhandled rejection.
    const send = (counter: Promise<unknown>) => {
      counter.catch(() => {});
      tail.push(counter);
    };
    // The callback's value is kept aside: Bun.sql would run an array returned from it as queries.
    const committed = this.sql.begin(async (t) => {
      const pg = new Pg(t as unknown as SQL, tally);
      const batch = completions?.(pg);
      const tx = pgTx(pg, { deferCounters: (c) => void counters.push(...c), completions: batch?.add, late: (table, key, run) => void late.push({ table, key, run }) });
      result = await body(tx, pg);
      await batch?.settled();
      // Every writer of a campaign adds to the same counter rows: locked from here to the end of the
      // COMMIT only, with no round trip to this process in between (nor its event loop's delays).
      send(addCounters(pg, counters));
      late.sort((a, b) => a.table - b.table || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const w of late) send(w.run());
    });
    try {
      await committed;
    } finally {
      // A counter that failed aborted the transaction, and PostgreSQL answered its COMMIT with a
      // ROLLBACK: the write did not happen, whatever the COMMIT's answer looked like.
      const failed = (await Promise.allSettled(tail)).find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    this.metrics.commitMs.observe(performance.now() - started);
    this.metrics.batches++;
    this.metrics.writes += writes;
    if (tally.rows > 0) {
      this.lastWriteAt = this.now();
      this.stateNow = { writable: true };
    }
    return result!;
  }

  private scheduleShared() {
    if (this.sharedScheduled || this.sharedRunning) return;
    this.sharedScheduled = true;
    setImmediate(() => {
      this.sharedScheduled = false;
      this.sharedRunning = this.flushShared().finally(() => {
        this.sharedRunning = null;
        if (this.shared.length) this.scheduleShared();
      });
    });
  }

  /**
   * The shared writes waiting now, in one transaction: they run side by side on its connection,
   * their outbox completions gathered into one statement. If one throws, the batch is rolled back
   * and each runs alone (so a write may run twice: it acts on the database only).
   */
  private async flushShared() {
    const batch = this.shared.splice(0, MAX_SHARED);
    if (batch.length === 1) return this.settle(batch[0]!, this.solo(batch[0]!.work));
    let outcomes: unknown[];
    try {
      outcomes = await this.sharedTransaction(batch);
    } catch (err) {
      if (err instanceof BatchFailed) return void (await Promise.all(batch.map((w) => this.settle(w, this.solo(w.work)))));
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(outcomes[i]));
  }

  private async sharedTransaction(batch: SharedWrite[]): Promise<unknown[]> {
    for (let attempt = 0, lost = 0; ; attempt++) {
      try {
        return await this.transaction(batch.length, async (tx) => {
          const settled = await Promise.allSettled(batch.map((w) => w.work(tx)));
          if (settled.some((s) => s.status === "rejected")) throw new BatchFailed();
          return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
        }, (pg) => new TxCompletions(new PgOutboxClaims(pg)));
      } catch (err) {
        if (err instanceof BatchFailed) throw err;
        if (isRetryable(err) && attempt < MAX_RETRIES) continue;
        if (isStorageUnavailable(err) && !isRetryable(err) && lost++ < CONNECTION_RETRIES) continue;
        this.noteFailure(err);
        throw err;
      }
    }
  }

  private async settle(w: SharedWrite, outcome: Promise<unknown>) {
    await outcome.then(w.resolve, w.reject);
  }

  noteFailure(err: unknown) {
    if (!isStorageUnavailable(err)) return;
    const message = (err as Error).message || String((err as { code?: string }).code);
    this.stateNow = { writable: false, error: message, since: this.stateNow.writable ? this.now() : this.stateNow.since };
  }

  /** A session advisory lock on a connection of its own, held while `work` runs; skipped when another instance holds it. */
  private async runAlone<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
    const conn = await this.sql.reserve();
    try {
      const [{ got }] = await conn`SELECT pg_try_advisory_lock(${LOCK_SPACE.alone}::int4, hashtext(${name})) AS got`;
      if (!got) {
        this.opts.log?.debug({ work: name }, "another instance runs it; skipped");
        return undefined;
      }
      try {
        return await work();
      } finally {
        await conn`SELECT pg_advisory_unlock(${LOCK_SPACE.alone}::int4, hashtext(${name}))`.catch(() => {}); // also released when the connection ends
      }
    } finally {
      conn.release();
    }
  }

  private async close() {
    while (this.running.size || this.shared.length || this.sharedRunning) {
      await Promise.allSettled([...this.running, this.sharedRunning]);
    }
    await this.pool.close(5);
  }
}

/** The completions of one shared transaction: collected while its writes run, recorded in one statement. */
class TxCompletions {
  private waiting: { item: PendingCompletion; resolve: (kept: boolean) => void; reject: (err: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;

  constructor(private readonly claims: PgOutboxClaims) {}

  /** Queues one outcome; it is recorded with every other queued in the same turn. */
  add = (item: PendingCompletion): Promise<boolean> => new Promise((resolve, reject) => {
    this.waiting.push({ item, resolve, reject });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const run = this.record();
      this.flushing = (this.flushing ?? Promise.resolve()).then(() => run);
    });
  });

  private async record() {
    const items = this.waiting.splice(0);
    try {
      const kept = await this.claims.completeMany(items.map((w) => w.item));
      for (const w of items) w.resolve(kept.has(w.item.row.id));
    } catch (err) {
      for (const w of items) w.reject(err);
    }
  }

  /** Resolves once every queued outcome is recorded. */
  async settled() {
    while (this.flushing || this.waiting.length) {
      const f = this.flushing;
      await f;
      if (f === this.flushing) this.flushing = null;
    }
  }
}
