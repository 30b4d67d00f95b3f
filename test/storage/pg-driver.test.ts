// Driver conformance: what tgcpa relies on Bun.sql for, against a real PostgreSQL, so a Bun upgrade
// that breaks one of these bug classes (seen in Bun.sql and postgres.js alike) fails here first:
// a pool after the server closed its connections, a constraint error inside a transaction, int8
// values, jsonb through drizzle, LISTEN/NOTIFY across commit, rollback and a lost connection,
// advisory transaction locks and FOR UPDATE SKIP LOCKED. No timestamps: tgcpa stores epoch ms in int8.
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sql";
import { isStorageUnavailable } from "../../src/lib/errors.ts";
import { readInt8 } from "../../src/storage/postgres/connect.ts";
import { journal } from "../../src/storage/postgres/schema.ts";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { eventually } from "../helpers/eventually.ts";
import { describePostgres, PG_ADMIN_URL, useTestDatabase } from "../helpers/postgres.ts";

const cleanup = cleanupAfterEach();
let pools = 0;

describePostgres("Bun.sql against PostgreSQL", () => {
  const db = useTestDatabase();
  /** A pool of its own, named so its server backends can be found (and terminated). */
  const pool = (max = 3) => {
    const app = `tgcpa_drv_${process.pid}_${++pools}`;
    const sql = new SQL(db().url, { max, connection: { application_name: app } });
    cleanup.push(() => sql.close());
    return { sql, app };
  };
  const admin = () => {
    const sql = new SQL(PG_ADMIN_URL, { max: 1 });
    cleanup.push(() => sql.close());
    return sql;
  };
  const backends = async (sql: SQL, app: string, where = "true") =>
    (await sql.unsafe(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND ${where}`, [app]) as { pid: number }[]).map((r) => r.pid);
  /** Terminates the backends and waits until they are gone, as after a failover or an operator's kill. */
  const terminate = async (sql: SQL, pids: number[]) => {
    await sql`SELECT pg_terminate_backend(pid) FROM unnest(${sql.array(pids, "INT4")}) AS pid`;
    await eventually(async () => (await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY(${sql.array(pids, "INT4")})`)[0].n === 0,
      10_000, "the terminated backends to exit");
  };

  test("after the server closes every connection of the pool: the query in flight fails as 'unavailable', the next ones work", async () => {
    const { sql, app } = pool(3);
    await Promise.all([1, 2, 3].map(() => sql`SELECT pg_sleep(0.05)`));
    const ctl = admin();
    const pids = await backends(ctl, app);
    expect(pids.length).toBe(3);
    const inFlight = sql`SELECT pg_sleep(30)`.execute();
    const failed = inFlight.then(() => null, (err: unknown) => err);
    await eventually(async () => (await backends(ctl, app, "query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'")).length === 1, 10_000, "the query to run");
    await terminate(ctl, pids);

    const err = await failed as { code?: string; errno?: string } | null;
    expect(err).not.toBeNull();
    expect({ code: err!.code, errno: err!.errno }).toEqual({ code: "ERR_POSTGRES_SERVER_ERROR", errno: "57P01" }); // admin_shutdown
    expect(isStorageUnavailable(err)).toBe(true);

    expect((await sql`SELECT 41 + 1 AS n`)[0].n).toBe(42);
    const many = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => sql`SELECT ${i}::int AS n, pg_sleep(0.01)`));
    expect(many.map((r) => r[0].n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await backends(ctl, app)).some((pid) => pids.includes(pid))).toBe(false);
  }, 30_000);

  test("a transaction whose connection is terminated rejects as 'unavailable' and leaves nothing", async () => {
    const { sql, app } = pool(2);
    await sql`CREATE TABLE drv_killed (n int)`;
    const ctl = admin();
    const txDone = sql.begin(async (tx) => {
      await tx`INSERT INTO drv_killed VALUES (1)`;
      await tx`SELECT pg_sleep(30)`;
    }).then(() => null, (err: unknown) => err);
    await eventually(async () => (await backends(ctl, app, "query LIKE 'SELECT pg_sleep(30)%'")).length === 1, 10_000, "the transaction to run");
    await terminate(ctl, await backends(ctl, app, "query LIKE 'SELECT pg_sleep(30)%'"));
    expect(isStorageUnavailable(await txDone)).toBe(true);
    expect((await sql`SELECT count(*)::int AS n FROM drv_killed`)[0].n).toBe(0);
  }, 30_000);

  test("a unique violation inside a transaction: rejects with 23505, rolls back the whole transaction, the connection is usable", async () => {
    const { sql } = pool(1); // one connection: the next query runs on the very one that failed
    await sql`CREATE TABLE drv_unique (id int8 PRIMARY KEY, k text UNIQUE)`;
    await sql`INSERT INTO drv_unique VALUES (1, 'a')`;
    const [{ pid }] = await sql`SELECT pg_backend_pid() AS pid`;
    const err = await sql.begin(async (tx) => {
      await tx`INSERT INTO drv_unique VALUES (2, 'b')`;
      await tx`INSERT INTO drv_unique VALUES (3, 'a')`;
    }).then(() => null, (e: unknown) => e) as { code?: string; errno?: string; constraint?: string } | null;
    expect(err).toMatchObject({ code: "ERR_POSTGRES_SERVER_ERROR", errno: "23505", constraint: "drv_unique_k_key" });
    expect(isStorageUnavailable(err)).toBe(false);
    expect((await sql`SELECT k FROM drv_unique ORDER BY id`).map((r: { k: string }) => r.k)).toEqual(["a"]);
    // Not left inside the aborted transaction: the same backend takes a write, and it is committed
    // (another connection sees it).
    await sql`INSERT INTO drv_unique VALUES (4, 'c')`;
    expect((await sql`SELECT pg_backend_pid() AS pid`)[0].pid).toBe(pid);
    const other = pool(1).sql;
    expect((await other`SELECT k FROM drv_unique ORDER BY id`).map((r: { k: string }) => r.k)).toEqual(["a", "c"]);
  }, 30_000);

  test("int8: read as exact decimal strings (never rounded), written from JS numbers exactly up to 2^53 - 1", async () => {
    const { sql } = pool(1);
    await sql`CREATE TABLE drv_int8 (i int, v int8 NOT NULL)`;
    const values = [0, 2 ** 31, 2 ** 32 + 1, 1_767_225_600_123, -1_001_234_567_890, 2 ** 53 - 2, 2 ** 53 - 1, -(2 ** 53 - 1)];
    await sql`INSERT INTO drv_int8 ${sql(values.map((v, i) => ({ i, v })))}`;
    const rows = await sql`SELECT v, v::text AS text FROM drv_int8 ORDER BY i` as { v: unknown; text: string }[];
    expect(rows.map((r) => r.v)).toEqual(values.map(String));
    expect(rows.map((r) => r.text)).toEqual(values.map(String));
    expect(rows.map((r) => readInt8(r.v as string))).toEqual(values);
    const [beyond] = await sql`SELECT 9223372036854775807::int8 AS max, (${2 ** 53 - 1}::int8 + 2) AS above`;
    expect(beyond).toEqual({ max: "9223372036854775807", above: "9007199254740993" });
    expect(() => readInt8(beyond.above)).toThrow(RangeError);
    expect((await sql`SELECT count(*) AS n FROM drv_int8`)[0].n).toBe(String(values.length)); // count(*) is int8 too
  }, 30_000);

  test("drizzle over Bun.sql with tgcpa's schema: int8 as numbers, jsonb stored as JSON objects (not JSON strings)", async () => {
    const { sql } = pool(1);
    const orm = drizzle({ client: sql });
    const detail = { reason: "organic", chat: -1_001_234_567_890, nested: { ok: true } };
    const [row] = await orm.insert(journal).values({ kind: "drv", subscriber: 2 ** 53 - 1, chatId: -1_001_234_567_890, detail, createdAt: 1_767_225_600_123 }).returning();
    expect(row).toMatchObject({ subscriber: 2 ** 53 - 1, chatId: -1_001_234_567_890, detail, createdAt: 1_767_225_600_123 });
    expect(typeof row!.id).toBe("number");
    const [stored] = await sql`SELECT jsonb_typeof(detail) AS type, detail->>'reason' AS reason, detail->'nested'->>'ok' AS ok FROM journal WHERE id = ${row!.id}`;
    expect(stored).toEqual({ type: "object", reason: "organic", ok: "true" });
    expect(await orm.select().from(journal).where(eq(journal.id, row!.id))).toEqual([row!]);
  }, 30_000);

  test("LISTEN/NOTIFY: delivered at commit only, never after a rollback, and again once the listening connection was terminated", async () => {
    const { sql, app } = pool(2);
    const got: string[] = [];
    let listens = 0;
    const sub = await sql.listen("tgcpa_drv_wake", (payload) => got.push(payload), () => listens++);
    cleanup.push(() => sub.unlisten());
    const heard = (payload: string) => eventually(() => got.includes(payload), 10_000, `notification ${payload}`);

    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    const tx = sql.begin(async (t) => {
      await t.notify("tgcpa_drv_wake", "in-tx");
      await committing;
    });
    await sql.notify("tgcpa_drv_wake", "marker-1"); // sent after the one in the open transaction
    await heard("marker-1");
    expect(got).toEqual(["marker-1"]);
    commit();
    await tx;
    await heard("in-tx");

    await sql.begin(async (t) => {
      await t.notify("tgcpa_drv_wake", "rolled-back");
      throw new Error("roll back");
    }).catch(() => {});
    await sql.notify("tgcpa_drv_wake", "marker-2");
    await heard("marker-2");
    expect(got).toEqual(["marker-1", "in-tx", "marker-2"]);

    const ctl = admin();
    const listener = await backends(ctl, app, "query LIKE 'LISTEN%'");
    expect(listener.length).toBe(1);
    await terminate(ctl, listener);
    await eventually(() => listens >= 2, 15_000, "the listener to subscribe again");
    await sql.notify("tgcpa_drv_wake", "after-reconnect");
    await heard("after-reconnect");
  }, 30_000);

  test("pg_advisory_xact_lock serializes two transactions on one key and is released at commit", async () => {
    const { sql, app } = pool(3);
    const steps: string[] = [];
    let finishA!: () => void;
    const aMayCommit = new Promise<void>((resolve) => (finishA = resolve));
    let aLocked!: () => void;
    const aHasLock = new Promise<void>((resolve) => (aLocked = resolve));
    const a = sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(42, 7)`;
      steps.push("a locked");
      aLocked();
      await aMayCommit;
      steps.push("a commits");
    });
    await aHasLock;
    expect((await sql`SELECT pg_try_advisory_xact_lock(42, 7) AS got`)[0].got).toBe(false);
    const b = sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(42, 7)`;
      steps.push("b locked");
    });
    const ctl = admin();
    await eventually(async () => (await ctl`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity s USING (pid)
      WHERE l.locktype = 'advisory' AND NOT l.granted AND s.application_name = ${app}`)[0].n === 1, 10_000, "b to wait for the lock");
    expect(steps).toEqual(["a locked"]);
    finishA();
    await Promise.all([a, b]);
    expect(steps).toEqual(["a locked", "a commits", "b locked"]);
    expect((await sql`SELECT pg_try_advisory_xact_lock(42, 7) AS got`)[0].got).toBe(true); // released by both commits
  }, 30_000);

  test("FOR UPDATE SKIP LOCKED: a second claimer skips the row another transaction holds, without waiting", async () => {
    const { sql } = pool(3);
    await sql`CREATE TABLE drv_queue (id int8 PRIMARY KEY, claimed_by text)`;
    await sql`INSERT INTO drv_queue (id) SELECT generate_series(1, 3)`;
    const claim = (tx: SQL) => tx`SELECT id FROM drv_queue WHERE claimed_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first!: (id: string) => void;
    const firstClaimed = new Promise<string>((resolve) => (first = resolve));
    const a = sql.begin(async (tx) => {
      const [row] = await claim(tx);
      first(row.id);
      await held; // the row stays locked, unclaimed in the table, until this transaction ends
      await tx`UPDATE drv_queue SET claimed_by = 'a' WHERE id = ${row.id}`;
    });
    expect(await firstClaimed).toBe("1");
    const second = await sql.begin(async (tx) => {
      const [row] = await claim(tx);
      await tx`UPDATE drv_queue SET claimed_by = 'b' WHERE id = ${row.id}`;
      return row.id as string;
    });
    expect(second).toBe("2");
    release();
    await a;
    expect(await sql`SELECT id, claimed_by FROM drv_queue ORDER BY id`).toEqual([
      { id: "1", claimed_by: "a" }, { id: "2", claimed_by: "b" }, { id: "3", claimed_by: null },
    ]);
  }, 30_000);
});
