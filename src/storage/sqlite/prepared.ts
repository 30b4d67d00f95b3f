import type { SQLQueryBindings } from "bun:sqlite";
import type { Db } from "./client.ts";

const cache = new WeakMap<Db, Map<string, unknown>>();

/**
 * A drizzle prepared query built once per connection and reused: the hot write path must not
 * rebuild SQL or re-prepare a statement per request. It runs inside whatever transaction (or
 * savepoint) is open on the connection.
 */
export function prepared<T>(db: Db, key: string, build: (db: Db) => T): T {
  let map = cache.get(db);
  if (!map) cache.set(db, (map = new Map()));
  let query = map.get(key) as T | undefined;
  if (query === undefined) map.set(key, (query = build(db)));
  return query;
}

/** Named parameters of a bun:sqlite statement ($name). */
export type Bindings = Extract<SQLQueryBindings, Record<string, unknown>>;

/** A bun:sqlite statement prepared once per connection: the hot write path skips the query builder. */
export const statement = <Row = unknown>(db: Db, sqlText: string) =>
  prepared(db, sqlText, (d) => d.$client.prepare<Row, [Bindings]>(sqlText));
