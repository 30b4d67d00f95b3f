// A -wal or -shm without its database file (the file moved away after a kill -9, its last
// acknowledged commits still in the -wal), or a -wal that belongs to another database, stops the
// start with a message naming the file and what to do; nothing is deleted. Before, SQLite deleted
// the -wal and the service started on an empty database.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StorageError, openDatabase } from "../../src/storage/sqlite/client.ts";
import { leadEvents, postEvent } from "../helpers/idempotent-events.ts";
import { testConfig } from "../helpers/service/config.ts";
import { killAllServices, processTestDir, runCommand, spawnService, withServices } from "../helpers/service/subprocess.ts";

const root = processTestDir("orphan-wal");
afterAll(killAllServices);
let n = 0;
const caseDir = () => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

function openError(path: string): string | null {
  try {
    openDatabase({ path, synchronous: "FULL" }).$client.close();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return (err as Error).message;
  }
}

describe("companions without their database", () => {
  test.each([["-wal"], ["-shm"]])("a %s alone: refused naming it, and left as it was; no database is created", (suffix) => {
    const db = join(caseDir(), "tgcpa.db");
    const bytes = Buffer.from("not empty: commits of a database that was moved");
    writeFileSync(`${db}${suffix}`, bytes);
    const message = openError(db);
    expect(message).toContain(`database ${db} is missing, but ${db}${suffix} is there`);
    expect(message).toContain(`Nothing was deleted; put the database file back beside it, or move ${db}${suffix} away`);
    expect(readFileSync(`${db}${suffix}`).equals(bytes)).toBe(true);
    expect(existsSync(db)).toBe(false);
  });

  test("a -wal that is another database's (other page size): refused, nothing deleted", () => {
    const dir = caseDir();
    const other = join(dir, "other.db");
    const writer = new Database(other);
    writer.run("PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    const wal = readFileSync(`${other}-wal`); // read while the writer still has it open (a close checkpoints it away)
    writer.close();
    const db = join(dir, "tgcpa.db");
    openDatabase({ path: db, synchronous: "FULL" }).$client.close(); // tgcpa's own, 4096-byte pages
    writeFileSync(`${db}-wal`, wal);
    const message = openError(db);
    expect(message).toContain(`${db}-wal is not this database's (its pages are 8192 bytes, the database's 4096)`);
    expect(readFileSync(`${db}-wal`).equals(wal)).toBe(true);
  });
});

describe("the real case: the database moved away after a kill -9", () => {
  test("the next start exits 1 naming the -wal and what to do; the -wal keeps the acknowledged commits, which come back with the file", () => withServices("orphan wal", async () => {
    const dir = caseDir();
    const dbPath = join(dir, "tgcpa.db");
    const config = testConfig(dir, { log: { level: "warn" }, storage: { path: dbPath }, campaigns: [{ code: "ow" }] });
    const s = await spawnService({ dir, config });
    const events = Array.from({ length: 10 }, (_, i) => leadEvents("ow", "ow", i, 990_000)[0]!);
    for (const ev of events) expect(await postEvent(s, ev, 1, () => false)).toBe(true);
    await s.kill();
    expect(existsSync(`${dbPath}-wal`)).toBe(true);
    renameSync(dbPath, join(dir, "moved.db"));
    const wal = readFileSync(`${dbPath}-wal`);
    const start = await runCommand(["serve", "--config", s.configPath], { timeoutMs: 15_000 });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`database ${dbPath} is missing, but ${dbPath}-wal`);
    expect(start.stderr).toContain("put the database file back");
    expect(readFileSync(`${dbPath}-wal`).equals(wal)).toBe(true);
    expect(existsSync(dbPath)).toBe(false);
    // put back as the message says: every acknowledged lead is there
    renameSync(join(dir, "moved.db"), dbPath);
    const back = await spawnService({ dir, config });
    expect(((await back.api("GET", "/api/leads?campaign=ow&limit=100")).body.items as unknown[]).length).toBe(10);
    expect(await back.stop()).toBe(0);
  }), 60_000);
});
