// The two dialects' schemas describe one database (issue 20): every table, column, nullability,
// default, primary and unique key, foreign key and index of the SQLite schema exists in the
// PostgreSQL one with the same name and meaning, and nothing more. Read from the drizzle
// definitions themselves (getTableConfig), so a column added to one file only fails here.
import { describe, expect, test } from "bun:test";
import { is, SQL, sql, type Table } from "drizzle-orm";
import { bigint, getTableConfig as pgConfig, PgDialect, PgTable, pgTable, text as pgText, type PgColumn } from "drizzle-orm/pg-core";
import {
  getTableConfig as sqliteConfig, index as sqliteIndex, integer as sqliteInteger, SQLiteSyncDialect, SQLiteTable, sqliteTable,
  text as sqliteText, type SQLiteColumn,
} from "drizzle-orm/sqlite-core";
import * as sqlite from "../../src/storage/sqlite/schema.ts";
import * as postgres from "../../src/storage/postgres/schema.ts";

interface ColumnShape { type: string; notNull: boolean; default: unknown; generated: string | null; enum: string[] | null }
interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKey: string[];
  unique: string[];
  foreignKeys: string[];
  indexes: string[];
}

/** The kind of value a column holds, whatever the dialect's word for it. */
const KIND: Record<string, string> = {
  SQLiteInteger: "integer", SQLiteBoolean: "boolean", SQLiteText: "text", SQLiteTextJson: "json",
  PgBigInt53: "integer", PgInteger: "integer", PgBoolean: "boolean", PgText: "text", jsonb: "json", json: "json",
};

/**
 * An index expression in words both dialects share: quotes and table names dropped, and SQLite's
 * case-insensitive `x COLLATE NOCASE` read as the `lower(x)` PostgreSQL indexes instead.
 */
function indexTerm(term: string): string {
  const bare = term.replace(/"\w+"\."(\w+)"/g, "$1").replace(/"(\w+)"/g, "$1");
  const nocase = /^(\w+) COLLATE NOCASE$/i.exec(bare);
  return nocase ? `lower(${nocase[1]})` : bare;
}

type AnyConfig = ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>;

function shapeOf(config: AnyConfig, render: (s: SQL) => string, tableName: (t: Table) => string): TableShape {
  const columns = config.columns as (SQLiteColumn | PgColumn)[];
  const composite = config.primaryKeys.flatMap((k) => k.columns.map((c) => c.name));
  return {
    columns: Object.fromEntries(columns.map((c) => [c.name, {
      type: KIND[c.columnType === "PgCustomColumn" ? c.getSQLType() : c.columnType] ?? c.columnType,
      notNull: c.notNull,
      default: c.hasDefault ? (is(c.default, SQL) ? render(c.default) : c.default) : undefined,
      // An id the database assigns: AUTOINCREMENT in SQLite, an identity column in PostgreSQL.
      generated: (c as { autoIncrement?: boolean }).autoIncrement || c.generatedIdentity ? "assigned" : null,
      enum: c.enumValues ?? null,
    } satisfies ColumnShape])),
    primaryKey: composite.length ? composite : columns.filter((c) => c.primary).map((c) => c.name),
    unique: [
      ...columns.filter((c) => c.isUnique).map((c) => `${c.uniqueName}(${c.name})`),
      ...config.uniqueConstraints.map((u) => `${u.name}(${u.columns.map((c) => c.name).join(",")})`),
    ].sort(),
    foreignKeys: config.foreignKeys.map((f) => {
      const r = f.reference();
      return `${r.columns.map((c) => c.name).join(",")} -> ${tableName(r.foreignTable)}(${r.foreignColumns.map((c) => c.name).join(",")})`;
    }).sort(),
    indexes: config.indexes.map(({ config: ix }) => {
      const terms = ix.columns.map((c) => indexTerm(is(c, SQL) ? render(c) : (c as { name: string }).name));
      return `${ix.unique ? "unique " : ""}${ix.name} (${terms.join(", ")})${ix.where ? ` WHERE ${render(ix.where)}` : ""}`;
    }).sort(),
  };
}

const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();
const sqliteShape = (t: SQLiteTable) => shapeOf(sqliteConfig(t), (s) => sqliteDialect.sqlToQuery(s).sql, (f) => sqliteConfig(f as SQLiteTable).name);
const pgShape = (t: PgTable) => shapeOf(pgConfig(t), (s) => pgDialect.sqlToQuery(s).sql, (f) => pgConfig(f as PgTable).name);

const tablesOf = <T>(module: Record<string, unknown>, isTable: (v: unknown) => v is T, name: (t: T) => string) =>
  new Map(Object.values(module).filter(isTable).map((t) => [name(t), t]));
const sqliteTables = tablesOf(sqlite, (v): v is SQLiteTable => is(v, SQLiteTable), (t) => sqliteConfig(t).name);
const pgTables = tablesOf(postgres, (v): v is PgTable => is(v, PgTable), (t) => pgConfig(t).name);

/** Bounded counters kept as int4 in PostgreSQL; every other integer is int8 (times in ms, ids, Telegram ids). */
const INT4_COLUMNS = new Set([
  "postbacks.attempts", "postbacks.earlier_attempts", "postbacks.lease_token", "postbacks.last_http_status", "delivery_attempts.attempt",
  "delivery_attempts.duration_ms", "delivery_attempts.http_status", "lead_stats.events", "lead_stats.leads",
  "lead_stats.postbacks", "idempotency_keys.status_code", "lead_profiles.quality", "retention_counts.joined",
  "retention_counts.out_1d", "retention_counts.out_7d", "retention_counts.out_14d", "retention_counts.out_30d", "revenue_counts.events", "funnel_counts.starts", "funnel_counts.joins",
  "clicks.cut", "click_stats.span", "click_stats.events", "click_stats.leads",
]);

describe("the PostgreSQL schema mirrors the SQLite one", () => {
  test("the same tables", () => {
    expect(sqliteTables.size).toBeGreaterThan(10);
    expect([...pgTables.keys()].sort()).toEqual([...sqliteTables.keys()].sort());
  });

  for (const [name, table] of sqliteTables) {
    test(`${name}: columns, nullability, defaults, keys and indexes`, () => {
      const other = pgTables.get(name);
      expect(other).toBeDefined();
      expect(pgShape(other!)).toEqual(sqliteShape(table));
    });
  }

  test("integers are int8 (exact to 2^53 - 1, read as numbers) except the bounded counters", () => {
    const widths = [...pgTables].flatMap(([name, t]) => pgConfig(t).columns
      .filter((c) => KIND[c.columnType] === "integer")
      .map((c) => [`${name}.${c.name}`, c.getSQLType()] as const));
    expect(widths.length).toBeGreaterThan(40);
    for (const [column, type] of widths) expect({ column, type }).toEqual({ column, type: INT4_COLUMNS.has(column) ? "integer" : "bigint" });
    for (const [, t] of pgTables) {
      for (const c of pgConfig(t).columns) if (c.getSQLType() === "bigint") expect({ column: c.name, mode: c.columnType }).toEqual({ column: c.name, mode: "PgBigInt53" });
    }
  });
});

describe("the comparison itself", () => {
  // Two small tables alike but for one thing each: the shapes must differ, or the parity above proves nothing.
  const base = () => ({ id: sqliteInteger("id").primaryKey({ autoIncrement: true }), at: sqliteInteger("at").notNull() });
  const pgBase = () => ({ id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(), at: bigint("at", { mode: "number" }).notNull() });
  const sqliteT = sqliteTable("t", base());

  test("alike tables have equal shapes", () => {
    expect(pgShape(pgTable("t", pgBase()))).toEqual(sqliteShape(sqliteT));
  });

  test.each([
    ["a column added to one side", pgTable("t", { ...pgBase(), extra: pgText("extra") })],
    ["a nullability changed", pgTable("t", { ...pgBase(), at: bigint("at", { mode: "number" }) })],
    ["a default added", pgTable("t", { ...pgBase(), at: bigint("at", { mode: "number" }).notNull().default(0) })],
    ["an id no longer assigned", pgTable("t", { ...pgBase(), id: bigint("id", { mode: "number" }).primaryKey() })],
    ["a unique key added", pgTable("t", { ...pgBase(), at: bigint("at", { mode: "number" }).notNull().unique() })],
  ])("%s is a difference", (_, changed) => {
    expect(pgShape(changed)).not.toEqual(sqliteShape(sqliteT));
  });

  test("an index with another column or condition is a difference", () => {
    const withIndex = (cols: "at" | "id", where?: string) => sqliteTable("t", base(), (t) => [
      (where ? sqliteIndex("t_at").on(t[cols]).where(sql.raw(where)) : sqliteIndex("t_at").on(t[cols])),
    ]);
    expect(sqliteShape(withIndex("at"))).not.toEqual(sqliteShape(withIndex("id")));
    expect(sqliteShape(withIndex("at", "at > 0"))).not.toEqual(sqliteShape(withIndex("at")));
    expect(sqliteShape(sqliteTable("t", { ...base(), name: sqliteText("name") }))).not.toEqual(sqliteShape(sqliteT));
  });
});
