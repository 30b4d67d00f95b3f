// copy-to-postgres: a SQLite database made by the real migrations (openDatabase) with rows in every
// table — awkward text, NULLs, booleans both ways, JSON, Telegram ids and epoch ms far above 2^31 —
// copied into an empty, migrated PostgreSQL database: equal counts, equal rows read back through
// each dialect's drizzle schema, ids kept and the sequences past them; refused targets and a failed
// copy leave PostgreSQL as it was. Then the command line, as an operator runs it.
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { is } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sql";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { openDatabase, StorageError, type Db } from "../../src/storage/sqlite/client.ts";
import * as sqliteSchema from "../../src/storage/sqlite/schema.ts";
import { copySqliteToPostgres } from "../../src/storage/postgres/copy-from-sqlite.ts";
import { migratePostgres } from "../../src/storage/postgres/migrate.ts";
import * as pgSchema from "../../src/storage/postgres/schema.ts";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { createTestDatabase, describePostgres, dropTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { runCommand } from "../helpers/service/subprocess.ts";

const cleanup = cleanupAfterEach();
const T0 = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z, epoch ms
const CHAT = -1_001_234_567_890;
const AWKWARD = ["", "NULL", "a,b", '"quoted"', "back\\slash", "{brace}", "multi\nline\ttab", "ünïcødé 😀", "'single'"];
const awkward = (i: number) => AWKWARD[i % AWKWARD.length]!;

/** A tgcpa SQLite file at this build's schema with `n` rows (at least) in every table. */
function seededSqlite(n: number): { db: Db; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-copy-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "tgcpa.db");
  const db = openDatabase({ path, synchronous: "NORMAL" });
  cleanup.push(() => db.$client.close());
  const s = sqliteSchema;
  const range = Array.from({ length: n }, (_, i) => i);
  db.$client.transaction(() => {
    db.insert(s.campaigns).values(range.map((i) => ({ code: `c${i}`, name: awkward(i), bot: i % 2 ? "main" : null, chatId: i % 2 ? CHAT : null,
      paused: i % 3 === 0, inConfig: i % 4 !== 0, createdAt: T0 + i, updatedAt: T0 + 2 * i }))).run();
    db.insert(s.leads).values(range.map((i) => ({ campaignId: 1 + (i % n), subscriber: 2 ** 53 - 1 - i, click: awkward(i + 1), username: i % 2 ? `User_${i}` : "",
      chatId: CHAT - i, status: "approve" as const, joinedAt: i % 2 ? T0 + i : null, createdAt: T0, updatedAt: T0 + i, clickId: i % 2 ? 1 + i : null }))).run();
    db.insert(s.clicks).values(range.map((i) => ({ token: `tok${String(i).padStart(9, "0")}`, campaignId: 1, params: { utm_source: awkward(i), [awkward(i + 3) || "k"]: awkward(i + 4) },
      fbc: i % 2 ? `fb.1.${T0}.IwAR${i}` : null, fbp: null, ip: i % 2 ? "2001:db8::7" : null, userAgent: awkward(i), referrer: i % 3 ? null : awkward(i + 1),
      landingUrl: `https://tg.example/c/c1?n=${i}`, cut: i % 3, createdAt: T0 + i }))).run();
    db.insert(s.clickStats).values(range.map((i) => ({ campaignId: 1, param: "utm_source", span: i % 2 ? 15 : 1440, bucket: T0 - (T0 % 900_000) + i * 900_000, value: awkward(i), status: "wait" as const, events: i, leads: i }))).run();
    db.insert(s.leadEvents).values(range.map((i) => ({ leadId: 1 + i, campaignId: 1, status: "approve" as const, prevStatus: i % 2 ? "wait" as const : null,
      source: "telegram" as const, reason: i % 3 ? null : awkward(i), payout: i % 2 ? "12.50" : null, currency: i % 2 ? "USD" : null, occurredAt: T0 + i, createdAt: T0 + i }))).run();
    db.insert(s.postbacks).values(range.map((i) => ({ channel: i % 2 ? "telegram" as const : "http" as const, leadId: 1 + i, eventId: 1 + i, campaignId: 1,
      status: "approve" as const, template: "t", method: i % 2 ? "POST" : "GET", url: `https://trk.example/pb?c=${encodeURIComponent(awkward(i))}&n=${i}`,
      body: i % 2 ? JSON.stringify({ chat_id: CHAT, text: awkward(i) }) : null, contentType: i % 2 ? "application/json" : null, verdict: i % 3 ? "keitaro" : null,
      host: "trk.example", state: i % 2 ? "delivered" as const : "pending" as const, reason: null, attempts: i, nextAttemptAt: T0 + i * 1000,
      leaseToken: i, leaseExpiresAt: i % 2 ? null : T0 + 60_000, lastHttpStatus: i % 2 ? 200 : null, createdAt: T0, updatedAt: T0 + i, finishedAt: i % 2 ? T0 + i : null }))).run();
    db.insert(s.deliveryAttempts).values(range.map((i) => ({ postbackId: 1 + i, attempt: 1, startedAt: T0 + i, durationMs: 12 + i, url: "https://trk.example/pb",
      httpStatus: i % 2 ? 503 : null, outcome: i % 2 ? "retry" : "delivered", error: i % 2 ? awkward(i) : null, responseHead: awkward(i + 2) }))).run();
    db.insert(s.leadStats).values(range.map((i) => ({ campaignId: 1, bucket: T0 - (T0 % 900_000) + i * 900_000, status: "approve" as const, events: i, leads: i, postbacks: 2 * i }))).run();
    db.insert(s.dashboardSessions).values(range.map((i) => ({ id: `sha256-${i}`, keyCheck: `hmac-${i}`, createdAt: T0, expiresAt: T0 + 7 * 86_400_000 }))).run();
    db.insert(s.journal).values(range.map((i) => ({ kind: "organic_join", campaignId: i % 2 ? 1 : null, subscriber: 2 ** 40 + i, chatId: CHAT,
      detail: i % 3 ? { note: awkward(i), nested: { n: i, ok: i % 2 === 0 }, list: [1, "two", null] } : null, createdAt: T0 + i }))).run();
    db.insert(s.idempotencyKeys).values(range.map((i) => ({ key: `key-${i}-${awkward(i)}`, requestHash: `h${i}`, statusCode: 200, response: JSON.stringify({ lead: i }), createdAt: T0 }))).run();
    db.insert(s.inboundLog).values(range.map((i) => ({ result: "ok", leadId: i % 2 ? 1 + i : null, status: "approve", params: { click: awkward(i), payout: "1" },
      ip: i % 2 ? "203.0.113.7" : null, createdAt: T0 + i }))).run();
    db.insert(s.bots).values(range.map((i) => ({ name: `bot${i}`, telegramId: 7_000_000_000 + i, username: i % 2 ? `b${i}_bot` : null, pollingOffset: 800_000_000 + i, updatedAt: T0 }))).run();
    db.insert(s.chats).values(range.map((i) => ({ bot: "bot0", chatId: CHAT - i, title: awkward(i), type: "channel", status: "administrator",
      rights: i % 2 ? { can_invite_users: true, can_restrict_members: false } : null, updatedAt: T0 }))).run();
    db.insert(s.processedUpdates).values(range.map((i) => ({ bot: "bot0", updateId: 900_000_000 + i, createdAt: T0 + i }))).run();
    db.insert(s.inviteLinks).values(range.map((i) => ({ bot: "bot0", campaignId: 1 + i, link: `https://t.me/+abc${i}`, createsJoinRequest: i % 2 === 0, createdAt: T0 }))).run();
    db.insert(s.mediaCache).values(range.map((i) => ({ bot: "bot0", path: `/srv/media/${awkward(i)}-${i}.jpg`, fileId: `AgAC${i}`, createdAt: T0 }))).run();
    db.insert(s.leadProfiles).values(range.map((i) => ({ leadId: 1 + i, campaignId: 1, premium: i % 3 ? i % 2 === 0 : null, language: i % 2 ? awkward(i) : null,
      hasUsername: i % 3 ? i % 2 === 1 : null, startedAt: i % 2 ? T0 - i : null, startToJoinMs: i % 2 ? 2 ** 40 + i : null, fastLeave: i % 2 === 0, quality: i % 101,
      qualityReasons: i % 2 ? [{ code: "premium", points: 20 }, { code: awkward(i), points: -i }] : [], welcomeVariant: i % 2 ? awkward(i) : null,
      firstJoinedAt: i % 2 ? T0 + i : null, cohortBand: i % 2 ? "high" : null, updatedAt: T0 + i }))).run();
    db.insert(s.retentionCounts).values(range.map((i) => ({ campaignId: 1, bucket: T0 - (T0 % 900_000) + i * 900_000, variant: awkward(i), band: "medium",
      joined: i, out1d: i % 3, out7d: -(i % 2), out14d: i, out30d: 0 }))).run();
    db.insert(s.funnelCounts).values(range.map((i) => ({ campaignId: 1, bucket: T0 - (T0 % 900_000) + i * 900_000, variant: awkward(i), band: "low", starts: i, joins: i % 4 }))).run();
    db.insert(s.revenueCounts).values(range.map((i) => ({ campaignId: 1, bucket: T0 - (T0 % 900_000) + i * 900_000, currency: i % 2 ? "USD" : "", amountMicros: 2 ** 50 + i, events: i }))).run();
    db.insert(s.campaignCosts).values(range.map((i) => ({ campaignId: 1 + (i % n), day: `2026-01-${String(1 + (i % 28)).padStart(2, "0")}`, currency: "EUR",
      amountMicros: 125_400_000 + i, source: i % 2 ? "api" : "csv", updatedAt: T0 + i }))).run();
    db.insert(s.alertIncidents).values(range.map((i) => ({ key: `host_failing:h${i % 3}`, kind: "host_failing", subject: `h${i % 3}`, state: i % 2 ? "resolved" : "firing",
      badSince: T0 + i, goodSince: i % 2 ? T0 + 2 * i : null, firedAt: T0 + i, resolvedAt: i % 2 ? T0 + 3 * i : null, detail: awkward(i), createdAt: T0, updatedAt: T0 + i }))).run();
    db.insert(s.storageProbe).values({ id: 1, writtenAt: T0 }).run();
    db.insert(s.instances).values(range.map((i) => ({ id: `host-${i}-${awkward(i)}`, version: "0.1.0", commit: i % 2 ? "abc123" : null, configHash: `h${i}`,
      hostname: awkward(i), pid: 4_000_000 + i, startedAt: T0, heartbeatAt: T0 + i }))).run();
    db.insert(s.botLeases).values(range.map((i) => ({ bot: `bot${i}`, owner: `host-${i}`, epoch: 1 + i, expiresAt: T0 + 5000, acquiredAt: T0, updatedAt: T0 + i }))).run();
    db.insert(s.circuits).values(range.map((i) => ({ host: `trk${i}.example:${8000 + i}`, openUntil: T0 + 60_000, failures: 5 + i, openedBy: `host-${i}`, updatedAt: T0 }))).run();
  })();
  return { db, path };
}

const sqliteTables = (Object.values(sqliteSchema) as unknown[]).filter((t): t is SQLiteTable => is(t, SQLiteTable));
const pgTables = new Map((Object.values(pgSchema) as unknown[]).filter((t): t is PgTable => is(t, PgTable)).map((t) => [pgConfig(t).name, t]));

/** Rows in primary-key order, whatever the dialect's collation. */
const byKey = (rows: Record<string, unknown>[], key: string[]) =>
  rows.map((r) => ({ key: JSON.stringify(key.map((k) => r[k])), r })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((x) => x.r);
const keyOf = (t: SQLiteTable) => {
  const c = sqliteConfig(t);
  const pk = c.primaryKeys.flatMap((k) => k.columns);
  return (pk.length ? pk : c.columns.filter((col) => col.primary)).map((col) => Object.entries(t).find(([, v]) => v === col)![0]);
};

describePostgres("copy-to-postgres", () => {
  const database = async (migrated: boolean): Promise<{ db: TestDatabase; sql: SQL }> => {
    const db = await createTestDatabase({ migrated });
    const sql = new SQL(db.url, { max: 2 });
    cleanup.push(() => dropTestDatabase(db));
    cleanup.push(() => sql.close());
    return { db, sql };
  };
  const targetCounts = async (sql: SQL) => Object.fromEntries(await Promise.all([...pgTables.keys()].map(async (name) =>
    [name, Number((await sql.unsafe(`SELECT count(*) AS n FROM "${name}"`))[0].n)] as const)));

  test("every table, in batches: equal counts, equal rows, ids kept and the next ids after them", async () => {
    const { db: source } = seededSqlite(23);
    const { sql } = await database(true);
    const told: string[] = [];
    const counts = await copySqliteToPostgres(source.$client, sql, { batchRows: 5, onTable: (c) => told.push(c.table) });

    expect(counts.map((c) => c.table).sort()).toEqual(sqliteTables.map((t) => sqliteConfig(t).name).sort());
    expect(told).toEqual(counts.map((c) => c.table));
    expect(told.indexOf("campaigns")).toBeLessThan(told.indexOf("leads")); // parents before the rows that refer to them
    expect(told.indexOf("leads")).toBeLessThan(told.indexOf("lead_events"));
    for (const c of counts) expect(c).toEqual({ table: c.table, source: c.table === "storage_probe" ? 1 : 23, target: c.table === "storage_probe" ? 1 : 23 });

    const orm = drizzle({ client: sql });
    for (const table of sqliteTables) {
      const name = sqliteConfig(table).name;
      const key = keyOf(table);
      const fromSqlite = byKey(source.select().from(table).all() as Record<string, unknown>[], key);
      const fromPg = byKey(await orm.select().from(pgTables.get(name)!) as Record<string, unknown>[], key);
      expect({ name, rows: fromPg }).toEqual({ name, rows: fromSqlite });
    }
    const [json] = await sql`SELECT jsonb_typeof(detail) AS type, detail->'nested'->>'n' AS n FROM journal WHERE id = 2`;
    expect(json).toEqual({ type: "object", n: "1" });

    const [next] = await sql`INSERT INTO leads (campaign_id, subscriber, status, created_at, updated_at) VALUES (1, 1, 'wait', 0, 0) RETURNING id`;
    expect(next.id).toBe("24");
    const [nextEvent] = await sql`INSERT INTO journal (kind, created_at) VALUES ('x', 0) RETURNING id`;
    expect(nextEvent.id).toBe("24");
  }, 30_000);

  test("an empty SQLite database copies as empty tables, and ids then start at 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tgcpa-copy-empty-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const source = openDatabase({ path: join(dir, "empty.db"), synchronous: "NORMAL" });
    cleanup.push(() => source.$client.close());
    const { sql } = await database(true);
    const counts = await copySqliteToPostgres(source.$client, sql);
    expect(counts.every((c) => c.source === 0 && c.target === 0)).toBe(true);
    expect((await sql`INSERT INTO journal (kind, created_at) VALUES ('x', 0) RETURNING id`)[0].id).toBe("1");
  }, 30_000);

  test("refused: a database that is not migrated, one that holds rows; a copy that fails half-way leaves nothing", async () => {
    const { db: source } = seededSqlite(4);
    const bare = await database(false);
    const notMigrated = await copySqliteToPostgres(source.$client, bare.sql).then(() => null, (e: unknown) => e);
    expect(notMigrated).toBeInstanceOf(StorageError);
    expect((notMigrated as Error).message).toStartWith("the PostgreSQL database is not migrated to this version (missing: 0000_init, ");

    const { sql } = await database(true);
    await sql`INSERT INTO bots (name, updated_at) VALUES ('other', 0)`;
    const notEmpty = await copySqliteToPostgres(source.$client, sql).then(() => null, (e: unknown) => e);
    expect((notEmpty as Error).message).toBe("the PostgreSQL database is not empty (rows in bots); copy-to-postgres only fills an empty one, nothing was copied");
    await sql`DELETE FROM bots`;

    // A JSON text PostgreSQL refuses, in the last rows of a table copied after others.
    source.$client.run("UPDATE inbound_log SET params = '{not json' WHERE id = 4");
    const failed = await copySqliteToPostgres(source.$client, sql, { batchRows: 2 }).then(() => null, (e: unknown) => e);
    expect((failed as { errno?: string }).errno).toBe("22P02"); // invalid_text_representation
    expect(Object.values(await targetCounts(sql)).every((n) => n === 0)).toBe(true);
    expect(source.$client.query("SELECT count(*) AS n FROM leads").get()).toEqual({ n: 4 }); // the source still readable, untouched
  }, 30_000);

  test("tgcpa copy-to-postgres --to URL: migrates the target, copies, prints the counts; refused while the service holds the file", async () => {
    const { path, db: source } = seededSqlite(6);
    source.$client.close();
    const config = join(path, "..", "config.yaml");
    writeFileSync(config, `api_keys: [k-0123456789abcdef0123456789abcdef]\nstorage: { path: ${path} }\n`);
    const { db, sql } = await database(false); // empty: the command migrates it
    const withPassword = new URL(db.url);
    withPassword.password = "pw-not-shown"; // trust auth takes any password; the output must not repeat it
    const run = await runCommand(["copy-to-postgres", "--to", withPassword.toString(), "--config", config], { timeoutMs: 60_000 });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).not.toContain("pw-not-shown");
    expect(run.stdout).toContain(":***@");
    expect(run.stdout).toMatch(/^ {2}leads +SQLite +6 +PostgreSQL +6$/m);
    expect(run.stdout).toMatch(/^ {2}storage_probe +SQLite +1 +PostgreSQL +1$/m);
    expect(run.stdout).toContain(`copied ${6 * (sqliteTables.length - 1) + 1} rows in ${sqliteTables.length} tables`);
    expect((await targetCounts(sql)).lead_events).toBe(6);

    const again = await runCommand(["copy-to-postgres", "--to", db.url, "--config", config], { timeoutMs: 60_000 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("the PostgreSQL database is not empty");
    const usage = await runCommand(["copy-to-postgres", "--config", config]);
    expect({ code: usage.code, stderr: usage.stderr.split("\n")[0] }).toEqual({ code: 2, stderr: "tgcpa: copy-to-postgres needs --to URL (usage: tgcpa copy-to-postgres --to URL)" });
    const elsewhere = await runCommand(["backup", "x.db", "--to", db.url, "--config", config]);
    expect({ code: elsewhere.code, stderr: elsewhere.stderr.split("\n")[0] }).toEqual({ code: 2, stderr: "tgcpa: --to belongs to copy-to-postgres, not backup" });

    const { lockDatabase } = await import("../../src/storage/sqlite/instance-lock.ts");
    const held = lockDatabase(path); // as the running service holds it
    try {
      const refused = await runCommand(["copy-to-postgres", "--to", db.url, "--config", config], { timeoutMs: 60_000 });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("is in use by another tgcpa process");
    } finally {
      held.release();
    }
  }, 120_000);
});
