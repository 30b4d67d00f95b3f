// GET /health and tgcpa_storage_writable: 503 with "storage": "unwritable" while writes fail, 200
// again once they succeed — learned from the outcome of real writes, and, when nothing has written
// for 10 s, from one probe row that the next /health or /metrics writes first (never a write per
// call). Writes fail here because another connection holds the write lock past
// storage.busy_timeout_ms (disk full: see test/faults/storage-trouble.test.ts).
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { queryDb, sqliteOnly } from "../helpers/service/database.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

// On PostgreSQL each instance's heartbeat writes every second, which tells the storage state as
// well as a probe would (no probe row is written), and trouble there is a lost server, not a lock
// (test/storage/pg-engine.test.ts, test/cluster/pg-terminate.test.ts).
const probed = sqliteOnly("the idle probe row; on PostgreSQL the heartbeat's writes tell the state");
const locked = sqliteOnly("another process holds the SQLite file's write lock");

const cleanup = cleanupAfterEach();

async function setup() {
  const clock = new FakeClock();
  const svc = await startTestService((dir) => ({ storage: { path: join(dir, "tgcpa.db"), busy_timeout_ms: 50 }, campaigns: [{ code: "c1" }] }), { clock });
  cleanup.push(() => svc.stop());
  return { svc, clock };
}

const health = async (svc: TestService) => {
  const res = await fetch(`${svc.url}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const gauge = async (svc: TestService) => (await (await fetch(`${svc.url}/metrics`)).text()).match(/^tgcpa_storage_writable (\d)$/m)?.[1];

/** Another process's connection holding the write lock until released. */
function holdWriteLock(svc: TestService) {
  const other = new Database(`${svc.dir}/tgcpa.db`);
  other.run("BEGIN IMMEDIATE");
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    other.run("COMMIT");
    other.close();
  };
  cleanup.push(release);
  return release;
}

const probeRows = (svc: TestService) => queryDb(`${svc.dir}/tgcpa.db`, "SELECT written_at AS at FROM storage_probe");

describe("/health and tgcpa_storage_writable", () => {
  probed("ok and writable at start; /health writes at most one probe row per 10 s without other writes", async () => {
    const { svc, clock } = await setup();
    for (let i = 0; i < 20; i++) expect(await health(svc)).toEqual({ status: 200, body: { status: "ok", db: "ok", storage: "writable", in_flight: 0 } });
    expect(await gauge(svc)).toBe("1");
    expect(await probeRows(svc)).toEqual([]); // the start wrote: no probe yet
    clock.advance(10_000);
    const first = clock.now();
    for (let i = 0; i < 20; i++) expect((await health(svc)).status).toBe(200);
    expect(await gauge(svc)).toBe("1");
    expect(await probeRows(svc)).toEqual([{ at: first }]); // one write for 21 calls
    clock.advance(9_999);
    await health(svc);
    expect(await probeRows(svc)).toEqual([{ at: first }]);
    clock.advance(1);
    await health(svc);
    expect(await probeRows(svc)).toEqual([{ at: first + 10_000 }]);
  });

  locked("a write that fails turns /health to 503 unwritable at once; a write that succeeds turns it back", async () => {
    const { svc } = await setup();
    const release = holdWriteLock(svc);
    const refused = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait" });
    expect(refused.status).toBe(503);
    const down = await health(svc);
    expect(down).toEqual({
      status: 503,
      body: { status: "error", db: "ok", storage: "unwritable", storage_error: expect.stringContaining("locked"), storage_unwritable_since: expect.any(String), in_flight: 0 },
    });
    expect(await gauge(svc)).toBe("0");
    release();
    expect((await health(svc)).status).toBe(503); // nothing has written since
    expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait" })).status).toBe(200);
    expect(await health(svc)).toMatchObject({ status: 200, body: { status: "ok", storage: "writable" } });
    expect(await gauge(svc)).toBe("1");
  });

  locked("while nothing writes, the next /health after 10 s probes: it finds that writes fail, and later that they succeed again", async () => {
    const { svc, clock } = await setup();
    const release = holdWriteLock(svc);
    clock.advance(10_000);
    expect(await health(svc)).toMatchObject({ status: 503, body: { storage: "unwritable", storage_error: expect.stringContaining("locked") } });
    expect(await gauge(svc)).toBe("0");
    release();
    expect((await health(svc)).status).toBe(503); // the last probe is less than 10 s old
    clock.advance(10_000);
    expect(await gauge(svc)).toBe("1"); // /metrics probes the same way
    expect(await health(svc)).toMatchObject({ status: 200, body: { storage: "writable" } });
    expect(await probeRows(svc)).toEqual([{ at: clock.now() }]);
  });

  test("while writes keep succeeding there is no probe", async () => {
    const { svc, clock } = await setup();
    for (let i = 1; i <= 5; i++) {
      clock.advance(5_000);
      expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber: i, status: "wait" })).status).toBe(200);
      expect((await health(svc)).status).toBe(200);
    }
    expect(await probeRows(svc)).toEqual([]);
  });
});
