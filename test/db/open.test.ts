// Opening the database file (src/storage/sqlite/client.ts): only a missing file is created fresh. An existing
// file that is empty (0 bytes, e.g. truncated by accident), not SQLite, or another program's
// database stops the start with an error naming the file and what to do — and is left as it was.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageError, openDatabase } from "../../src/storage/sqlite/client.ts";
import { backupDatabase } from "../../src/ops/backup.ts";
import { runCommand } from "../helpers/service/subprocess.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-open-"));
  dirs.push(dir);
  return dir;
};

/** openDatabase's error (or null) and whether the file is byte for byte as before. */
function tryOpen(path: string) {
  const before = readFileSync(path);
  try {
    openDatabase({ path, synchronous: "FULL" }).$client.close();
    return { error: null, unchanged: Buffer.compare(before, readFileSync(path)) === 0 };
  } catch (err) {
    return { error: err as Error, unchanged: Buffer.compare(before, readFileSync(path)) === 0 };
  }
}

describe("an existing file that is not tgcpa's database stops the start", () => {
  const cases: { name: string; make: (path: string) => void; says: RegExp }[] = [
    { name: "an empty file (0 bytes)", make: (p) => writeFileSync(p, ""), says: /is empty \(0 bytes\).*restore it from a backup.*or move it away/ },
    { name: "a file that is not SQLite", make: (p) => writeFileSync(p, "leads,clicks\n1,abc\n".repeat(300)), says: /file is not a database.*not a SQLite database, or it is damaged.*restore it from a backup/ },
    { name: "a SQLite file cut short", make: (p) => writeFileSync(p, Buffer.concat([Buffer.from("SQLite format 3\0"), Buffer.alloc(3000, 7)])), says: /not a SQLite database, or it is damaged/ },
    {
      name: "another program's SQLite database",
      make: (p) => {
        const db = new Database(p, { create: true });
        db.run("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
        db.run("INSERT INTO users (name) VALUES ('alice')");
        db.close();
      },
      says: /is not tgcpa's \(its tables: users\).*point storage\.path at tgcpa's database/,
    },
  ];
  test.each(cases)("$name: a StorageError naming the file and what to do; the file is left as it was", ({ make, says }) => {
    const path = join(tempDir(), "tgcpa.db");
    make(path);
    const { error, unchanged } = tryOpen(path);
    expect(error).toBeInstanceOf(StorageError);
    expect(error!.message).toContain(path);
    expect(error!.message).toMatch(says);
    expect(unchanged).toBe(true);
  });

  test("a folder where the file should be is named too", () => {
    const path = join(tempDir(), "tgcpa.db");
    mkdirSync(path);
    expect(() => openDatabase({ path, synchronous: "FULL" })).toThrow(new RegExp(`database ${path}: is not a file`));
  });
});

describe("what is opened", () => {
  test("a missing file is created, with its folder, and migrated", () => {
    const path = join(tempDir(), "new", "tgcpa.db");
    const db = openDatabase({ path, synchronous: "FULL" });
    expect(db.$client.query("SELECT count(*) AS n FROM leads").get()).toEqual({ n: 0 });
    db.$client.close();
  });

  test("tgcpa's own database opens again with its rows", () => {
    const path = join(tempDir(), "tgcpa.db");
    const first = openDatabase({ path, synchronous: "FULL" });
    first.$client.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('c', 'c', 0, 0)");
    first.$client.close();
    const again = openDatabase({ path, synchronous: "FULL" });
    expect(again.$client.query("SELECT code FROM campaigns").all()).toEqual([{ code: "c" }]);
    again.$client.close();
  });

  test("a SQLite file without any table (nothing to lose) is migrated", () => {
    const path = join(tempDir(), "tgcpa.db");
    const blank = new Database(path, { create: true });
    blank.run("PRAGMA user_version = 0");
    blank.run("VACUUM");
    blank.close();
    expect(statSync(path).size).toBeGreaterThan(0);
    const db = openDatabase({ path, synchronous: "FULL" });
    expect(db.$client.query("SELECT count(*) AS n FROM leads").get()).toEqual({ n: 0 });
    db.$client.close();
  });
});

test("the service (a real process) refuses to start on a 0-byte database: exit 1, the file and what to do on stderr", async () => {
  const dir = tempDir();
  const dbPath = join(dir, "tgcpa.db");
  writeFileSync(dbPath, "");
  const configPath = join(dir, "config.yaml");
  writeFileSync(configPath, JSON.stringify({ api_keys: ["k-0123456789-0123456789abcdef0123456789abcdef"], storage: { path: dbPath }, server: { host: "127.0.0.1", port: 0 } }));
  const p = await runCommand(["--config", configPath], { timeoutMs: 20_000 });
  const stderr = p.stderr;
  expect(p.code).toBe(1);
  expect(stderr).toContain(`database ${dbPath} is empty (0 bytes)`);
  expect(stderr).toContain("restore it from a backup");
  expect(statSync(dbPath).size).toBe(0);
}, 30_000);

test("a backup of a file that is not a database names both files", () => {
  const dir = tempDir();
  const source = join(dir, "tgcpa.db");
  writeFileSync(source, "not a database at all\n".repeat(100));
  const target = join(dir, "copy.db");
  expect(() => backupDatabase(source, target)).toThrow(`cannot copy ${source} to ${target}: file is not a database`);
});
