// The PostgreSQL engine's own promises, against a real server: a deadlock is retried whole and both
// writers commit; two storages (two instances) writing one lead or one Idempotency-Key at once do
// what one would; claims from two storages never share a row and keep each lead's order; a shared
// batch with a failing write fails it alone; storage trouble (the connections terminated) turns the
// state unwritable with its error and the next committed write turns it back; one instance at a
// time runs work of one name; backup and restore refuse and point to pg_dump.
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRuntime } from "../../src/config/runtime.ts";
import { parseConfig } from "../../src/config/load.ts";
import { applyLeadEvent } from "../../src/leads/service.ts";
import type { ClaimedPostback } from "../../src/storage/outbox-types.ts";
import { openPostgresStorage, type PostgresStorage } from "../../src/storage/postgres/store.ts";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { eventually } from "../helpers/eventually.ts";
import { describePostgres, PG_ADMIN_URL, useTestDatabase } from "../helpers/postgres.ts";
import { runCommand } from "../helpers/service/subprocess.ts";

const cleanup = cleanupAfterEach();
const T0 = 1_767_225_600_000;

describePostgres("the PostgreSQL engine", () => {
  const db = useTestDatabase();
  let opened = 0;
  const storage = async (pool = 4): Promise<PostgresStorage> => {
    const s = await openPostgresStorage({ url: db().url, pool_size: pool, application_name: `tgcpa_engine_${process.pid}_${++opened}` });
    cleanup.push(() => s.close());
    return s;
  };
  const admin = () => {
    const sql = new SQL(PG_ADMIN_URL, { max: 1 });
    cleanup.push(() => sql.close());
    return sql;
  };
  const campaign = async (s: PostgresStorage, code: string) => (await s.write(async (tx) => tx.campaigns.sync([{ code, name: code, bot: null, chat: null, paused: false }], T0))).get(code)!;
  const runtimeOf = async (s: PostgresStorage, code: string) => {
    const config = parseConfig(`api_keys: [k0123456789abcdef0123456789abcdef]\npostbacks: { wait: "http://trk.example/pb?c={click}&s={status}", approve: "http://trk.example/pb?c={click}&s={status}" }\ncampaigns: [{ code: ${code} }]\n`, {});
    return buildRuntime(config, new Map([[code, await campaign(s, code)]]));
  };

  test("a deadlock between two writes is retried whole: both commit, each once", async () => {
    const s = await storage();
    const id = await campaign(s, "dl");
    const runs = { a: 0, b: 0 };
    const bothHoldOne = Promise.withResolvers<void>();
    let holding = 0;
    // Each write takes one lead lock, waits until the other holds its own, then asks for the other's.
    const write = (name: "a" | "b", first: number, second: number) => s.write(async (tx) => {
      runs[name]++;
      await tx.leads.lock(id, first);
      if (++holding === 2) bothHoldOne.resolve();
      if (runs[name] === 1) await bothHoldOne.promise;
      await tx.leads.lock(id, second);
      await tx.journal.insert({ kind: `deadlock_${name}`, createdAt: T0 });
      return name;
    });
    expect(await Promise.all([write("a", 1, 2), write("b", 2, 1)])).toEqual(["a", "b"]);
    expect(runs.a + runs.b).toBe(3); // PostgreSQL chose one of them to fail; it ran again
    expect((await s.read.journal.list({ limit: 10 })).map((j) => j.kind).sort()).toEqual(["deadlock_a", "deadlock_b"]);
  }, 30_000);

  test("two instances given the same new lead at once make one lead; the same Idempotency-Key writes once", async () => {
    const [one, two] = [await storage(), await storage()];
    const runtime = await runtimeOf(one, "same");
    const event = (s: PostgresStorage, status: "wait" | "approve") => s.write(async (tx) => applyLeadEvent(tx, runtime, { campaign: "same", subscriber: 4242, status, click: "k", source: "api" }, T0));
    const results = await Promise.all([event(one, "wait"), event(two, "wait"), event(one, "wait"), event(two, "wait")]);
    expect(results.filter((r) => r.applied).length).toBe(1); // the others saw it and were duplicates
    expect(new Set(results.map((r) => r.lead!.id)).size).toBe(1);
    expect(await one.read.leads.list({ subscriber: 4242, limit: 10 })).toHaveLength(1);
    expect((await one.read.outbox.list({ limit: 10 })).length).toBe(1);

    const answer = (s: PostgresStorage, n: number) => s.write(async (tx) => {
      await tx.leads.lockIdempotencyKey("key-1");
      const earlier = await tx.leads.idempotentAnswer("key-1");
      if (earlier) return `replayed ${earlier.response}`;
      await tx.leads.storeIdempotentAnswer({ key: "key-1", requestHash: "h", statusCode: 200, response: `first ${n}`, createdAt: T0, client: "k", spent: n, answerHash: null });
      return `stored ${n}`;
    });
    const answers = await Promise.all([1, 2, 3, 4].map((n) => answer(n % 2 ? one : two, n)));
    expect(answers.filter((a) => a.startsWith("stored")).length).toBe(1);
    const stored = answers.find((a) => a.startsWith("stored"))!.slice("stored ".length);
    expect(answers.filter((a) => a === `replayed first ${stored}`).length).toBe(3);
  }, 30_000);

  test("claims from two instances at once never share a row, and a lead's second row waits for its first", async () => {
    const [one, two] = [await storage(), await storage()];
    await campaign(one, "claims");
    const rows = Array.from({ length: 400 }, (_, i) => ({
      leadId: 1 + (i % 200), eventId: i + 1, campaignId: 1, status: "wait" as const, template: "t", method: "GET", url: `http://h${i % 2}.example/${i}`,
      host: `h${i % 2}.example`, state: "pending" as const, nextAttemptAt: T0 + i, createdAt: T0, updatedAt: T0,
    }));
    const written = await one.write(async (tx) => tx.outbox.insert(rows));
    const claim = (s: PostgresStorage) => s.write(async (tx) => tx.outbox.claimDue({
      now: T0 + 1000, limit: 50, leaseMs: 60_000, blocked: [], allowance: () => 50, inFlight: () => false, heldIds: () => [],
    }));
    const claimed: ClaimedPostback[] = [];
    for (let round = 0; round < 10; round++) claimed.push(...(await Promise.all([claim(one), claim(two), claim(one), claim(two)])).flat());
    const mine = claimed.filter((c) => /^h\d\.example$/.test(c.host)); // this database has the other tests' rows too
    const ids = mine.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length); // no row twice
    // Whatever was claimed is the head of its line (its lead's first row to that host); every head was claimed, once.
    const byLeadHost = Map.groupBy(rows.map((r, i) => ({ ...r, id: written[i]!.id })), (r) => `${r.leadId} ${r.host}`);
    for (const c of mine) expect(byLeadHost.get(`${c.leadId} ${c.host}`)![0]!.id).toBe(c.id);
    expect(mine.length).toBe(byLeadHost.size);
    expect(mine.length).toBeLessThan(rows.length); // some rows wait behind their lead's first
  }, 30_000);

  test("a shared batch in which one write throws: that write fails alone, the others commit (each after a second run)", async () => {
    const s = await storage();
    const runs = new Map<number, number>();
    const work = (n: number) => s.write(async (tx) => {
      runs.set(n, (runs.get(n) ?? 0) + 1);
      await tx.journal.insert({ kind: `shared_${n}`, createdAt: T0 });
      if (n === 3) throw new Error("this one is refused");
      return n;
    }, { shared: true });
    const settled = await Promise.allSettled([1, 2, 3, 4, 5].map(work));
    expect(settled.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([1, 2, "this one is refused", 4, 5]);
    expect((await s.read.journal.list({ limit: 20 })).map((j) => j.kind).filter((k) => k.startsWith("shared_")).sort()).toEqual(["shared_1", "shared_2", "shared_4", "shared_5"]);
    expect([...runs.values()].every((n) => n === 2)).toBe(true); // together, rolled back, then each alone
    const before = s.metrics.batches;
    await Promise.all([6, 7, 8].map(work));
    expect(s.metrics.batches - before).toBe(1); // shared writes that all succeed: one transaction
  }, 30_000);

  test("the connections terminated under a write: unwritable with the error, a write retried on a new connection, writable once one commits", async () => {
    const s = await storage(2);
    const name = `tgcpa_engine_${process.pid}_${opened}`;
    await s.write(async (tx) => tx.writeProbe(T0));
    expect(s.state()).toEqual({ writable: true });
    const ctl = admin();
    // A write that holds its transaction while every connection of the pool is terminated.
    const held = s.write(async (tx) => {
      await tx.journal.insert({ kind: "cut", createdAt: T0 });
      await ctl`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${name}`;
      await tx.journal.insert({ kind: "cut-2", createdAt: T0 });
    }).then(() => "committed", (err: { errno?: string; code?: string }) => err.errno ?? err.code);
    // Its first run lost its connection and was run again on a new one, which it cut too: refused, as unavailable.
    const outcome = await held;
    expect(["57P01", "ERR_POSTGRES_CONNECTION_CLOSED"]).toContain(outcome!);
    expect(s.state()).toMatchObject({ writable: false, error: expect.any(String), since: expect.any(Number) });
    await eventually(async () => (await s.write(async (tx) => tx.writeProbe(T0 + 1)).then(() => true, () => false)), 10_000, "a write on new connections");
    expect(s.state()).toEqual({ writable: true });
    expect(await s.read.journal.list({ kind: "cut", limit: 5 })).toEqual([]); // neither run was committed
  }, 30_000);

  test("work of one name runs on one instance at a time; the other skips it", async () => {
    const [one, two] = [await storage(), await storage()];
    const release = Promise.withResolvers<void>();
    const running = one.runAlone("retention", async () => {
      await release.promise;
      return "one ran";
    });
    await Bun.sleep(50);
    expect(await two.runAlone("retention", async () => "two ran")).toBeUndefined();
    expect(await two.runAlone("another", async () => "two ran another")).toBe("two ran another");
    release.resolve();
    expect(await running).toBe("one ran");
    expect(await two.runAlone("retention", async () => "two ran")).toBe("two ran"); // released when the work ended
  }, 30_000);

  test("tgcpa backup and restore on PostgreSQL refuse and point to pg_dump / pg_restore, the password hidden", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tgcpa-pg-backup-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const url = new URL(db().url);
    url.password = "pw-not-shown";
    writeFileSync(join(dir, "config.yaml"), `api_keys: [k0123456789abcdef0123456789abcdef]\nstorage: { driver: postgres, url: "${url}" }\n`);
    const backup = await runCommand(["backup", join(dir, "x.db"), "--config", join(dir, "config.yaml")]);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain("tgcpa backup: storage.driver is postgres");
    expect(backup.stderr).toContain("pg_dump");
    const restore = await runCommand(["restore", join(dir, "x.db"), "--config", join(dir, "config.yaml")]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain("pg_restore");
    expect(backup.stderr + restore.stderr).not.toContain("pw-not-shown");
    expect(backup.stderr).toContain(":***@");
  }, 30_000);
});
