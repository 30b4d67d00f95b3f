import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { Synchronous } from "../config/model.ts";
import type { Logger } from "../lib/logger.ts";
import { migrationJournal, migrationSql } from "./migrations.generated.ts";
import * as schema from "./schema.ts";

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

export interface OpenOptions {
  path: string;
  synchronous: Synchronous;
  busy_timeout_ms?: number;
  /** Told which migrations are applied and how long they took. */
  log?: Pick<Logger, "info" | "debug">;
}

/** Opens the database in WAL mode and applies pending migrations (embedded in the binary). */
export function openDatabase({ path, synchronous, busy_timeout_ms = 5000, log }: OpenOptions): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run(`PRAGMA synchronous = ${synchronous}`);
  sqlite.run(`PRAGMA busy_timeout = ${Math.trunc(busy_timeout_ms)}`);
  sqlite.run("PRAGMA foreign_keys = ON");
  sqlite.run("PRAGMA temp_store = MEMORY"); // group-commit savepoints would otherwise spill to a temp file
  const db = drizzle({ client: sqlite, schema }) as Db;
  migrate(db, log);
  return db;
}

function migrate(db: Db, log: OpenOptions["log"]) {
  const migrations: MigrationMeta[] = migrationJournal.entries.map((entry) => {
    const text = migrationSql[entry.tag]!;
    return {
      sql: text.split("--> statement-breakpoint"),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
    };
  });
  // drizzle applies every migration newer than the last one recorded, all in one transaction.
  const pending = migrationJournal.entries.filter((entry) => entry.when > lastMigrationAt(db.$client)).map((entry) => entry.tag);
  if (pending.length === 0) {
    log?.debug({ migrations: migrations.length }, "database schema is up to date");
    return;
  }
  log?.info({ migrations: pending }, `database: applying ${pending.length} migration(s)`);
  const started = performance.now();
  // The public migrate() reads a folder from disk; the binary has the files embedded instead.
  (db as unknown as { dialect: { migrate(m: MigrationMeta[], s: unknown, c: object): void }; session: unknown })
    .dialect.migrate(migrations, (db as unknown as { session: unknown }).session, {});
  log?.info({ migrations: pending, ms: Math.round(performance.now() - started) }, `database: ${pending.length} migration(s) applied`);
}

/** created_at of the newest applied migration (drizzle's bookkeeping table); -1 for a new database. */
export function lastMigrationAt(sqlite: Database): number {
  const table = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (!table) return -1;
  return (sqlite.query("SELECT max(created_at) AS at FROM __drizzle_migrations").get() as { at: number | null }).at ?? -1;
}
