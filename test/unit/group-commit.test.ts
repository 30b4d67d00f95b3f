import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../../src/storage/sqlite/client.ts";
import { GroupCommit, HeldTransaction } from "../../src/storage/sqlite/group-commit.ts";

/** A sync the test completes by hand: each call waits until release() or refuse(). */
class ManualSync {
  calls = 0;
  private pending: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  readonly sync = () => {
    this.calls++;
    return new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
  };
  get waiting() {
    return this.pending.length;
  }
  release() {
    this.pending.shift()!.resolve();
  }
  refuse(err: Error) {
    this.pending.shift()!.reject(err);
  }
}

const dirs: string[] = [];
const dbs: Db[] = [];
const groups: GroupCommit[] = [];
afterEach(async () => {
  for (const g of groups.splice(0)) await g.drain().catch(() => {});
  for (const db of dbs.splice(0)) db.$client.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fileDb(): { db: Db; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-gc-"));
  dirs.push(dir);
  const path = join(dir, "t.db");
  const db = openDatabase({ path, synchronous: "FULL" });
  db.$client.run("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)");
  dbs.push(db);
  return { db, path };
}

const track = (g: GroupCommit) => (groups.push(g), g);
const insert = (db: Db, v: number) => () => db.$client.query("INSERT INTO t (v) VALUES (?)").run(v).changes;
const count = (db: Db) => (db.$client.query("SELECT count(*) AS n FROM t").get() as { n: number }).n;
const tick = () => new Promise((r) => setImmediate(r));
/** Settles `p` into a readable state without awaiting it. */
function watch<T>(p: Promise<T>) {
  const s: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then((value) => Object.assign(s, { done: true, value }), (error) => Object.assign(s, { done: true, error }));
  return s;
}

describe("group commit with synchronous FULL", () => {
  test("writes are committed together but answered only after the WAL sync that follows their commit", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const commits = new GroupCommit(db, { synchronous: "FULL", path, sync: disk.sync });
    const a = watch(commits.run(insert(db, 1)));
    const b = watch(commits.run(insert(db, 2)));
    await tick();
    expect(count(db)).toBe(2); // one batch, committed
    expect(disk.calls).toBe(1);
    await tick();
    expect([a.done, b.done]).toEqual([false, false]); // not on the disk yet: nobody answered
    disk.release();
    await tick();
    expect([a.value, b.value]).toEqual([1, 1]);
  });

  test("a batch committed while a sync runs waits for the next sync; one sync covers every batch before it", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const commits = new GroupCommit(db, { synchronous: "FULL", path, sync: disk.sync });
    const first = watch(commits.run(insert(db, 1)));
    await tick();
    const second = watch(commits.run(insert(db, 2)));
    await tick();
    const third = watch(commits.run(insert(db, 3)));
    await tick();
    expect(count(db)).toBe(3);
    expect(disk.calls).toBe(1); // one at a time
    disk.release();
    await tick();
    expect([first.done, second.done, third.done]).toEqual([true, false, false]);
    expect(disk.calls).toBe(2); // the next sync covers the two batches committed meanwhile
    disk.release();
    await tick();
    expect([second.done, third.done]).toEqual([true, true]);
  });

  test("a write run with beforeSync is answered at its commit; the others of its batch wait for the sync", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path, sync: disk.sync }));
    const early = watch(commits.run(insert(db, 1), { beforeSync: true }));
    const late = watch(commits.run(insert(db, 2)));
    await tick();
    await tick();
    expect([early.done, late.done]).toEqual([true, false]);
    expect(early.value).toBe(1);
    expect(disk.calls).toBe(1); // its batch is synced all the same
    expect(commits.durable()).toBeDefined(); // and readers wait for that sync
    disk.release();
    await tick();
    expect(late.value).toBe(1);
  });

  test("durable() resolves once everything committed before the call is synced", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const commits = new GroupCommit(db, { synchronous: "FULL", path, sync: disk.sync });
    expect(commits.durable()).toBeUndefined();
    void commits.run(insert(db, 1));
    await tick();
    const reader = watch(commits.durable()!);
    await tick();
    expect(reader.done).toBe(false);
    disk.release();
    await tick();
    expect(reader.done).toBe(true);
    expect(commits.durable()).toBeUndefined();
  });

  test("a write that throws is rolled back alone; the others of its batch commit", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const commits = new GroupCommit(db, { synchronous: "FULL", path, sync: disk.sync });
    const ok = watch(commits.run(insert(db, 1)));
    const dup = watch(commits.run(() => {
      insert(db, 2)();
      return insert(db, 1)(); // violates UNIQUE after writing 2
    }));
    await tick();
    disk.release();
    await tick();
    expect(ok.value).toBe(1);
    expect(String(dup.error)).toContain("UNIQUE");
    expect(db.$client.query("SELECT v FROM t ORDER BY v").all()).toEqual([{ v: 1 }]);
  });

  test("a batch runs once, without savepoints; when one write throws, the batch is rolled back and run again with each write isolated", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path, sync: async () => {} }));
    const runs = new Map<string, number>();
    const counted = (name: string, work: () => number) => () => (runs.set(name, (runs.get(name) ?? 0) + 1), work());
    await Promise.all([commits.run(counted("a", insert(db, 10))), commits.run(counted("b", insert(db, 20)))]);
    expect(Object.fromEntries(runs)).toEqual({ a: 1, b: 1 });

    runs.clear();
    const before = watch(commits.run(counted("c", insert(db, 30))));
    const bad = watch(commits.run(counted("bad", () => (insert(db, 40)(), insert(db, 30)()))));
    const after = watch(commits.run(counted("d", insert(db, 50))));
    for (let i = 0; i < 3 && !after.done; i++) await tick();
    expect(Object.fromEntries(runs)).toEqual({ c: 2, bad: 2, d: 1 }); // the first run stops at the throw
    expect([before.value, after.value]).toEqual([1, 1]);
    expect(String(bad.error)).toContain("UNIQUE");

    runs.clear();
    const alone = watch(commits.run(counted("alone", () => (insert(db, 60)(), insert(db, 10)()))));
    for (let i = 0; i < 3 && !alone.done; i++) await tick();
    expect(String(alone.error)).toContain("UNIQUE");
    expect(runs.get("alone")).toBe(1); // nothing else in its batch: no second run
    expect(db.$client.query("SELECT v FROM t ORDER BY v").all()).toEqual([10, 20, 30, 50].map((v) => ({ v })));
  });

  test("a full disk in the middle of a batch fails every write of it with SQLITE_FULL, keeps none, and leaves no transaction open", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path, sync: async () => {} }));
    const sqlite = db.$client;
    sqlite.run("CREATE TABLE big (b BLOB NOT NULL)");
    const pages = (sqlite.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    sqlite.run(`PRAGMA max_page_count = ${pages + 2}`); // room for a small row, not for 64 KiB
    const small = watch(commits.run(insert(db, 1)));
    const huge = watch(commits.run(() => sqlite.query("INSERT INTO big (b) VALUES (?)").run(new Uint8Array(65536)).changes));
    for (let i = 0; i < 3 && !huge.done; i++) await tick();
    expect([(small.error as { code?: string })?.code, (huge.error as { code?: string })?.code]).toEqual(["SQLITE_FULL", "SQLITE_FULL"]);
    expect(count(db)).toBe(0);
    expect(sqlite.inTransaction).toBe(false);
    sqlite.run("PRAGMA max_page_count = 1073741823"); // space is back: writes go through again
    expect(await commits.run(insert(db, 2))).toBe(1);
    expect(count(db)).toBe(1);
  });

  test("a refused sync fails its callers and every later write, and is reported", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const reported: unknown[] = [];
    const commits = new GroupCommit(db, { synchronous: "FULL", path, sync: disk.sync, onSyncFailure: (e) => reported.push(e) });
    const a = watch(commits.run(insert(db, 1)));
    await tick();
    const reader = watch(commits.durable()!);
    disk.refuse(Object.assign(new Error("EIO: i/o error"), { code: "EIO" }));
    await tick();
    expect(String(a.error)).toContain("EIO");
    expect(String(reader.error)).toContain("EIO");
    expect(reported).toHaveLength(1);
    await expect(commits.run(insert(db, 2))).rejects.toThrow("EIO");
    expect(count(db)).toBe(1); // the later write never ran
    expect(commits.storageState()).toMatchObject({ writable: false, error: expect.stringContaining("the disk refused to sync: EIO") }); // for good
  });

  test("the group's own NORMAL commit does not leak: the connection is back at FULL after each batch", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path }));
    const seen: number[] = [];
    await commits.run(() => seen.push((db.$client.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous));
    expect(seen).toEqual([1]); // NORMAL inside the batch
    expect((db.$client.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous).toBe(2); // FULL
  });

  test("with the real fdatasync of the -wal file, answered writes are in the file another connection opens", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path }));
    await Promise.all(Array.from({ length: 100 }, (_, i) => commits.run(insert(db, i))));
    const other = new Database(path, { readonly: true });
    expect((other.query("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(100);
    other.close();
    await commits.drain();
  });
});

describe("group commit with synchronous NORMAL or OFF", () => {
  test("answers right after the commit, without a WAL sync of its own", async () => {
    const { db, path } = fileDb();
    const disk = new ManualSync();
    const commits = new GroupCommit(db, { synchronous: "NORMAL", path, sync: disk.sync });
    expect(await commits.run(insert(db, 1))).toBe(1);
    expect(disk.calls).toBe(0);
    expect(commits.durable()).toBeUndefined();
  });
});

describe("storage state (what /health and tgcpa_storage_writable report)", () => {
  test("a batch failing with SQLITE_FULL makes it unwritable with that error; an empty batch does not clear it; a batch that writes does", async () => {
    const { db, path } = fileDb();
    let now = 1000;
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path, sync: async () => {}, now: () => now }));
    const sqlite = db.$client;
    sqlite.run("CREATE TABLE big (b BLOB NOT NULL)");
    expect(commits.storageState()).toEqual({ writable: true });
    const pages = (sqlite.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    sqlite.run(`PRAGMA max_page_count = ${pages + 1}`);
    await commits.run(() => sqlite.query("INSERT INTO big (b) VALUES (?)").run(new Uint8Array(65536))).catch(() => {});
    expect(commits.storageState()).toEqual({ writable: false, error: expect.stringContaining("full"), since: 1000 });
    now = 2000;
    await commits.run(() => sqlite.query("SELECT count(*) FROM t").get()); // reads only: proves nothing
    await commits.run(() => sqlite.query("UPDATE t SET v = v WHERE 0").run()); // changes no row
    expect(commits.storageState()).toMatchObject({ writable: false, since: 1000 });
    sqlite.run("PRAGMA max_page_count = 1073741823");
    await commits.run(insert(db, 1));
    expect(commits.storageState()).toEqual({ writable: true });
    expect(commits.lastWriteAt).toBe(2000);
  });

  test("a write that fails for its own reason (a constraint) says nothing about storage", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "FULL", path, sync: async () => {} }));
    await commits.run(insert(db, 1));
    await expect(commits.run(insert(db, 1))).rejects.toThrow("UNIQUE");
    expect(commits.storageState()).toEqual({ writable: true });
  });

  test("storage trouble on a path that writes on its own is noted; other errors are not", () => {
    const { db, path } = fileDb();
    const commits = new GroupCommit(db, { synchronous: "FULL", path, sync: async () => {}, now: () => 5 });
    commits.noteStorageFailure(new Error("UNIQUE constraint failed"));
    expect(commits.storageState()).toEqual({ writable: true });
    commits.noteStorageFailure(Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR_WRITE" }));
    expect(commits.storageState()).toEqual({ writable: false, error: "disk I/O error", since: 5 });
  });
});

describe("a write must finish within its transaction's turn", () => {
  test("a write that awaits a timer is refused with its batch (HeldTransaction) and nothing of the batch is kept; the next batch goes through", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "NORMAL", path }));
    const innocent = watch(commits.run(insert(db, 1)));
    const holder = watch(commits.run(async () => {
      insert(db, 2)();
      await new Promise((resolve) => setTimeout(resolve, 5)); // the network, say: the transaction would stay open meanwhile
      return insert(db, 3)();
    }));
    for (let i = 0; i < 20 && !holder.done; i++) await new Promise((r) => setTimeout(r, 5));
    expect(holder.error).toBeInstanceOf(HeldTransaction);
    expect(innocent.error).toBeInstanceOf(HeldTransaction);
    expect(count(db)).toBe(0);
    expect(db.$client.inTransaction).toBe(false);
    expect(await commits.run(insert(db, 4))).toBe(1);
    expect(count(db)).toBe(1);
  });

  test("writes that await only their own statements (microtasks) share one batch", async () => {
    const { db, path } = fileDb();
    const commits = track(new GroupCommit(db, { synchronous: "NORMAL", path }));
    const step = async (v: number) => {
      await Promise.resolve();
      const n = insert(db, v)();
      await Promise.resolve();
      return n;
    };
    const results = await Promise.all([1, 2, 3].map((v) => commits.run(() => step(v))));
    expect(results).toEqual([1, 1, 1]);
    expect(commits.stats.batches).toBe(1);
  });
});
