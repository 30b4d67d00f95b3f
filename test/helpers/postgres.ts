// PostgreSQL for tests: a database of its own per test file, cloned from a migrated template
// (CREATE DATABASE tgcpa_t_<random> TEMPLATE tgcpa_template, tens of ms) and dropped afterwards.
// The template is built when missing or when the embedded migrations changed (its comment holds
// their hash), under an advisory lock so concurrent test runs build it once and never clone it
// half-built. Without a reachable server the tests fail saying so; TGCPA_PG=off skips them instead.
import { SQL } from "bun";
import { afterAll, beforeAll, describe } from "bun:test";
import { randomBytes } from "node:crypto";
import { embeddedMigrations, migratePostgres } from "../../src/storage/postgres/migrate.ts";

/** The maintenance database of the server the tests use (trust auth on 127.0.0.1 here and in CI). */
export const PG_ADMIN_URL = process.env.TGCPA_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const PG_OFF = process.env.TGCPA_PG === "off";

const TEMPLATE = "tgcpa_template";
/** Advisory lock key of template builds and clones (distinct from the migrations' own lock). */
const TEMPLATE_LOCK = 0x74676370_61_02;
const START_HINT = "start it (pg_ctlcluster --skip-systemctl-redirect 15 main start; .ci/run does) or set TGCPA_PG=off to skip the PostgreSQL tests";

export interface TestDatabase {
  name: string;
  url: string;
}

/** The URL of database `name` on the tests' server. */
export const databaseUrl = (name: string) => {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

let admin: SQL | undefined;
let reachable: Promise<void> | undefined;

/** One admin connection per test process; a clear failure when the server is not there. */
async function adminSql(): Promise<SQL> {
  admin ??= new SQL(PG_ADMIN_URL, { max: 2, connectionTimeout: 5, idleTimeout: 5, connection: { application_name: "tgcpa_tests" } });
  reachable ??= admin`SELECT 1`.then(() => undefined, (err: unknown) => {
    throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(err as { code?: string }).code ?? (err as Error).message}): ${START_HINT}`);
  });
  await reachable;
  return admin;
}

const fingerprint = () => new Bun.CryptoHasher("sha256").update(embeddedMigrations().map((m) => `${m.tag}\n${m.sql}`).join("\n")).digest("hex");

/** Builds tgcpa_template unless it holds the current migrations. Called with TEMPLATE_LOCK held. */
async function ensureTemplate(conn: SQL) {
  const note = `tgcpa migrations ${fingerprint()}`;
  const [current] = await conn`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = ${TEMPLATE}`;
  if (current?.note === note) return;
  await conn.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await conn.unsafe(`CREATE DATABASE ${TEMPLATE} TEMPLATE template0`);
  const template = new SQL(databaseUrl(TEMPLATE), { max: 1 });
  try {
    await migratePostgres(template);
  } finally {
    await template.close();
  }
  // Written last: a build that died half-way has no note and is built again.
  await conn.unsafe(`COMMENT ON DATABASE ${TEMPLATE} IS '${note}'`);
}

/** A new database: a clone of the migrated template, or empty (template0) for migration tests. */
export async function createTestDatabase(options: { migrated: boolean }): Promise<TestDatabase> {
  const sql = await adminSql();
  const name = `tgcpa_t_${randomBytes(6).toString("hex")}`;
  const conn = await sql.reserve();
  try {
    // Builds and clones one at a time: CREATE DATABASE … TEMPLATE fails while anyone is connected to the template.
    await conn`SELECT pg_advisory_lock(${TEMPLATE_LOCK})`;
    try {
      if (options.migrated) await ensureTemplate(conn);
      await conn.unsafe(`CREATE DATABASE ${name} TEMPLATE ${options.migrated ? TEMPLATE : "template0"}`);
    } finally {
      await conn`SELECT pg_advisory_unlock(${TEMPLATE_LOCK})`;
    }
  } finally {
    conn.release();
  }
  return { name, url: databaseUrl(name) };
}

export async function dropTestDatabase(db: TestDatabase) {
  const sql = await adminSql();
  await sql.unsafe(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
}

let toldSkipped = false;

/**
 * describe() for tests that need PostgreSQL: skipped, saying so once, with TGCPA_PG=off; otherwise
 * its tests fail with the reason when the server cannot be reached.
 */
export function describePostgres(name: string, fn: () => void) {
  if (PG_OFF) {
    if (!toldSkipped) process.stderr.write("TGCPA_PG=off: the PostgreSQL tests are skipped\n");
    toldSkipped = true;
    describe.skip(`${name} (skipped: TGCPA_PG=off)`, fn);
    return;
  }
  describe(name, () => {
    beforeAll(() => adminSql().then(() => undefined));
    fn();
  });
}

/**
 * Inside describePostgres: a database for this describe block (migrated unless asked otherwise),
 * created before its first test and dropped after its last. Call the returned function in a test.
 */
export function useTestDatabase(options: { migrated: boolean } = { migrated: true }): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(options);
  }, 60_000);
  afterAll(async () => {
    if (db) await dropTestDatabase(db);
  });
  return () => {
    if (!db) throw new Error("the test database was not created (see the error before this one)");
    return db;
  };
}
