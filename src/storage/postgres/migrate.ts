// Applies the embedded PostgreSQL migrations (db/migrations-pg) once, however many instances start
// together: the whole check-and-apply runs under one session advisory lock held on one reserved
// connection, so the second instance waits, then finds nothing pending. What was applied is
// recorded in tgcpa_migrations (tag, SHA-256 of its SQL, time in epoch ms).
import type { SQL } from "bun";
import type { Logger } from "../../lib/logger.ts";
import { migrationJournal, migrationSql } from "./migrations.generated.ts";

/** The advisory lock key of the migrations: any constant no other lock of tgcpa's uses ("tgcpa" + 1). */
export const MIGRATION_LOCK = 0x74676370_61_01n;
export const MIGRATIONS_TABLE = "tgcpa_migrations";

export interface Migration { tag: string; sql: string }

export interface MigrateResult {
  /** Tags applied now, in order (empty when the database was up to date). */
  applied: string[];
  /** Tags recorded in the database that this build does not have: a newer tgcpa migrated it. */
  unknown: string[];
}

/** The migrations embedded in this build, in their journal's order. */
export const embeddedMigrations = (): Migration[] =>
  migrationJournal.entries.map((e) => ({ tag: e.tag, sql: migrationSql[e.tag]! }));

const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");

/**
 * Brings the database up to date: every pending migration in one transaction (PostgreSQL's DDL is
 * transactional, so a failing one leaves none of them applied). `now` is epoch ms.
 */
export async function migratePostgres(
  sql: SQL,
  options: { now?: () => number; log?: Pick<Logger, "info" | "warn" | "debug">; migrations?: Migration[] } = {},
): Promise<MigrateResult> {
  const { now = Date.now, log, migrations = embeddedMigrations() } = options;
  const conn = await sql.reserve();
  try {
    // A session lock, not a transaction one: it must cover the CREATE TABLE of the bookkeeping table
    // and the read of what is applied as well as the migrations' own transaction.
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK.toString()}::int8)`;
    try {
      await conn.unsafe(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        tag text PRIMARY KEY, hash text NOT NULL, applied_at bigint NOT NULL)`);
      const recorded = new Map((await conn.unsafe(`SELECT tag, hash FROM ${MIGRATIONS_TABLE}`) as { tag: string; hash: string }[])
        .map((r) => [r.tag, r.hash]));
      const known = new Set(migrations.map((m) => m.tag));
      const unknown = [...recorded.keys()].filter((tag) => !known.has(tag)).sort();
      if (unknown.length) log?.warn({ unknown }, "database: migrations this build does not know were applied (by a newer tgcpa)");
      for (const m of migrations) {
        const hash = recorded.get(m.tag);
        if (hash !== undefined && hash !== sha256(m.sql)) log?.warn({ migration: m.tag }, "database: an applied migration differs from this build's copy");
      }
      const pending = migrations.filter((m) => !recorded.has(m.tag));
      if (pending.length === 0) {
        log?.debug({ migrations: migrations.length }, "database schema is up to date");
        return { applied: [], unknown };
      }
      const tags = pending.map((m) => m.tag);
      log?.info({ migrations: tags }, `database: applying ${pending.length} migration(s)`);
      const started = performance.now();
      await conn.begin(async (tx) => {
        for (const m of pending) {
          for (const statement of m.sql.split("--> statement-breakpoint")) if (statement.trim()) await tx.unsafe(statement);
          await tx.unsafe(`INSERT INTO ${MIGRATIONS_TABLE} (tag, hash, applied_at) VALUES ($1, $2, $3)`, [m.tag, sha256(m.sql), now()]);
        }
      });
      log?.info({ migrations: tags, ms: Math.round(performance.now() - started) }, `database: ${pending.length} migration(s) applied`);
      return { applied: tags, unknown };
    } finally {
      // Also released by the server when the connection ends; a failed unlock must not hide the error above.
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK.toString()}::int8)`.catch(() => {});
    }
  } finally {
    conn.release();
  }
}
