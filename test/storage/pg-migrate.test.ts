// PostgreSQL migrations (src/storage/postgres/migrate.ts): embedded like SQLite's, applied once when
// several instances start together on an empty database (real processes), all or nothing, and what
// they build is the schema src/storage/postgres/schema.ts declares.
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { is } from "drizzle-orm";
import { MIGRATION_SETS, renderMigrationsModule } from "../../scripts/embed-migrations.ts";
import { embeddedMigrations, migratePostgres, MIGRATIONS_TABLE } from "../../src/storage/postgres/migrate.ts";
import * as schema from "../../src/storage/postgres/schema.ts";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { createTestDatabase, describePostgres, dropTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { REPO_ROOT, trackChild } from "../helpers/service/subprocess.ts";

const cleanup = cleanupAfterEach();

test("the embedded PostgreSQL migrations match db/migrations-pg", () => {
  expect(readFileSync(MIGRATION_SETS.postgres.module, "utf8")).toBe(renderMigrationsModule("postgres"));
  expect(embeddedMigrations().map((m) => m.tag)).toEqual(
    (JSON.parse(readFileSync("db/migrations-pg/meta/_journal.json", "utf8")) as { entries: { tag: string }[] }).entries.map((e) => e.tag));
});

const schemaTables = (Object.values(schema) as unknown[]).filter((t): t is PgTable => is(t, PgTable)).map((t) => getTableConfig(t));

describePostgres("PostgreSQL migrations", () => {
  /** An empty database (no template) of this test's own, dropped after it. */
  const emptyDatabase = async (): Promise<{ db: TestDatabase; sql: SQL }> => {
    const db = await createTestDatabase({ migrated: false });
    const sql = new SQL(db.url, { max: 2 });
    cleanup.push(() => dropTestDatabase(db));
    cleanup.push(() => sql.close());
    return { db, sql };
  };
  const recorded = async (sql: SQL) => (await sql.unsafe(`SELECT tag FROM ${MIGRATIONS_TABLE} ORDER BY tag`) as { tag: string }[]).map((r) => r.tag);
  const publicTables = async (sql: SQL) =>
    (await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`).map((r: { table_name: string }) => r.table_name);
  const tags = embeddedMigrations().map((m) => m.tag);

  test("3 instances starting together on an empty database: the migrations are applied once, and all three see the schema", async () => {
    const { db, sql } = await emptyDatabase();
    const children = [1, 2, 3].map(() => trackChild(Bun.spawn([process.execPath, join(REPO_ROOT, "test/helpers/postgres-migrator-child.ts"), db.url], {
      cwd: REPO_ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe",
    })));
    cleanup.push(() => children.forEach((c) => c.kill("SIGKILL")));
    const lines = children.map((c) => c.stdout.pipeThrough(new TextDecoderStream()).getReader());
    const errors = children.map((c) => new Response(c.stderr).text());
    const nextLine = async (reader: (typeof lines)[number], buffered: { text: string }, i: number) => {
      while (!buffered.text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`instance ${i + 1} ended before a line; it wrote ${JSON.stringify(buffered.text)}, and on stderr: ${await errors[i]}`);
        buffered.text += value;
      }
      const [line, ...rest] = buffered.text.split("\n");
      buffered.text = rest.join("\n");
      return line!;
    };
    const buffers = children.map(() => ({ text: "" }));
    expect(await Promise.all(lines.map((r, i) => nextLine(r, buffers[i]!, i)))).toEqual(["ready", "ready", "ready"]);
    for (const c of children) {
      c.stdin.write("go\n");
      c.stdin.flush();
    }
    const results = (await Promise.all(lines.map((r, i) => nextLine(r, buffers[i]!, i)))).map((l) => JSON.parse(l) as { applied: string[]; tables: string[] });
    expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0]);

    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, tags.length]);
    expect(results.find((r) => r.applied.length)!.applied).toEqual(tags);
    const expectedTables = [...schemaTables.map((t) => t.name), MIGRATIONS_TABLE].sort();
    for (const r of results) expect(r.tables).toEqual(expectedTables);
    expect(await recorded(sql)).toEqual(tags);
  }, 60_000);

  test("a failing migration leaves none of the pending ones applied, and the next start applies them", async () => {
    const { sql } = await emptyDatabase();
    const broken = [...embeddedMigrations(), { tag: "9999_broken", sql: "CREATE TABLE tgcpa_half (id int);\n--> statement-breakpoint\nSELECT no_such_column FROM leads" }];
    const err = await migratePostgres(sql, { migrations: broken }).then(() => null, (e: unknown) => e);
    expect((err as { errno?: string }).errno).toBe("42703"); // undefined_column
    expect(await publicTables(sql)).toEqual([MIGRATIONS_TABLE]);
    expect(await recorded(sql)).toEqual([]);

    expect((await migratePostgres(sql)).applied).toEqual(tags);
    expect(await migratePostgres(sql)).toEqual({ applied: [], unknown: [] });
  }, 30_000);

  test("a database migrated by a newer build: its extra migrations are reported, nothing is applied again", async () => {
    const { sql } = await emptyDatabase();
    await migratePostgres(sql, { migrations: [...embeddedMigrations(), { tag: "9000_newer", sql: "CREATE TABLE tgcpa_newer (id int)" }] });
    const warnings: unknown[] = [];
    const log = { info: () => {}, debug: () => {}, warn: (o: unknown) => void warnings.push(o) };
    expect(await migratePostgres(sql, { log: log as never })).toEqual({ applied: [], unknown: ["9000_newer"] });
    expect(warnings).toEqual([{ unknown: ["9000_newer"] }]);
  }, 30_000);

  test("the migrated database has every column (type, nullability, default) and index the drizzle schema declares", async () => {
    const { sql } = await emptyDatabase();
    await migratePostgres(sql);
    const columns = await sql`SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> ${MIGRATIONS_TABLE}` as
      { table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null; is_identity: string }[];
    const live = Object.fromEntries(columns.map((c) => [`${c.table_name}.${c.column_name}`, {
      type: c.data_type, notNull: c.is_nullable === "NO", hasDefault: c.column_default !== null, identity: c.is_identity === "YES",
    }]));
    const declared = Object.fromEntries(schemaTables.flatMap((t) => t.columns.map((c) => [`${t.name}.${c.name}`, {
      type: c.getSQLType(), notNull: c.notNull, hasDefault: c.hasDefault && !c.generatedIdentity, identity: Boolean(c.generatedIdentity),
    }])));
    expect(live).toEqual(declared);

    const indexes = (await sql`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'
      AND indexname NOT LIKE '%_pk' AND indexname NOT LIKE '%_unique' AND tablename <> ${MIGRATIONS_TABLE} ORDER BY 1`).map((r: { indexname: string }) => r.indexname);
    expect(indexes).toEqual(schemaTables.flatMap((t) => t.indexes.map((i) => i.config.name!)).sort());
    const [username] = await sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'leads_username'`;
    expect(username.indexdef).toBe("CREATE INDEX leads_username ON public.leads USING btree (lower(username)) WHERE (username <> ''::text)");
  }, 30_000);
});
