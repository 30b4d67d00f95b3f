// Raw statements for the PostgreSQL stores: one small wrapper over a Bun.sql connection (the pool
// for reads, a transaction for writes) that counts the rows a write changed, and row mappers that
// read int8 columns (decimal strings from Bun.sql) back as the numbers the port's rows carry.
import type { SQL } from "bun";
import { readInt8 } from "./connect.ts";

/** A statement's parameters: Bun.sql binds numbers, text, booleans, null, arrays and objects (jsonb). */
export type Params = unknown[];

/** What a transaction's statements changed: a write that changed rows proves the database takes writes. */
export interface WriteTally {
  rows: number;
}

/** Statements on one Bun.sql handle: the pool (each statement on a free connection) or one transaction. */
export class Pg {
  constructor(readonly conn: SQL, private readonly tally: WriteTally | null = null) {}

  async all<T = Record<string, unknown>>(text: string, params: Params = []): Promise<T[]> {
    const result = (await started(this.conn.unsafe(text, params))) as unknown as T[] & { count?: number; command?: string };
    if (this.tally && result.command !== "SELECT" && result.count) this.tally.rows += result.count;
    return result;
  }

  async one<T = Record<string, unknown>>(text: string, params: Params = []): Promise<T | null> {
    return (await this.all<T>(text, params))[0] ?? null;
  }

  /** A statement run for its effect; how many rows it changed. */
  async run(text: string, params: Params = []): Promise<number> {
    const result = (await started(this.conn.unsafe(text, params))) as unknown as { count?: number };
    const n = result.count ?? 0;
    if (this.tally && n) this.tally.rows += n;
    return n;
  }
}

/**
 * A Bun.sql query sent at once, not when first awaited: statements a transaction issues without
 * awaiting them (its counters, right before COMMIT) go down the connection ahead of the COMMIT.
 */
function started<Q>(query: Q): Q {
  (query as { execute?: () => unknown }).execute?.();
  return query;
}

/** How a column is read back: int8/int4 as numbers, text, boolean and jsonb as Bun.sql gives them. */
type Kind = "int" | "int?" | "plain";

type Spec<T> = { [K in keyof T]-?: readonly [column: string, kind: Kind] };

/** A row type's columns: the SELECT list (aliased to the row's keys) and the mapper of a result row. */
export interface RowShape<T> {
  /** `col AS "key", …`, each column prefixed by `alias.` when one is given. */
  columns(alias?: string): string;
  map(row: Record<string, unknown>): T;
}

export function rowShape<T>(spec: Spec<T>): RowShape<T> {
  const entries = Object.entries(spec) as [string, readonly [string, Kind]][];
  const ints = entries.filter(([, [, kind]]) => kind !== "plain");
  const nullable = new Set(entries.filter(([, [, kind]]) => kind === "int?").map(([key]) => key));
  return {
    columns: (alias) => entries.map(([key, [column]]) => `${alias ? `${alias}.` : ""}${column} AS "${key}"`).join(", "),
    map(row) {
      for (const [key] of ints) {
        const v = row[key] as string | number | null;
        row[key] = v === null && nullable.has(key) ? null : readInt8(v as string | number);
      }
      return row as T;
    },
  };
}

/** An int8 (or a sum, a count) read by a raw query, as a number; null stays null. */
export const num = (v: unknown): number => readInt8(v as string | number);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : readInt8(v as string | number));

/**
 * A statement's text with `$name` placeholders turned into `$1…`, and its parameters in that
 * order: the stores write their SQL with names, as the SQLite ones do, and bind by position.
 */
export function named(text: string): (values: Record<string, unknown>) => [string, Params] {
  const names: string[] = [];
  const positional = text.replace(/\$([a-zA-Z]\w*)/g, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return (values) => [positional, names.map((n) => {
    if (!(n in values)) throw new Error(`statement parameter $${n} missing`);
    return values[n] ?? null;
  })];
}
