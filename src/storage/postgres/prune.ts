import type { Pg } from "./query.ts";

/**
 * Retention: deletes up to `limit` rows of `table` whose `column` (epoch ms) is below `before` and
 * answers how many went, as SQLite's pruneBatch does; the caller repeats it, each batch a short
 * transaction of its own. `table` and `column` are names from the code, never input.
 */
export function prune(pg: Pg, table: string, column: string, before: number, limit: number): Promise<number> {
  return pg.run(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT ${Math.trunc(limit)}))`, [before]);
}
