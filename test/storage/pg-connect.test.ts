// Opening the PostgreSQL pool (src/storage/postgres/connect.ts) and reading its failures in the
// storage vocabulary: a start that cannot reach the database says where and what to check, with
// the password hidden; transient failures read as "unavailable, retry" (lib/errors.ts), others not.
import { expect, test } from "bun:test";
import { StorageError } from "../../src/storage/sqlite/client.ts";
import { isStorageUnavailable } from "../../src/lib/errors.ts";
import { openPostgres, redactUrl } from "../../src/storage/postgres/connect.ts";
import { freePort } from "../helpers/net.ts";
import { databaseUrl, describePostgres, useTestDatabase } from "../helpers/postgres.ts";

const SECRET = "s3cr3t-Pa55";

/** The StorageError openPostgres throws for `url`. */
async function openError(url: string): Promise<StorageError> {
  const err = await openPostgres({ url, pool_size: 2 }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

test.each([
  ["SQLite busy", true, { code: "SQLITE_BUSY" }],
  ["SQLite disk full", true, { code: "SQLITE_FULL" }],
  ["SQLite constraint", false, { code: "SQLITE_CONSTRAINT_UNIQUE" }],
  ["connection refused", true, { code: "ERR_POSTGRES_CONNECTION_REFUSED" }],
  ["connection closed", true, { code: "ERR_POSTGRES_CONNECTION_CLOSED" }],
  ["connect timeout", true, { code: "ERR_POSTGRES_CONNECTION_TIMEOUT" }],
  ["admin shutdown", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "57P01" }],
  ["crash shutdown", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "57P02" }],
  ["server starting", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "57P03" }],
  ["connection failure", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "08006" }],
  ["too many connections", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "53300" }],
  ["disk full", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "53100" }],
  ["serialization failure", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "40001" }],
  ["deadlock", true, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "40P01" }],
  ["unique violation", false, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "23505" }],
  ["syntax error", false, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "42601" }],
  ["query cancelled", false, { code: "ERR_POSTGRES_SERVER_ERROR", errno: "57014" }],
  ["a SQLSTATE-like errno on another error", false, { code: "EOTHER", errno: "08006" }],
  // A tracker's refused connection (fetch) is the tracker's trouble, never the storage's.
  ["a socket error", false, { code: "ECONNREFUSED", errno: -111 }],
  ["no code", false, new Error("x")],
  ["not an object", false, null],
])("isStorageUnavailable: %s → %p", (_, expected, err) => {
  expect(isStorageUnavailable(err)).toBe(expected);
});

test.each([
  ["postgres://tgcpa:pw@db.example:5432/tgcpa", "postgres://tgcpa:***@db.example:5432/tgcpa"],
  ["postgresql://tgcpa@db.example/tgcpa?sslmode=require", "postgresql://tgcpa@db.example/tgcpa?sslmode=require"],
  ["postgres://u:p%40ss@h/db?password=pw2&application_name=a", "postgres://u:***@h/db?password=***&application_name=a"],
  ["not a url", "(storage.url is not a URL)"],
])("redactUrl(%p) = %p", (url, shown) => {
  expect(redactUrl(url)).toBe(shown);
});

describePostgres("openPostgres", () => {
  const db = useTestDatabase();

  test("a server that is not there: a StorageError naming it (password hidden), its cause reads as unavailable", async () => {
    const port = await freePort();
    const err = await openError(`postgres://tgcpa:${SECRET}@127.0.0.1:${port}/tgcpa`);
    expect(err.message).toBe(`PostgreSQL at postgres://tgcpa:***@127.0.0.1:${port}/tgcpa: connection refused: check the host and port in storage.url and that the server is running`);
    expect(isStorageUnavailable(err.cause)).toBe(true);
  }, 30_000);

  test("a database that does not exist, a role that does not exist: said so, with what to do, never the password", async () => {
    const missing = new URL(databaseUrl("tgcpa_no_such_db"));
    missing.password = SECRET;
    const noDb = await openError(missing.toString());
    expect(noDb.message).toContain('database "tgcpa_no_such_db" does not exist: create it (createdb), or fix the database name in storage.url');
    const role = new URL(db().url);
    role.username = "tgcpa_no_such_role";
    role.password = SECRET;
    const noRole = await openError(role.toString());
    expect(noRole.message).toContain('role "tgcpa_no_such_role" does not exist: check the user and password in storage.url');
    for (const e of [noDb, noRole]) expect(e.message).not.toContain(SECRET);
    expect(isStorageUnavailable(noDb.cause)).toBe(false);
  }, 30_000);

  test("an open pool keeps to pool_size connections and names them; after close a query reads as unavailable", async () => {
    const pool = await openPostgres({ url: db().url, pool_size: 2, application_name: "tgcpa_pool_size_test" });
    expect(pool.shown).toBe(db().url);
    await Promise.all([1, 2, 3, 4, 5].map(() => pool.sql`SELECT pg_sleep(0.05)`));
    const [{ n }] = await pool.sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tgcpa_pool_size_test'`;
    expect(n).toBe(2);
    await pool.close();
    const err = await pool.sql`SELECT 1`.then(() => null, (e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ERR_POSTGRES_CONNECTION_CLOSED");
    expect(isStorageUnavailable(err)).toBe(true);
  }, 30_000);
});
