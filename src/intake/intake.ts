import type { Metrics } from "../lib/metrics.ts";
import type { Storage, Tx } from "../storage/port.ts";

/** What one write from outside did: the lead events it took in, and the outbox rows it wrote. */
export interface Effects {
  events: readonly { status: string; applied: boolean }[];
  /** The state of each outbox row written; a pending one wakes the dispatcher. */
  rows: readonly string[];
}

export const NO_EFFECTS: Effects = { events: [], rows: [] };

export interface IntakeDeps {
  storage: Pick<Storage, "write">;
  metrics: Metrics;
  /** Wakes the dispatcher (new pending rows). */
  wake: () => void;
}

/**
 * The one way a write from outside — POST /api/events, a Telegram update (webhook or polling), an
 * inbound postback — reaches the database. `work` runs in a write transaction (on SQLite, inside
 * a group commit, so a burst shares transactions and fsyncs; like every write, it may run a
 * second time: it must act on the database only). The promise settles once the commit is
 * durable, so nobody is answered before that; then the write's metrics are recorded and the
 * dispatcher is woken if it queued rows.
 */
export type Intake = <T extends { effects: Effects }>(work: (tx: Tx) => Promise<T>) => Promise<T>;

export function createIntake(deps: IntakeDeps): Intake {
  return async (work) => {
    const result = await deps.storage.write(work);
    const { events, rows } = result.effects;
    for (const e of events) deps.metrics.recordEvent(e.status, e.applied);
    deps.metrics.recordPostbacksCreated(rows);
    if (rows.includes("pending")) deps.wake();
    return result;
  };
}
