import type { Db } from "./client.ts";

/**
 * Retention: deletes up to `limit` rows of `table` whose `column` (epoch ms) is below `before` and
 * returns how many went. One call is one short write; the caller repeats it, each in its own
 * transaction, so a large backlog never holds the write lock long. `table` and `column` are names
 * from the code, never input.
 */
export function pruneBatch(db: Db, table: string, column: string, before: number, limit: number): number {
  return db.$client.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ${Math.trunc(limit)})`)
    .run(before).changes;
}
