// Whether a backup's schema is tgcpa's, exactly as this binary's migrations build it: the same
// tables with the same columns, the same indexes, and nothing else (no trigger, view or table tgcpa
// does not create). The expected schema is not written down anywhere: it is made by migrating an
// in-memory database with the embedded migrations, so it can never drift from what `serve` builds.
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { migrationJournal, migrationSql } from "../storage/sqlite/migrations.generated.ts";

interface SchemaObject {
  type: string;
  name: string;
  table: string;
  /** The CREATE statement with its blanks collapsed; null for SQLite's own automatic indexes. */
  sql: string | null;
}

/** What a database's schema is, read through sqlite_master and the table and index pragmas. */
export interface Schema {
  objects: Map<string, SchemaObject>;
  /** table → its columns as `name type [not null] [default …] [pk n]`. */
  columns: Map<string, string[]>;
  /** table → its indexes as `name unique? origin partial?: columns`. */
  indexes: Map<string, string[]>;
  /** created_at of each applied migration, oldest first, with its hash. */
  migrations: { at: number; hash: string }[];
}

const key = (o: { type: string; name: string }) => `${o.type} ${o.name}`;
const collapse = (sql: string | null) => sql?.replace(/\s+/g, " ").trim() ?? null;
const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function readSchema(db: Database): Schema {
  const rows = db.query("SELECT type, name, tbl_name AS tbl, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as
    { type: string; name: string; tbl: string; sql: string | null }[];
  const objects = new Map(rows.map((r) => [key(r), { type: r.type, name: r.name, table: r.tbl, sql: collapse(r.sql) }]));
  const columns = new Map<string, string[]>();
  const indexes = new Map<string, string[]>();
  for (const t of rows.filter((r) => r.type === "table")) {
    const info = db.query(`PRAGMA table_info(${quoted(t.name)})`).all() as { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[];
    columns.set(t.name, info.map((c) => [c.name, c.type, c.notnull ? "not null" : "", c.dflt_value === null ? "" : `default ${c.dflt_value}`, c.pk ? `pk ${c.pk}` : ""].filter(Boolean).join(" ")));
    const list = db.query(`PRAGMA index_list(${quoted(t.name)})`).all() as { name: string; unique: number; origin: string; partial: number }[];
    indexes.set(t.name, list.map((i) => {
      const cols = (db.query(`PRAGMA index_info(${quoted(i.name)})`).all() as { name: string | null }[]).map((c) => c.name ?? "(expression)");
      return `${i.name}${i.unique ? " unique" : ""} ${i.origin}${i.partial ? " partial" : ""}: ${cols.join(", ")}`;
    }).sort());
  }
  const hasJournal = rows.some((r) => r.type === "table" && r.name === "__drizzle_migrations");
  const migrations = hasJournal
    ? (db.query("SELECT created_at AS at, hash FROM __drizzle_migrations ORDER BY created_at").all() as { at: number; hash: string }[])
    : [];
  return { objects, columns, indexes, migrations };
}

const expected = new Map<number, Schema>();

/**
 * The schema of a database that has the first `count` embedded migrations applied, made by
 * drizzle's own migrator on an in-memory database (as db/client.ts applies them at start).
 */
export function migratedSchema(count: number): Schema {
  const cached = expected.get(count);
  if (cached) return cached;
  const entries = migrationJournal.entries.slice(0, count);
  const folder = mkdtempSync(join(tmpdir(), "tgcpa-schema-"));
  const sqlite = new Database(":memory:");
  try {
    mkdirSync(join(folder, "meta"));
    writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify({ ...migrationJournal, entries }));
    for (const entry of entries) writeFileSync(join(folder, `${entry.tag}.sql`), migrationSql[entry.tag]!);
    migrate(drizzle({ client: sqlite }), { migrationsFolder: folder });
    const schema = readSchema(sqlite);
    expected.set(count, schema);
    return schema;
  } finally {
    sqlite.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

const MAX_SHOWN = 5;
const list = (items: string[]) => (items.length > MAX_SHOWN ? `${items.slice(0, MAX_SHOWN).join(", ")}, … (${items.length} in all)` : items.join(", "));

/**
 * How `actual` differs from `wanted`, one line per difference (empty: the same). Objects first
 * (missing ones, then ones tgcpa does not create), then each common table's columns and indexes.
 */
export function schemaDifferences(actual: Schema, wanted: Schema): string[] {
  const out: string[] = [];
  const missing = [...wanted.objects.keys()].filter((k) => !actual.objects.has(k));
  const extra = [...actual.objects.keys()].filter((k) => !wanted.objects.has(k));
  if (missing.length) out.push(`it lacks ${list(missing)}`);
  if (extra.length) out.push(`it has what tgcpa does not create: ${list(extra.map((k) => `${k} (on ${actual.objects.get(k)!.table})`))}`);
  for (const [table, want] of wanted.columns) {
    const have = actual.columns.get(table);
    if (!have) continue;
    if (have.join("|") !== want.join("|")) out.push(`table ${table} has the columns [${have.join("; ")}], tgcpa's [${want.join("; ")}]`);
    const haveIdx = actual.indexes.get(table) ?? [];
    const wantIdx = wanted.indexes.get(table) ?? [];
    if (haveIdx.join("|") !== wantIdx.join("|")) out.push(`table ${table} has the indexes [${haveIdx.join("; ")}], tgcpa's [${wantIdx.join("; ")}]`);
  }
  // Same names and columns but another definition (a CHECK, a foreign key, an index's WHERE).
  for (const [k, want] of wanted.objects) {
    const have = actual.objects.get(k);
    if (have && have.sql !== want.sql && !out.some((line) => line.includes(` ${have.table} `))) out.push(`${k} is defined as ${have.sql}, tgcpa's as ${want.sql}`);
  }
  return out;
}

/** Which prefix of the embedded migrations a database's journal is; null when it is none (another history, or a newer version). */
export function appliedPrefix(schema: Schema): { count: number } | { newer: true } | null {
  const known = migratedSchema(migrationJournal.entries.length).migrations;
  const applied = schema.migrations;
  if (applied.length > known.length || applied.some((m) => m.at > known.at(-1)!.at)) return { newer: true };
  for (let i = 0; i < applied.length; i++) {
    if (applied[i]!.at !== known[i]!.at || applied[i]!.hash !== known[i]!.hash) return null;
  }
  return { count: applied.length };
}
