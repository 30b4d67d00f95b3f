// One side of the `pg queue core` scenario, in a fresh process, on a fresh PostgreSQL database:
//   bun test/bench/pg-queue-child.ts tgcpa    JOBS URL IN_FLIGHT
//   bun test/bench/pg-queue-child.ts graphile JOBS URL IN_FLIGHT
// tgcpa: JOBS pending postbacks inserted (untimed), then claims through the PostgreSQL storage port
// (claimDue of IN_FLIGHT, as the dispatcher asks for) and a completion per row, each a shared write
// as src/delivery/attempt-runner.ts makes it (outcomes that finish together: one transaction, one
// statement), no HTTP, until none is pending.
// graphile: JOBS jobs added with addJobs (untimed), then graphile-worker (pinned) in its batched
// mode — localQueue (jobs fetched and locked IN_FLIGHT at a time) and completeJobBatchDelay 0
// (completions batched) — with concurrency IN_FLIGHT and a no-op task, until every job succeeded.
// Both on the same server, each on a database of its own. Prints one JSON line {jobs, seconds, rate}.
import { SQL } from "bun";
import { makeWorkerUtils, run, runMigrations } from "graphile-worker";
import { openPostgresStorage } from "../../src/storage/postgres/store.ts";

const [impl, jobsArg, url, inFlightArg] = process.argv.slice(2);
const jobs = Number(jobsArg);
const inFlight = Number(inFlightArg ?? 256);
const TIME_LIMIT_MS = Number(process.env.BENCH_QUEUE_TIME_LIMIT_S ?? 600) * 1000;
if (!url || !Number.isInteger(jobs) || jobs <= 0) throw new Error("usage: pg-queue-child.ts tgcpa|graphile JOBS URL [IN_FLIGHT]");

async function runTgcpa() {
  const storage = await openPostgresStorage({ url: url!, pool_size: 10 });
  await storage.write(async (tx) => tx.campaigns.sync([{ code: "bench", name: "bench", bot: null, chat: null, paused: false }], Date.now()));
  const seed = new SQL(url!, { max: 1 });
  const now = Date.now();
  // Every row heads its own lead's line, due now, one tracker host: what a backlog looks like.
  await seed.unsafe(`INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, created_at, updated_at)
    SELECT i, i, 1, 'wait', 'postbacks.wait', 'GET', 'http://127.0.0.1:9/pb?lead=' || i, '127.0.0.1:9', 'pending', $1::int8 - $2::int8 + i, $1::int8, $1::int8
    FROM generate_series(1, $2::int) AS i`, [now, jobs]);
  await seed.unsafe("VACUUM ANALYZE postbacks");
  await seed.close();
  const t0 = performance.now();
  let done = 0;
  let lost = 0;
  const claim = () => storage.write(async (tx) => tx.outbox.claimDue({
    now: Date.now(), limit: inFlight, leaseMs: 60_000, blocked: [], allowance: () => inFlight, inFlight: () => false, heldIds: () => [],
  }));
  const complete = (rows: Awaited<ReturnType<typeof claim>>) => Promise.all(rows.map((row) => {
    const startedAt = Date.now();
    return storage.write(async (tx) => tx.outbox.complete(row, {
      postbackId: row.id, attempt: row.attempts, startedAt, durationMs: 1, url: row.url, httpStatus: 200, outcome: "delivered", error: null, responseHead: "OK",
    }, { state: "delivered", reason: null }, Date.now()), { beforeSync: true, shared: true });
  }));
  // As the dispatcher runs: the next claim round goes while the last one's outcomes are being saved.
  let rows = await claim();
  while (rows.length > 0 && performance.now() - t0 < TIME_LIMIT_MS) {
    const [kept, next] = await Promise.all([complete(rows), claim()]);
    for (const ok of kept) (ok ? done++ : lost++);
    rows = next;
  }
  const seconds = (performance.now() - t0) / 1000;
  const left = (await storage.read.outbox.stateCounts()).find((s) => s.state === "pending")?.n ?? 0;
  const batches = storage.metrics.batches;
  await storage.close();
  return { impl: "tgcpa", jobs: done, lost, left, seconds, rate: done / seconds, transactions: batches };
}

async function runGraphile() {
  await runMigrations({ connectionString: url! });
  const utils = await makeWorkerUtils({ connectionString: url! });
  for (let start = 0; start < jobs; start += 10_000) {
    await utils.addJobs(Array.from({ length: Math.min(10_000, jobs - start) }, (_, k) => ({ identifier: "postback", payload: { url: `http://127.0.0.1:9/pb?lead=${start + k}` } })));
  }
  await utils.release();
  let handled = 0;
  const finished = Promise.withResolvers<void>();
  const t0 = performance.now();
  const runner = await run({
    connectionString: url!, concurrency: inFlight, noHandleSignals: true, pollInterval: 1000,
    logger: new (await import("graphile-worker")).Logger(() => () => {}),
    taskList: { postback: async () => {} },
    preset: { worker: { localQueue: { size: inFlight }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  runner.events.on("job:complete", () => {
    if (++handled >= jobs) finished.resolve();
  });
  await Promise.race([finished.promise, Bun.sleep(TIME_LIMIT_MS)]);
  // Counted once graphile-worker reported each job done; its batched completion is then committed at the stop.
  await runner.stop();
  const seconds = (performance.now() - t0) / 1000;
  const sql = new SQL(url!, { max: 1 });
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM graphile_worker._private_jobs`;
  await sql.close();
  return { impl: "graphile-worker", jobs: handled, lost: 0, left: n as number, seconds, rate: handled / seconds };
}

const result = impl === "tgcpa" ? await runTgcpa() : impl === "graphile" ? await runGraphile() : null;
if (!result) throw new Error(`unknown implementation ${impl}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
