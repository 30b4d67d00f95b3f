import type { Logger } from "../lib/logger.ts";
import type { Awaitable, Storage, Tx } from "../storage/port.ts";

/** Rows deleted per transaction: each batch is one short write, so a large backlog never holds the writer long. */
export const PRUNE_BATCH = 5000;

const DAY_MS = 86_400_000;
/** A retry of POST /api/events comes within minutes; its stored answer is kept a day. */
export const IDEMPOTENCY_TTL_MS = DAY_MS;
/** Telegram drops undelivered updates after 24 h; keeping their ids a week is ample. */
export const PROCESSED_UPDATES_TTL_MS = 7 * DAY_MS;
/** Rows of inbound requests without a valid key that the log keeps at most (the newest), whatever their age. */
export const MAX_ACCESS_ROWS = 10_000;

/** Repeats one batch of a prune, each in its own transaction, until a batch takes fewer than PRUNE_BATCH rows. */
export async function pruneInBatches(storage: Pick<Storage, "write">, batch: (tx: Tx) => Awaitable<number>): Promise<number> {
  let pruned = 0;
  for (;;) {
    const n = await storage.write(async (tx) => batch(tx));
    pruned += n;
    if (n < PRUNE_BATCH) return pruned;
  }
}

/**
 * Retention (hourly): delivered postbacks with their attempt logs, inbound log rows, journal
 * entries, clicks no lead came from, resolved alert incidents and sent digests older than delivery.retention; stored Idempotency-Key answers after a day; processed
 * update ids after a week. Failures are logged; the next run tries again.
 */
export async function pruneExpired(deps: { storage: Pick<Storage, "write">; log: Logger; now: number; retentionMs: number }) {
  const { storage, now } = deps;
  const before = now - deps.retentionMs;
  try {
    const delivered = await pruneInBatches(storage, (tx) => tx.outbox.pruneDelivered(before, PRUNE_BATCH));
    await pruneInBatches(storage, (tx) => tx.leads.pruneIdempotencyKeys(now - IDEMPOTENCY_TTL_MS, PRUNE_BATCH));
    await pruneInBatches(storage, (tx) => tx.telegram.pruneProcessedUpdates(now - PROCESSED_UPDATES_TTL_MS, PRUNE_BATCH));
    const inbound = (await pruneInBatches(storage, (tx) => tx.inbound.prune(before, PRUNE_BATCH)))
      + (await storage.write(async (tx) => tx.inbound.pruneAccessRows(MAX_ACCESS_ROWS)));
    const journal = await pruneInBatches(storage, (tx) => tx.journal.prune(before, PRUNE_BATCH));
    await pruneInBatches(storage, (tx) => tx.alerts.prune(before, PRUNE_BATCH)); // resolved incidents and sent digests
    // A click no lead came from: its visitor never pressed Start. A lead's click stays with the lead.
    const clicks = await pruneInBatches(storage, (tx) => tx.clicks.pruneUnused(before, PRUNE_BATCH));
    if (delivered || inbound || journal || clicks) {
      deps.log.info({ pruned: delivered, inbound_log: inbound, journal, clicks }, "retention: delivered postbacks, inbound log, journal and unused clicks pruned");
    }
  } catch (err) {
    deps.log.error({ err }, "retention pruning failed");
  }
}
