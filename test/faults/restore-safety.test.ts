// `tgcpa restore` can never leave the operator without the old database: two restores within one
// second keep both old databases; a backup whose schema is not tgcpa's as this binary's migrations
// build it (another program's table, a trigger, a view, a missing index, another column) or from a
// newer version is refused naming what differs, with nothing moved; an older version's backup (a
// prefix of the migrations) is accepted and migrated at the next start. `tgcpa backup` writes 0600
// and refuses an existing name or a symbolic link.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { openDatabase } from "../../src/storage/sqlite/client.ts";
import { migrationJournal, migrationSql } from "../../src/storage/sqlite/migrations.generated.ts";
import { backupDatabase, restoreDatabase } from "../../src/ops/backup.ts";
import { applyEvent } from "../helpers/service/api-client.ts";
import { startTestService } from "../helpers/service/in-process.ts";
import { processTestDir, runCommand } from "../helpers/service/subprocess.ts";
import { onPostgres } from "../helpers/service/database.ts";

/** backup and restore copy the SQLite file; on PostgreSQL they refuse (test/storage/pg-engine.test.ts): skipped there, saying so. */
const sqliteDescribe = (name: string, fn: () => void) =>
  onPostgres ? describe.skip(`${name} [SQLite only: backup and restore copy the SQLite file]`, fn) : describe(name, fn);

const root = processTestDir("restore-safety");
let n = 0;

/** A folder with the service's config and a real database holding `subscribers`' leads (written through the API). */
async function databaseWith(subscribers: number[]): Promise<{ dir: string; db: string; config: string }> {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  await addLeads(dir, subscribers);
  return { dir, db: join(dir, "tgcpa.db"), config: join(dir, "config.yaml") };
}

async function addLeads(dir: string, subscribers: number[]) {
  const svc = await startTestService({ campaigns: [{ code: "rs" }], log: { level: "warn" } }, { dir, keepDir: true });
  for (const s of subscribers) await applyEvent(svc, { campaign: "rs", subscriber: s, status: "wait", click: `c${s}` });
  await svc.stop();
}

const subscribersIn = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query("SELECT subscriber FROM leads ORDER BY subscriber").all() as { subscriber: number }[]).map((r) => r.subscriber);
  } finally {
    db.close();
  }
};

const cli = (args: string[], config: string) => runCommand([...args, "--config", config], { timeoutMs: 30_000 });

/** Every file in the folder with its bytes, to show that a refused restore moved nothing. */
const folderState = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => {
  const path = join(dir, f);
  return [f, lstatSync(path).isSymbolicLink() ? `-> ${readlinkSync(path)}` : readFileSync(path).toString("base64")];
}));

sqliteDescribe("two restores in a row", () => {
  test("within one second: both old databases are kept under their own names, each still openable with its leads", async () => {
    const { dir, db } = await databaseWith([1, 2]);
    const backup = join(dir, "two-leads.backup");
    backupDatabase(db, backup);
    await addLeads(dir, [3]); // the live database now has three leads
    const now = new Date("2026-12-08T00:15:37.100Z");
    const first = restoreDatabase(db, backup, () => {}, now);
    await addLeads(dir, [4, 5]); // the restored database is used: two leads, then four
    const second = restoreDatabase(db, backup, () => {}, new Date(now.getTime() + 400)); // the same second
    expect([first.movedAside, second.movedAside]).toEqual([`${db}.before-restore-20261208T001537Z`, `${db}.before-restore-20261208T001537Z-2`]);
    expect(subscribersIn(first.movedAside!)).toEqual([1, 2, 3]);
    expect(subscribersIn(second.movedAside!)).toEqual([1, 2, 4, 5]);
    expect(subscribersIn(db)).toEqual([1, 2]);
  }, 30_000);

  test("through the command line, twice: two kept copies and their leads", async () => {
    const { dir, db, config } = await databaseWith([10, 11]);
    const backup = join(dir, "copy.db");
    expect((await cli(["backup", backup], config)).code).toBe(0);
    await addLeads(dir, [12]);
    for (let i = 0; i < 2; i++) {
      const run = await cli(["restore", backup], config);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    }
    const kept = readdirSync(dir).filter((f) => f.startsWith("tgcpa.db.before-restore-") && !/-(wal|shm)$/.test(f)).sort();
    expect(kept).toHaveLength(2);
    expect(kept.map((f) => subscribersIn(join(dir, f))).sort((a, b) => b.length - a.length)).toEqual([[10, 11, 12], [10, 11]]);
  }, 30_000);
});

/** A real backup changed by `sql`, or a new file made by it (`fresh`). */
function craft(dir: string, name: string, sql: string, from: string | null): string {
  const path = join(dir, name);
  if (from) copyFileSync(from, path);
  const db = new Database(path);
  try {
    db.run(sql);
  } finally {
    db.close();
  }
  return path;
}

sqliteDescribe("a backup that is not tgcpa's as this version builds it is refused, and nothing moves", () => {
  test.each([
    ["only CREATE TABLE leads(id)", null, "CREATE TABLE leads(id)", "not a tgcpa one (no migration journal)"],
    ["leads with other columns", "real", "DROP TABLE leads; CREATE TABLE leads(id INTEGER PRIMARY KEY)", "table leads has the columns [id INTEGER pk 1]"],
    ["a trigger deleting the leads", "real", "CREATE TRIGGER wipe AFTER INSERT ON lead_events BEGIN DELETE FROM leads; END", "it has what tgcpa does not create: trigger wipe (on lead_events)"],
    ["a view", "real", "CREATE VIEW all_leads AS SELECT * FROM leads", "it has what tgcpa does not create: view all_leads (on all_leads)"],
    ["a table of its own", "real", "CREATE TABLE notes(x)", "it has what tgcpa does not create: table notes"],
    ["a missing index", "real", "DROP INDEX leads_click", "it lacks index leads_click"],
    ["an index of its own", "real", "CREATE INDEX leads_extra ON leads(username)", "index leads_extra"],
    ["a newer version's migration", "real", "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('x', 99999999999999)", "made by a newer tgcpa"],
    ["another migration history", "real", "UPDATE __drizzle_migrations SET hash = 'other' WHERE created_at = (SELECT min(created_at) FROM __drizzle_migrations)", "a migration history that is not this version's"],
  ])("%s", async (_, base, sql, reason) => {
    const { dir, db, config } = await databaseWith([20, 21]);
    const real = join(dir, "real.backup");
    backupDatabase(db, real);
    const crafted = craft(dir, "crafted.backup", sql, base === "real" ? real : null);
    const before = folderState(dir);
    const run = await cli(["restore", crafted], config);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(reason);
    expect(folderState(dir)).toEqual(before); // nothing moved, nothing left behind
    expect(subscribersIn(db)).toEqual([20, 21]);
  }, 30_000);
});

sqliteDescribe("a backup from an older version", () => {
  /** A database made by the first `count` migrations (an older tgcpa), with one lead in its leads table. */
  function olderDatabase(path: string, count: number) {
    const folder = join(root, `migrations-${count}-${++n}`);
    mkdirSync(join(folder, "meta"), { recursive: true });
    const entries = migrationJournal.entries.slice(0, count);
    writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify({ ...migrationJournal, entries }));
    for (const e of entries) writeFileSync(join(folder, `${e.tag}.sql`), migrationSql[e.tag]!);
    const sqlite = new Database(path);
    migrate(drizzle({ client: sqlite }), { migrationsFolder: folder });
    sqlite.close();
  }

  test("its migrations a prefix of this version's and its schema what they build: accepted, and the next start migrates it", async () => {
    const { dir, db, config } = await databaseWith([30]);
    const old = join(dir, "old.backup");
    const count = migrationJournal.entries.length - 2;
    olderDatabase(old, count);
    const run = await cli(["restore", old], config);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toContain("made by an older version: the next start applies the 2 migration(s) it lacks");
    const opened = openDatabase({ path: db, synchronous: "FULL" }); // as serve opens it
    expect((opened.$client.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n).toBe(migrationJournal.entries.length);
    opened.$client.close();
  }, 30_000);

  test("an older version's schema with something added is refused all the same", async () => {
    const { dir, config } = await databaseWith([31]);
    const old = join(dir, "old.backup");
    olderDatabase(old, migrationJournal.entries.length - 2);
    craft(dir, "old.backup", "CREATE TRIGGER wipe AFTER INSERT ON lead_events BEGIN DELETE FROM leads; END", null);
    const run = await cli(["restore", old], config);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("trigger wipe");
  }, 30_000);
});

sqliteDescribe("tgcpa backup writes its file as O_EXCL|O_NOFOLLOW, 0600", () => {
  test("the copy is 0600; an existing file, a symbolic link to one and a dangling one are refused and left as they were", async () => {
    const { dir, config } = await databaseWith([40]);
    const target = join(dir, "out.backup");
    expect((await cli(["backup", target], config)).code).toBe(0);
    expect((statSync(target).mode & 0o777).toString(8)).toBe("600");
    expect(subscribersIn(target)).toEqual([40]);

    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "keep me");
    symlinkSync(victim, join(dir, "link.backup"));
    symlinkSync(join(dir, "nowhere.db"), join(dir, "dangling.backup"));
    for (const name of ["out.backup", "link.backup", "dangling.backup"]) {
      const before = folderState(dir);
      const run = await cli(["backup", join(dir, name)], config);
      expect({ name, code: run.code, refused: run.stderr.includes("already exists (a file or a symbolic link)") }).toEqual({ name, code: 1, refused: true });
      expect(folderState(dir)).toEqual(before);
    }
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    expect(existsSync(join(dir, "nowhere.db"))).toBe(false); // the dangling link was not followed
  }, 30_000);
});
