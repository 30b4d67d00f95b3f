import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseInUse, lockDatabase } from "../../src/storage/sqlite/instance-lock.ts";

const dir = mkdtempSync(join(tmpdir(), "tgcpa-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LOCK_MODULE = join(import.meta.dir, "../../src/storage/sqlite/instance-lock.ts");

/** Another process that takes the lock, says so on stdout, and holds it until killed. */
async function holderProcess(database: string) {
  const proc = Bun.spawn([process.execPath, "-e", `
    const { lockDatabase } = await import(${JSON.stringify(LOCK_MODULE)});
    lockDatabase(${JSON.stringify(database)});
    console.log("locked");
    setInterval(() => {}, 1000);
  `], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("locked");
  return proc;
}

describe("one process per database file", () => {
  test("a second lock in the same process is refused until the first is released", () => {
    const db = join(dir, "same", "t.db");
    const first = lockDatabase(db);
    expect(first.path).toBe(`${db}.lock`);
    expect(existsSync(`${db}.lock`)).toBe(true);
    let refused: unknown;
    try {
      lockDatabase(db);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(DatabaseInUse);
    expect((refused as DatabaseInUse).holderPid).toBe(process.pid);
    expect((refused as Error).message).toContain(db);
    first.release();
    lockDatabase(db).release();
  });

  test("a lock held by another process is refused naming that process; its kill -9 frees the file", async () => {
    const db = join(dir, "other", "t.db");
    const holder = await holderProcess(db);
    try {
      expect(() => lockDatabase(db)).toThrow(new DatabaseInUse(db, holder.pid));
      // The refused attempt left the holder's lock alone: still refused.
      expect(() => lockDatabase(db)).toThrow(`(pid ${holder.pid})`);
    } finally {
      holder.kill("SIGKILL");
      await holder.exited;
    }
    const lock = lockDatabase(db); // no stale lock after a crash
    lock.release();
  });

  test(":memory: needs no lock", () => {
    const a = lockDatabase(":memory:");
    const b = lockDatabase(":memory:");
    a.release();
    b.release();
  });
});
