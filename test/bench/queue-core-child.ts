// One side of the queue-core scenario, in a fresh process (no JIT or page-cache sharing between
// the two sides):
//   bun test/bench/queue-core-child.ts tgcpa    JOBS DIR SYNCHRONOUS
//   bun test/bench/queue-core-child.ts plainjob JOBS DIR SYNCHRONOUS
// tgcpa: JOBS pending postbacks seeded (seed.ts), then claims through the SQLite storage port (batches of
// IN_FLIGHT, as the dispatcher asks for) + a completion per row, each a write of the storage port as
// src/delivery/attempt-runner.ts makes it (completions that arrive together
// share one transaction, settled at their commit; the next claim waits for the sync), no HTTP,
// until the outbox is empty and on the disk.
// plainjob: JOBS jobs added with addMany (untimed), then a plainjob worker with a no-op handler
// until none is pending or processing. Both on bun:sqlite, WAL, the same synchronous mode.
// Prints one JSON line {jobs, seconds, rate}.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { bun as plainBun, defineQueue, defineWorker, JobStatus } from "plainjob";
import { openSqliteStorage } from "../../src/storage/sqlite/store.ts";
import type { Synchronous } from "../../src/config/model.ts";
import { benchConfig } from "./bench-service.ts";
import { seedDatabase } from "./seed.ts";

const [impl, jobsArg, dir, syncArg, inFlightArg] = process.argv.slice(2);
const jobs = Number(jobsArg);
const synchronous = (syncArg ?? "FULL") as Synchronous;
const inFlight = Number(inFlightArg ?? 256);
const TIME_LIMIT_MS = Number(process.env.BENCH_QUEUE_TIME_LIMIT_S ?? 600) * 1000;
if (!dir || !Number.isInteger(jobs) || jobs <= 0) throw new Error("usage: queue-core-child.ts tgcpa|plainjob JOBS DIR [SYNCHRONOUS] [IN_FLIGHT]");

async function runTgcpa() {
  // The receiver port is never contacted here: no HTTP in this scenario.
  const config = benchConfig(dir!, { receiverPort: 9, synchronous, inFlight });
  seedDatabase({ config, rows: jobs, state: "pending" });
  const storage = openSqliteStorage({ path: join(dir!, "tgcpa.db"), synchronous });
  const t0 = performance.now();
  let done = 0;
  let lost = 0;
  while (done < jobs && performance.now() - t0 < TIME_LIMIT_MS) {
    const rows = await storage.write(async (tx) => tx.outbox.claimDue({ now: Date.now(), limit: inFlight, leaseMs: 60_000, blocked: [], allowance: () => inFlight, inFlight: () => false }));
    if (rows.length === 0) break;
    const kept = await Promise.all(rows.map((row) => {
      const startedAt = Date.now();
      return storage.write(async (tx) => tx.outbox.complete(row, {
        postbackId: row.id, attempt: row.attempts, startedAt, durationMs: 1, url: row.url, httpStatus: 200,
        outcome: "delivered", error: null, responseHead: "OK",
      }, { state: "delivered", reason: null }, Date.now()), { beforeSync: true });
    }));
    for (const ok of kept) {
      if (ok) done++;
      else lost++;
    }
  }
  await storage.durable(); // the last outcomes on the disk too, as plainjob's are
  const seconds = (performance.now() - t0) / 1000;
  const left = storage.db.$client.query<{ n: number }, []>("SELECT count(*) AS n FROM postbacks WHERE state = 'pending'").get()!.n;
  await storage.close();
  return { impl: "tgcpa", jobs: done, lost, left, seconds, rate: done / seconds, synchronous };
}

async function runPlainjob() {
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const sqlite = new Database(join(dir!, "plainjob.db"), { strict: true, create: true });
  const queue = defineQueue({ connection: plainBun(sqlite), logger: silent });
  // plainjob sets synchronous=NORMAL itself; compare at the same durability as the service.
  sqlite.run(`PRAGMA synchronous = ${synchronous}`);
  const payload = (i: number) => ({ url: `http://127.0.0.1:9/pb?click=c${i}&status=wait&lead=${i}&event=${i}` });
  for (let start = 0; start < jobs; start += 20_000) {
    queue.addMany("postback", Array.from({ length: Math.min(20_000, jobs - start) }, (_, k) => payload(start + k)));
  }
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  let handled = 0;
  // Counted once plainjob marked the job done. The worker loop only awaits microtasks while jobs
  // remain, so the poll below wakes when the queue ran dry (plus at most one 10 ms poll interval).
  const worker = defineWorker("postback", () => {}, { queue, logger: silent, pollIntervall: 10, onCompleted: () => handled++ });
  const t0 = performance.now();
  const running = worker.start();
  const left = () => queue.countJobs({ status: JobStatus.Pending }) + queue.countJobs({ status: JobStatus.Processing });
  while (handled < jobs && performance.now() - t0 < TIME_LIMIT_MS) await Bun.sleep(5);
  const seconds = (performance.now() - t0) / 1000;
  await worker.stop();
  await running;
  const remaining = left();
  queue.close();
  return { impl: "plainjob", jobs: handled, lost: 0, left: remaining, seconds, rate: handled / seconds, synchronous };
}

const result = impl === "tgcpa" ? await runTgcpa() : impl === "plainjob" ? await runPlainjob() : null;
if (!result) throw new Error(`unknown implementation ${impl}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
