// The PostgreSQL rows of issue 20, each on a fresh database of the local server (test/helpers/postgres.ts):
// pg queue core (the storage port's claims and batched completions against graphile-worker's
// batched mode), pg intake and pg drain with one and with two instances on one database, pg end to
// end over two instances, and pg failover (a bot's owner killed → the bot sending again).
import { SQL } from "bun";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { createTestDatabase, dropTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { BOT_LEASE_MS } from "../../src/cluster/rules.ts";
import { benchConfig, removeDir, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { measureE2eOn } from "./e2e.ts";
import { Receiver, startHelper } from "./helper-processes.ts";
import { loadGenerator, type LoadResult } from "./loadgen.ts";
import { measureDrain, measureIntake } from "./measure.ts";
import { fmtInt, limitRow, log, ratioRow, round, type ScenarioReport } from "./report.ts";

interface QueueResult { impl: string; jobs: number; lost: number; left: number; seconds: number; rate: number }

const pgStorage = (db: TestDatabase) => ({ driver: "postgres", url: db.url, pool_size: 10 });

async function withDatabase<T>(migrated: boolean, fn: (db: TestDatabase) => Promise<T>): Promise<T> {
  const db = await createTestDatabase({ migrated });
  try {
    return await fn(db);
  } finally {
    await dropTestDatabase(db).catch(() => {});
  }
}

/** `n` instances on one database, each its own folder and port; the config of benchConfig with PostgreSQL storage. */
async function instances(n: number, dir: string, db: TestDatabase, receiverPort: number, inFlight: number, extra: Record<string, unknown> = {}, waitForHealth = true) {
  const out: ServiceProcess[] = [];
  for (let i = 1; i <= n; i++) {
    const d = join(dir, `i${i}`);
    mkdirSync(d, { recursive: true });
    const config = { ...benchConfig(d, { receiverPort, inFlight }), storage: pgStorage(db), ...extra };
    out.push(await spawnService({ dir: d, config, healthTimeoutMs: 120_000, waitForHealth }));
  }
  return out;
}

function pgQueue(ctx: BenchContext, impl: "tgcpa" | "graphile"): Promise<QueueResult> {
  return ctx.memo(`pg.queue.${impl}`, () => withDatabase(impl === "tgcpa", async (db) => {
    log(`pg queue core: ${impl}, ${fmtInt(ctx.scale.queueJobs)} jobs`);
    const h = await startHelper("pg-queue-child.ts", [impl, String(ctx.scale.queueJobs), db.url, String(ctx.scale.inFlight)], { waitHello: false });
    const r = (await h.result(Number(process.env.BENCH_QUEUE_TIME_LIMIT_S ?? 600) * 1000 + 120_000)) as QueueResult;
    log(`  → ${fmtInt(r.rate)} rows/s (${fmtInt(r.jobs)} in ${round(r.seconds)} s, left ${r.left})`);
    return r;
  }));
}

/** The intake load of measureIntake on `n` instances at once (the clients split between them), events with one postback each. */
function pgIntake(ctx: BenchContext, n: number): Promise<LoadResult & { instances: number }> {
  return ctx.memo(`pg.intake.${n}`, () => withDatabase(true, async (db) => {
    const gen = await loadGenerator();
    const dir = tempDir(`pg-intake-${n}`);
    const receiver = await Receiver.start();
    let all: ServiceProcess[] = [];
    try {
      all = await instances(n, dir, db, receiver.port, ctx.scale.inFlight);
      const clients = Math.max(1, Math.floor(ctx.scale.clients / n));
      log(`pg intake: ${n} instance(s), ${gen.name}, ${clients} clients each, ${ctx.scale.intakeSeconds} s`);
      await Promise.all(all.map((s, i) => gen.run({ port: s.port, clients, dir, seconds: ctx.scale.warmupSeconds, base: 100_000_000 + i * 10_000_000 })));
      const runs = await Promise.all(all.map((s, i) => gen.run({ port: s.port, clients, dir, seconds: ctx.scale.intakeSeconds, base: 200_000_000 + i * 10_000_000 })));
      const sum = (k: "rps" | "requests" | "non2xx" | "errors") => runs.reduce((t, r) => t + r[k], 0);
      const r = { ...runs[0]!, rps: sum("rps"), requests: sum("requests"), non2xx: sum("non2xx"), errors: sum("errors"), p99Ms: Math.max(...runs.map((x) => x.p99Ms)), instances: n };
      log(`  → ${fmtInt(r.rps)} events/s, p99 ${round(r.p99Ms, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
      return r;
    } finally {
      for (const s of all) await s.stop(20_000);
      await receiver.stop();
      removeDir(dir);
    }
  }));
}

/** A seeded backlog of pending postbacks drained by `n` instances on one database; rate at the receiver. */
function pgDrain(ctx: BenchContext, n: number): Promise<{ rate: number; received: number; rows: number; complete: boolean; instances: number }> {
  return ctx.memo(`pg.drain.${n}`, () => withDatabase(true, async (db) => {
    const rows = ctx.scale.drainRows;
    const dir = tempDir(`pg-drain-${n}`);
    const receiver = await Receiver.start();
    let all: ServiceProcess[] = [];
    try {
      const sql = new SQL(db.url, { max: 1 });
      await sql`INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('bench', 'bench', 0, 0)`;
      const now = Date.now();
      await sql.unsafe(`INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, created_at, updated_at)
        SELECT i, i, 1, 'wait', 'postbacks.wait', 'GET', $1 || i, $2, 'pending', $3::int8, $3::int8, $3::int8 FROM generate_series(1, $4::int) AS i`,
      [`http://127.0.0.1:${receiver.port}/pb?click=c&status=wait&lead=`, `127.0.0.1:${receiver.port}`, now, rows]);
      await sql.unsafe("VACUUM ANALYZE postbacks");
      await sql.close();
      log(`pg drain: ${fmtInt(rows)} pending postbacks, ${n} instance(s)`);
      all = await instances(n, dir, db, receiver.port, ctx.scale.inFlight, {}, false);
      const s = await receiver.waitFor(rows, ctx.scale.drainTimeoutSeconds * 1000);
      const rate = s.count > 1 && s.last > s.first ? (s.count - 1) / ((s.last - s.first) / 1000) : 0;
      log(`  → ${fmtInt(rate)} postbacks/s (${fmtInt(s.count)} of ${fmtInt(rows)})`);
      return { rate, received: s.count, rows, complete: s.count >= rows, instances: n };
    } finally {
      for (const s of all) await s.stop(20_000);
      await receiver.stop();
      removeDir(dir);
    }
  }));
}

/** The bot's owner killed (-9) with welcomes queued: ms until the next welcome reaches the fake Bot API from the new owner. */
function pgFailover(ctx: BenchContext): Promise<{ ms: number; leaseMs: number }> {
  return ctx.memo("pg.failover", () => withDatabase(true, async (db) => {
    const api = await FakeBotApi.start();
    const token = "424242:AAbenchFailoverToken";
    api.addBot({ token, username: "bench_failover_bot" });
    const dir = tempDir("pg-failover");
    const receiver = await Receiver.start();
    let all: ServiceProcess[] = [];
    try {
      const extra = {
        bots: { main: { token, mode: "polling", api_root: api.apiRoot } },
        campaigns: [{ code: "bench", bot: "main", chat: -1001234567890, welcome: { text: "hi" } }],
      };
      all = await instances(2, dir, db, receiver.port, ctx.scale.inFlight, extra);
      const owner = async () => {
        for (const s of all) {
          const bots = (await s.api("GET", "/api/bots")).body.items as { owner: { instance: string; self: boolean } | null }[];
          if (bots[0]?.owner?.self) return s;
        }
        return null;
      };
      let first: ServiceProcess | null = null;
      for (let i = 0; i < 100 && !(first = await owner()); i++) await Bun.sleep(100);
      if (!first) throw new Error("no owner");
      api.enqueue(token, tg.startMessage(tg.user(1), "bench-a"));
      for (let i = 0; i < 100 && api.callsTo("sendMessage").length === 0; i++) await Bun.sleep(50);
      const sentBefore = api.callsTo("sendMessage").length;
      const killedAt = Date.now();
      await first.kill();
      api.enqueue(token, tg.startMessage(tg.user(2), "bench-b"));
      while (api.callsTo("sendMessage").length === sentBefore && Date.now() - killedAt < 30_000) await Bun.sleep(20);
      const ms = Date.now() - killedAt;
      log(`pg failover: owner killed → the next welcome sent after ${ms} ms (lease ${BOT_LEASE_MS} ms)`);
      return { ms, leaseMs: BOT_LEASE_MS };
    } finally {
      for (const s of all) await s.stop(10_000);
      await receiver.stop();
      await api.close();
      removeDir(dir);
    }
  }));
}

export async function pgScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const ours = await pgQueue(ctx, "tgcpa");
  const theirs = await pgQueue(ctx, "graphile");
  const sqliteIntake = await measureIntake(ctx, { synchronous: "FULL", existingLeads: 0 });
  const [one, two] = [await pgIntake(ctx, 1), await pgIntake(ctx, 2)];
  const sqliteDrain = await measureDrain(ctx, { rows: ctx.scale.drainRows, synchronous: "FULL" });
  const [drain1, drain2] = [await pgDrain(ctx, 1), await pgDrain(ctx, 2)];
  const e2e = await ctx.memo("pg.e2e", () => withDatabase(true, (db) => measureE2eOn(ctx, { storage: pgStorage(db), instances: 2 })));
  const failover = await pgFailover(ctx);
  const intakeRow = (m: LoadResult & { instances: number }) => ratioRow({
    scenario: "pg intake", figure: `POST /api/events events/s, one postback each, ${m.instances} instance(s) on one database`, value: m.non2xx || m.errors ? null : m.rps,
    unit: "ev/s", baseline: sqliteIntake.rps, baselineLabel: "SQLite intake with templates, this run", target: "(none)", minRatio: null, extra: true,
    note: `p99 ${round(m.p99Ms, 2)} ms; ${fmtInt(m.requests)} requests, ${m.non2xx} non-2xx, ${m.errors} errors`,
  });
  const drainRow = (m: Awaited<ReturnType<typeof pgDrain>>) => ratioRow({
    scenario: "pg drain", figure: `postbacks/s from a ${fmtInt(m.rows)} backlog, ${m.instances} instance(s)`, value: m.rate, unit: "pb/s",
    baseline: sqliteDrain.rate, baselineLabel: "SQLite drain, this run", target: "(none)", minRatio: null, extra: true,
    note: `${fmtInt(m.received)} of ${fmtInt(m.rows)} received${m.complete ? "" : " — INCOMPLETE"}`,
  });
  return {
    rows: [
      ratioRow({
        scenario: "pg queue core", figure: `claim+complete rows/s, no HTTP, ${fmtInt(ctx.scale.queueJobs)} jobs`, value: ours.jobs === ctx.scale.queueJobs ? ours.rate : null,
        unit: "rows/s", baseline: theirs.rate, baselineLabel: "graphile-worker 0.18 batched (localQueue, completeJobBatchDelay 0)", target: "≥ 0.8×", minRatio: 0.8,
        note: `claimDue(${ctx.scale.inFlight}) and the next claim while the last one's outcomes are saved as one shared write; graphile-worker deletes a finished job, tgcpa keeps the row (8 indexes) and its attempt log`,
      }),
      intakeRow(one), intakeRow(two), drainRow(drain1), drainRow(drain2),
      limitRow({ scenario: "pg end to end", figure: `commit → tracker receipt at ${ctx.scale.e2eRate} ev/s over 2 instances, p99`, value: e2e.sendToReceipt.p99, unit: "ms",
        target: "≤ 50 ms", max: 50, note: `p50 ${round(e2e.sendToReceipt.p50, 2)} ms; ${fmtInt(e2e.sample)} events sampled` }),
      limitRow({ scenario: "pg failover", figure: "owner killed → its bot sending again", value: failover.ms, unit: "ms", target: `≤ lease + 2 s (${failover.leaseMs + 2000} ms)`,
        max: failover.leaseMs + 2000, note: `lease ${failover.leaseMs} ms, heartbeat 1 s` }),
    ],
    details: {},
  };
}
