import type { Db } from "./client.ts";

/** Rows deleted per statement: each batch is one short write, so a large backlog never holds the lock long. */
export const PRUNE_BATCH = 5000;

/**
 * Retention: deletes the rows of `table` whose `column` (epoch ms, indexed) is below `before`, in
 * batches; returns how many went. `table` and `column` are names from the code, never input.
 */
export function deleteOlderThan(db: Db, table: string, column: string, before: number): number {
  const statement = db.$client.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ${PRUNE_BATCH})`);
  let pruned = 0;
  for (;;) {
    const n = statement.run(before).changes;
    pruned += n;
    if (n < PRUNE_BATCH) return pruned;
  }
}
