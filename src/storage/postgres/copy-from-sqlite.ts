// copy-to-postgres: every table of a SQLite tgcpa database into an empty, migrated PostgreSQL one,
// ids kept, in one PostgreSQL transaction (all or nothing), then each identity sequence moved past
// the copied ids. Rows go over in batches as one INSERT … SELECT FROM unnest(<one array per
// column>) each: one round trip and one prepared statement per batch, whatever its width, and no
// 65,535-parameter ceiling. The next batch is read from SQLite while the previous one is in flight.
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { StorageError } from "../sqlite/client.ts";
import { embeddedMigrations, MIGRATIONS_TABLE } from "./migrate.ts";
import * as schema from "./schema.ts";

export interface TableCount {
  table: string;
  /** Rows in the SQLite table. */
  source: number;
  /** Rows in the PostgreSQL table after the copy, counted inside the copy's transaction. */
  target: number;
}

export interface CopyOptions {
  /** Rows per INSERT; 5,000 rows of the widest table (postbacks, 23 columns) is a few MB. */
  batchRows?: number;
  /** Told when a table is done (the command line prints it). */
  onTable?: (count: TableCount) => void;
}

interface ColumnPlan { name: string; sqlType: string; arrayType: string; read: (v: unknown) => unknown }
interface TablePlan {
  name: string;
  columns: ColumnPlan[];
  /** Primary key columns: the order rows are read in, page after page (lead_stats has no rowid). */
  key: string[];
  identity: string | null;
}

const asBoolean = (v: unknown) => (v === null ? null : Boolean(v));
const asIs = (v: unknown) => v;

/** How a SQLite value of a column of PostgreSQL type `sqlType` is sent, and as an array of what. */
function columnPlan(name: string, sqlType: string): ColumnPlan {
  switch (sqlType) {
    case "bigint": return { name, sqlType, arrayType: "INT8", read: asIs };
    case "integer": return { name, sqlType, arrayType: "INT4", read: asIs };
    case "boolean": return { name, sqlType, arrayType: "BOOLEAN", read: asBoolean };
    case "text": return { name, sqlType, arrayType: "TEXT", read: asIs };
    // SQLite holds JSON as text; PostgreSQL parses it in the statement (::jsonb, ::json), so nothing is re-encoded.
    case "jsonb": case "json": return { name, sqlType, arrayType: "TEXT", read: asIs };
  }
  throw new Error(`copy-to-postgres: no mapping for column ${name} of type ${sqlType}`);
}

/** The tables of the PostgreSQL schema, parents before the tables whose foreign keys point at them. */
export function copyPlan(): TablePlan[] {
  const configs = (Object.values(schema) as unknown[]).filter((t): t is PgTable => is(t, PgTable)).map((t) => getTableConfig(t));
  const byName = new Map(configs.map((c) => [c.name, c]));
  const ordered: string[] = [];
  const visit = (name: string) => {
    if (ordered.includes(name)) return;
    for (const fk of byName.get(name)!.foreignKeys) {
      const parent = getTableConfig(fk.reference().foreignTable).name;
      if (parent !== name) visit(parent);
    }
    ordered.push(name);
  };
  for (const c of [...configs].sort((a, b) => a.name.localeCompare(b.name))) visit(c.name);
  return ordered.map((name) => {
    const c = byName.get(name)!;
    const composite = c.primaryKeys.flatMap((k) => k.columns.map((col) => col.name));
    return {
      name,
      columns: c.columns.map((col) => columnPlan(col.name, col.getSQLType())),
      key: composite.length ? composite : c.columns.filter((col) => col.primary).map((col) => col.name),
      identity: c.columns.find((col) => col.generatedIdentity)?.name ?? null,
    };
  });
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

function insertStatement(t: TablePlan): string {
  const names = t.columns.map((c) => quote(c.name)).join(", ");
  const arrays = t.columns.map((c, i) => `$${i + 1}::${c.arrayType === "BOOLEAN" ? "bool" : c.arrayType.toLowerCase()}[]`).join(", ");
  const picked = t.columns.map((c, i) => (c.sqlType === "jsonb" || c.sqlType === "json" ? `c${i}::${c.sqlType}` : `c${i}`)).join(", ");
  return `INSERT INTO ${quote(t.name)} (${names}) SELECT ${picked} FROM unnest(${arrays}) AS u(${t.columns.map((_, i) => `c${i}`).join(", ")})`;
}

/** Refuses a target that is not migrated to this build's schema, or that holds rows already. */
async function checkTarget(tx: SQL, plan: TablePlan[]) {
  const [{ present }] = await tx`SELECT to_regclass(${MIGRATIONS_TABLE}) IS NOT NULL AS present`;
  const applied = present ? new Set((await tx.unsafe(`SELECT tag FROM ${MIGRATIONS_TABLE}`) as { tag: string }[]).map((r) => r.tag)) : new Set<string>();
  const missing = embeddedMigrations().map((m) => m.tag).filter((tag) => !applied.has(tag));
  if (missing.length) {
    throw new StorageError(`the PostgreSQL database is not migrated to this version (missing: ${missing.join(", ")}); nothing was copied`);
  }
  const filled = await tx.unsafe(plan.map((t) => `SELECT '${t.name}' AS name FROM ${quote(t.name)} HAVING count(*) > 0`).join(" UNION ALL ")) as { name: string }[];
  if (filled.length) {
    throw new StorageError(`the PostgreSQL database is not empty (rows in ${filled.map((r) => r.name).join(", ")}); copy-to-postgres only fills an empty one, nothing was copied`);
  }
}

/** Copies one table in batches, in primary-key order (each page starts after the last key read). */
async function copyTable(source: Database, tx: SQL, t: TablePlan, batchRows: number): Promise<void> {
  const select = `SELECT ${t.columns.map((c) => quote(c.name)).join(", ")} FROM ${quote(t.name)}`;
  const order = `ORDER BY ${t.key.map(quote).join(", ")} LIMIT ?`;
  const first = source.query<Record<string, unknown>, [number]>(`${select} ${order}`);
  const next = source.query<Record<string, unknown>, (string | number | null)[]>(
    `${select} WHERE (${t.key.map(quote).join(", ")}) > (${t.key.map(() => "?").join(", ")}) ${order}`,
  );
  const insert = insertStatement(t);
  let last: Record<string, unknown> | undefined;
  let inFlight: Promise<unknown> | undefined;
  for (;;) {
    const rows = last ? next.all(...t.key.map((k) => last![k] as string | number), batchRows) : first.all(batchRows);
    if (rows.length === 0) break;
    last = rows[rows.length - 1];
    const params = t.columns.map((c) => tx.array(rows.map((r) => c.read(r[c.name] ?? null)), c.arrayType));
    await inFlight;
    // Started now (a query is lazy until then): the server stores this batch while the next is read.
    inFlight = tx.unsafe(insert, params).execute();
  }
  await inFlight;
}

/**
 * Copies `source` (a tgcpa SQLite database at this build's schema, not written meanwhile: hold its
 * instance lock) into `target`, an empty database migrated by this build. Resolves with the rows
 * per table on both sides; a difference, like any failure, rolls the whole copy back.
 */
export async function copySqliteToPostgres(source: Database, target: SQL, options: CopyOptions = {}): Promise<TableCount[]> {
  const { batchRows = 5000, onTable } = options;
  const plan = copyPlan();
  source.run("BEGIN"); // one snapshot of the source for the reads and the counts
  try {
    return await target.begin(async (tx) => {
      await checkTarget(tx, plan);
      const counts: TableCount[] = [];
      for (const t of plan) {
        const sourceRows = (source.query(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n;
        await copyTable(source, tx, t, batchRows);
        if (t.identity) {
          // The next id the database assigns follows the largest copied one (an empty table keeps 1).
          await tx.unsafe(`SELECT setval(pg_get_serial_sequence($1, $2), max_id) FROM (SELECT max(${quote(t.identity)}) AS max_id FROM ${quote(t.name)}) m
            WHERE max_id IS NOT NULL`, [t.name, t.identity]);
        }
        const [{ n }] = await tx.unsafe(`SELECT count(*)::int8 AS n FROM ${quote(t.name)}`);
        const count = { table: t.name, source: sourceRows, target: Number(n) };
        if (count.target !== count.source) {
          throw new StorageError(`copy-to-postgres: ${t.name} has ${count.source} rows in SQLite but ${count.target} in PostgreSQL; nothing was copied`);
        }
        counts.push(count);
        onTable?.(count);
      }
      return counts;
    });
  } finally {
    source.run("COMMIT");
  }
}
