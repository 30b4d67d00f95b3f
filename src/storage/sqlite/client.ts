import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { migrate as drizzleMigrate } from "drizzle-orm/bun-sqlite/migrator";
import type { Synchronous } from "../../config/model.ts";
import type { Logger } from "../../lib/logger.ts";
import { migrationJournal, migrationSql } from "./migrations.generated.ts";
import { foreignWal, orphanedCompanion } from "./wal-companions.ts";
import * as schema from "./schema.ts";

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

export interface OpenOptions {
  path: string;
  synchronous: Synchronous;
  busy_timeout_ms?: number;
  /** Told which migrations are applied and how long they took. */
  log?: Pick<Logger, "info" | "debug">;
}

/** The database cannot be opened or is not tgcpa's: the message names the file and what to do. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
  }
}

const RESTORE = "restore it from a backup (tgcpa backup FILE makes one), or move it away to start with an empty database";

/**
 * Opens the database in WAL mode and applies pending migrations (embedded in the binary). Only a
 * missing file is created fresh: an existing one that is empty (0 bytes), not SQLite, or holds
 * another program's tables stops the start with a StorageError naming it — migrating it would
 * serve an empty database in place of the leads it lost.
 */
export function openDatabase({ path, synchronous, busy_timeout_ms = 5000, log }: OpenOptions): Db {
  const memory = path === ":memory:";
  if (!memory) checkExistingFile(path);
  let sqlite: Database | undefined;
  try {
    if (!memory) mkdirSync(dirname(path), { recursive: true });
    sqlite = new Database(path, { create: true, strict: true });
    if (!memory) checkSchema(sqlite, path); // before anything writes to it
    sqlite.run("PRAGMA journal_mode = WAL");
    sqlite.run(`PRAGMA synchronous = ${synchronous}`);
    sqlite.run(`PRAGMA busy_timeout = ${Math.trunc(busy_timeout_ms)}`);
    sqlite.run("PRAGMA foreign_keys = ON");
    sqlite.run("PRAGMA temp_store = MEMORY"); // group-commit savepoints would otherwise spill to a temp file
    const db = drizzle({ client: sqlite, schema }) as Db;
    migrate(db, log);
    return db;
  } catch (err) {
    sqlite?.close();
    if (err instanceof StorageError) throw err;
    throw new StorageError(`database ${path}: ${describeOpenError(err)}`, { cause: err });
  }
}

function checkExistingFile(path: string) {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return refuseOrphans(path); // created fresh, unless its -wal/-shm are there
    throw new StorageError(`database ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (!stat.isFile()) throw new StorageError(`database ${path}: is not a file; point storage.path at a file`);
  if (stat.size === 0) {
    throw new StorageError(`database ${path} is empty (0 bytes): it was truncated, or something else created it. Nothing was changed; ${RESTORE}`);
  }
  refuseForeignWal(path);
}

/** A -wal or -shm without its database holds (or indexes) commits of a database that was moved: SQLite would delete them. */
function refuseOrphans(path: string) {
  const orphan = orphanedCompanion(path);
  if (orphan) throw new StorageError(orphan);
}

function refuseForeignWal(path: string) {
  const foreign = foreignWal(path);
  if (foreign) throw new StorageError(foreign);
}

/** An existing SQLite file must hold tgcpa's tables, or no table at all (nothing to lose: it is migrated). */
function checkSchema(sqlite: Database, path: string) {
  const tables = sqlite.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all().map((t) => t.name);
  if (tables.length === 0 || (tables.includes("__drizzle_migrations") && tables.includes("leads"))) return;
  const shown = tables.length > 5 ? `${tables.slice(0, 5).join(", ")}, …` : tables.join(", ");
  throw new StorageError(`database ${path} is not tgcpa's (its tables: ${shown}). Nothing was changed; point storage.path at tgcpa's database, or move this file away to start with an empty database`);
}

function describeOpenError(err: unknown): string {
  const code = (err as { code?: string }).code ?? "";
  const message = (err as Error).message;
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) return `${message}: the file is not a SQLite database, or it is damaged. Nothing was changed; ${RESTORE}`;
  if (code.startsWith("SQLITE_CANTOPEN") || code === "EACCES" || code === "EROFS") return `${message}: check that its folder exists and this user may write there`;
  if (code.startsWith("SQLITE_READONLY")) return `${message}: the file or its folder is read-only for this user`;
  if (code.startsWith("SQLITE_BUSY")) return `${message}: another process holds a lock on it`;
  return code ? `${message} (${code})` : message;
}

/**
 * Applies the migrations not yet applied, with drizzle's own migrator: each in order, all in one
 * transaction, recorded in __drizzle_migrations. The migrator reads a folder; the binary carries
 * the files embedded (migrations.generated.ts), so they are written to a temporary folder first —
 * only when there is something to apply.
 */
function migrate(db: Db, log: OpenOptions["log"]) {
  // drizzle applies every migration newer than the last one recorded.
  const pending = migrationJournal.entries.filter((entry) => entry.when > lastMigrationAt(db.$client)).map((entry) => entry.tag);
  if (pending.length === 0) {
    log?.debug({ migrations: migrationJournal.entries.length }, "database schema is up to date");
    return;
  }
  log?.info({ migrations: pending }, `database: applying ${pending.length} migration(s)`);
  const started = performance.now();
  const folder = mkdtempSync(join(tmpdir(), "tgcpa-migrations-"));
  try {
    mkdirSync(join(folder, "meta"));
    writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify(migrationJournal));
    for (const entry of migrationJournal.entries) writeFileSync(join(folder, `${entry.tag}.sql`), migrationSql[entry.tag]!);
    drizzleMigrate(db, { migrationsFolder: folder });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  log?.info({ migrations: pending, ms: Math.round(performance.now() - started) }, `database: ${pending.length} migration(s) applied`);
}

/** created_at of the newest applied migration (drizzle's bookkeeping table); -1 for a new database. */
export function lastMigrationAt(sqlite: Database): number {
  const table = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (!table) return -1;
  return (sqlite.query("SELECT max(created_at) AS at FROM __drizzle_migrations").get() as { at: number | null }).at ?? -1;
}
