// Which engine the started services run on, and the database behind a service as a test reads it.
// TGCPA_TEST_STORAGE=postgres runs every service the helpers start (in-process and subprocess) on
// PostgreSQL: each `storage.path` a test writes stands for a database of its own (a clone of the
// migrated template, test/helpers/postgres.ts), so a service restarted on the same path finds the
// same database. Default: SQLite, as the config says.
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { test } from "bun:test";
import { resolve } from "node:path";
import { createTestDatabase, dropTestDatabase, type TestDatabase } from "../postgres.ts";

export const TEST_STORAGE: "sqlite" | "postgres" = process.env.TGCPA_TEST_STORAGE === "postgres" ? "postgres" : "sqlite";
export const onPostgres = TEST_STORAGE === "postgres";

/**
 * `test`, or on PostgreSQL a skipped test saying why: for what only SQLite has (a file another
 * process locks, a full disk, the instance lock, backup and restore of the file, PRAGMAs).
 */
export const sqliteOnly = (why: string): typeof test => (onPostgres
  ? ((name: string, fn: () => unknown, timeout?: number) => test.skip(`${name} [SQLite only: ${why}]`, fn as () => void, timeout))
  : test) as typeof test;

/** The PostgreSQL database of each SQLite path a test named (created on first use). */
const databases = new Map<string, Promise<TestDatabase>>();

/**
 * The storage section for a service whose config (in `configDir`) names a SQLite path: itself on
 * SQLite, that path's own database on PostgreSQL.
 */
export async function storageFor(storage: Record<string, unknown> | undefined, configDir: string): Promise<Record<string, unknown> | undefined> {
  if (!onPostgres || storage?.driver === "postgres") return storage;
  const path = resolve(configDir, String(storage?.path ?? "data/tgcpa.db"));
  return { ...storage, driver: "postgres", url: (await databaseOf(path)).url, pool_size: 4 };
}

function databaseOf(path: string): Promise<TestDatabase> {
  let db = databases.get(path);
  if (!db) {
    db = createTestDatabase({ migrated: true });
    databases.set(path, db);
  }
  return db;
}

/** Drops the databases of paths under `prefix` (a test's temp dir, when it is removed). */
export async function dropDatabasesUnder(prefix: string) {
  for (const [path, db] of [...databases]) {
    if (!path.startsWith(prefix)) continue;
    databases.delete(path);
    await dropTestDatabase(await db).catch(() => {});
  }
}

/** Rows as a test reads them: numbers for every integer (int8 included), JSON columns as text. */
export interface TestDb {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T | null>;
  run(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The database a service runs on, from outside the service, as a test looks at rows: the SQLite
 * file at `path`, or the PostgreSQL database that stands for it. SQL is written with `?`
 * placeholders and in words both engines share (CAST(x AS INTEGER), not ::int).
 */
export async function openTestDb(path: string, opts: { readonly?: boolean } = {}): Promise<TestDb> {
  path = resolve(path);
  if (!onPostgres) {
    const db = new Database(path, { readonly: opts.readonly ?? false });
    db.run("PRAGMA busy_timeout = 5000");
    return {
      all: async (text, params = []) => db.query(text).all(...(params as [])) as never[],
      get: async (text, params = []) => (db.query(text).get(...(params as [])) ?? null) as never,
      run: async (text, params = []) => void db.query(text).run(...(params as [])),
      close: async () => db.close(),
    };
  }
  // bigint: int8 as BigInt, turned into numbers here (tgcpa's values stay below 2^53); text stays text.
  const sql = new SQL((await databaseOf(path)).url, { max: 1, bigint: true });
  const positional = (text: string) => {
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  };
  const rows = async (text: string, params: unknown[]) => {
    const result = await sql.unsafe(positional(text), params) as Record<string, unknown>[];
    return [...result].map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : jsonText(v)])));
  };
  return {
    all: (text, params = []) => rows(text, params) as never,
    get: async (text, params = []) => ((await rows(text, params))[0] ?? null) as never,
    run: async (text, params = []) => void (await sql.unsafe(positional(text), params)),
    close: () => sql.close(),
  };
}

/** jsonb reads back as a value; SQLite keeps JSON as text: a test sees text on both. */
const jsonText = (v: unknown) => (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype ? JSON.stringify(v) : v);

/** One query against the service's database, opened and closed around it. */
export async function queryDb<T = Record<string, unknown>>(path: string, text: string, params: unknown[] = []): Promise<T[]> {
  const db = await openTestDb(path, { readonly: true });
  try {
    return await db.all<T>(text, params);
  } finally {
    await db.close();
  }
}
