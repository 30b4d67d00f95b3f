// The measurements behind the scenarios. Each starts its own processes on a fresh temp dir:
// the service (test/helpers/service/subprocess.ts spawnService: `bun src/main.ts --config …`), the
// receiver, the load generator; and tears them down before returning.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Synchronous } from "../../src/config/model.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { REPO_ROOT, spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { Receiver, startHelper, type ReceiverStats } from "./helper-processes.ts";
import { cpuMeter, machineCpuMeter, procMemory, sampleMemory } from "./machine.ts";
import { fmtInt, log, round } from "./report.ts";
import { loadGenerator, type LoadResult } from "./loadgen.ts";
import { seedDatabase } from "./seed.ts";

/** Subscriber ranges: seeded leads are 1…rows; load runs use fresh ranges above these. */
const WARMUP_BASE = 100_000_000;
const MEASURE_BASE = 200_000_000;

function dbCounts(path: string) {
  // Read-write: after a SIGKILL the WAL may need recovery, which a read-only handle cannot do.
  const db = new Database(path);
  const q = <T>(sql: string) => db.query<T, []>(sql).all();
  const states = Object.fromEntries(q<{ state: string; n: number }>("SELECT state, count(*) AS n FROM postbacks GROUP BY state").map((r) => [r.state, r.n]));
  const leads = q<{ n: number }>("SELECT count(*) AS n FROM leads")[0]!.n;
  const attempts = q<{ n: number }>("SELECT count(*) AS n FROM delivery_attempts")[0]!.n;
  db.close();
  return { leads, attempts, postbacks: states };
}

async function startBenchService(dir: string, config: Record<string, unknown>): Promise<ServiceProcess> {
  return spawnService({ dir, config, healthTimeoutMs: 180_000, env: serviceEnv() });
}

// ---------------------------------------------------------------------------------------------
// Intake

export interface IntakeMeasure extends LoadResult {
  warmup: LoadResult;
  synchronous?: Synchronous;
  existingLeads?: number;
  seedSeconds?: number;
  serviceRssMb?: number;
  db?: ReturnType<typeof dbCounts>;
  receiverCount?: number;
  /** Cores used by the server process / by the whole machine during the measured run. */
  serverCpu: number | null;
  machineCpu: number | null;
}

/** What answers the intake load instead of the service: see servers.ts. */
export type BareServer = "bare" | "bare-json" | "elysia";

/**
 * Closed-loop POST /api/events load on a helper server: a bare Bun.serve answering "ok" (the
 * intake baseline), or one of the ceilings of the stack (servers.ts bare-json, elysia).
 */
export function measureBare(ctx: BenchContext, server: BareServer = "bare"): Promise<IntakeMeasure> {
  return ctx.memo(`intake.baseline.${server}`, async () => {
    const gen = await loadGenerator();
    const dir = tempDir(server);
    const bare = await startHelper("servers.ts", [server]);
    try {
      const spec = { port: bare.hello.port as number, clients: ctx.scale.clients, dir };
      log(`intake ${server === "bare" ? "baseline: bare Bun.serve" : `ceiling: servers.ts ${server}`}, ${gen.name}, ${ctx.scale.clients} clients, ${ctx.scale.intakeSeconds} s`);
      const warmup = await gen.run({ ...spec, seconds: ctx.scale.warmupSeconds, base: WARMUP_BASE });
      const cpu = cpuMeter(bare.proc.pid);
      const machine = machineCpuMeter();
      const r = await gen.run({ ...spec, seconds: ctx.scale.intakeSeconds, base: MEASURE_BASE });
      const serverCpu = cpu.stop();
      const machineCpu = machine.stop();
      log(`  → ${fmtInt(r.rps)} req/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms; server ${serverCpu} cores, machine ${machineCpu} cores`);
      return { ...r, warmup, serverCpu, machineCpu };
    } finally {
      await bare.stop();
      removeDir(dir);
    }
  });
}

/** The same load on the real service; `existingLeads` seeds that many leads (with delivered history) first. */
export function measureIntake(ctx: BenchContext, o: { synchronous: Synchronous; existingLeads: number; noTemplates?: boolean }): Promise<IntakeMeasure> {
  return ctx.memo(`intake.service.${o.synchronous}.${o.existingLeads}${o.noTemplates ? ".no-templates" : ""}`, async () => {
    const gen = await loadGenerator();
    const dir = tempDir("intake");
    const receiver = await Receiver.start();
    let svc: ServiceProcess | undefined;
    try {
      const config = benchConfig(dir, { receiverPort: receiver.port, synchronous: o.synchronous, inFlight: ctx.scale.inFlight, noTemplates: o.noTemplates });
      let seedSeconds: number | undefined;
      if (o.existingLeads > 0) {
        log(`seeding ${fmtInt(o.existingLeads)} leads with delivered postbacks…`);
        seedSeconds = seedDatabase({ config, rows: o.existingLeads, state: "delivered" }).seconds;
        log(`  seeded in ${round(seedSeconds)} s`);
      }
      svc = await startBenchService(dir, config);
      const mem = sampleMemory(svc.pid);
      const spec = { port: svc.port, clients: ctx.scale.clients, dir };
      log(`intake: service (synchronous=${o.synchronous}, ${fmtInt(o.existingLeads)} existing leads${o.noTemplates ? ", no postback templates" : ""}), ${gen.name}, ${ctx.scale.clients} clients, ${ctx.scale.intakeSeconds} s`);
      const warmup = await gen.run({ ...spec, seconds: ctx.scale.warmupSeconds, base: WARMUP_BASE });
      const cpu = cpuMeter(svc.pid);
      const machine = machineCpuMeter();
      const r = await gen.run({ ...spec, seconds: ctx.scale.intakeSeconds, base: MEASURE_BASE });
      const serverCpu = cpu.stop();
      const machineCpu = machine.stop();
      const memory = mem.stop();
      log(`  → ${fmtInt(r.rps)} events/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}; service ${serverCpu} cores, machine ${machineCpu} cores`);
      // Let the dispatcher finish what the intake queued, so the service stops cleanly.
      const accepted = o.noTemplates ? 0 : warmup.requests + r.requests - warmup.non2xx - r.non2xx;
      const rec = await receiver.waitFor(accepted, 60_000);
      await svc.stop(20_000);
      const db = dbCounts(join(dir, "tgcpa.db"));
      if (r.non2xx || r.errors) log(`  WARNING: ${r.non2xx} non-2xx answers, ${r.errors} errors: ${svc.output().slice(-1000)}`);
      return {
        ...r, warmup, synchronous: o.synchronous, existingLeads: o.existingLeads, seedSeconds, serviceRssMb: memory.peakRssMb,
        db, receiverCount: rec.count, serverCpu, machineCpu,
      };
    } finally {
      await svc?.stop();
      await receiver.stop();
      removeDir(dir);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Drain

export interface DrainMeasure {
  rows: number;
  synchronous: Synchronous;
  /** Postbacks/s between the receiver's first and last arrival. */
  rate: number;
  received: number;
  distinct: number;
  /** Spawn of the service until the receiver counted every row (includes startup). */
  wallSeconds: number;
  drainSeconds: number;
  seedSeconds: number;
  peakRssMb: number | null;
  db: ReturnType<typeof dbCounts>;
  complete: boolean;
  /** Why the measurement ended: all received, time limit, stall, exit. */
  stopReason: string;
  /** Cores used by the service / the whole machine from spawn until the receiver had every row. */
  serverCpu: number | null;
  machineCpu: number | null;
}

const rateOf = (s: ReceiverStats) => (s.count > 1 && s.last > s.first ? (s.count - 1) / ((s.last - s.first) / 1000) : 0);

/**
 * Seeds `rows` pending postbacks, starts the service and measures at the receiver until it has
 * them all — or until the time limit (BENCH_DRAIN_TIMEOUT_S; 180 s, small 90 s) or a 30 s stall, in
 * which case the rate over the window that was measured is reported and the result is marked
 * incomplete.
 */
export function measureDrain(ctx: BenchContext, o: { rows: number; synchronous: Synchronous; repeat?: number }): Promise<DrainMeasure> {
  return ctx.memo(`drain.service.${o.synchronous}.${o.rows}${o.repeat ? `.r${o.repeat}` : ""}`, async () => {
    const dir = tempDir("drain");
    const receiver = await Receiver.start();
    let svc: ServiceProcess | undefined;
    try {
      const config = benchConfig(dir, { receiverPort: receiver.port, synchronous: o.synchronous, inFlight: ctx.scale.inFlight });
      log(`drain: seeding ${fmtInt(o.rows)} pending postbacks…`);
      const seed = seedDatabase({ config, rows: o.rows, state: "pending" });
      log(`  seeded in ${round(seed.seconds)} s; starting the service (synchronous=${o.synchronous}, in flight ${ctx.scale.inFlight})`);
      const t0 = performance.now();
      const machine = machineCpuMeter();
      // Not waiting for /health: with a large backlog it may answer only minutes later; the drain is measured at the receiver.
      svc = await spawnService({ dir, config, env: serviceEnv(), waitForHealth: false });
      const cpu = cpuMeter(svc.pid);
      const mem = sampleMemory(svc.pid, 200);
      const limitMs = ctx.scale.drainTimeoutSeconds * 1000;
      let lastCount = -1;
      let lastProgress = Date.now();
      let lastLog = Date.now();
      let stats: ReceiverStats = { count: 0, distinct: 0, first: 0, last: 0 };
      let stopReason = "all received";
      const end = Date.now() + limitMs;
      while (true) {
        stats = await receiver.stats();
        if (stats.count >= o.rows) break;
        if (svc.proc.exitCode !== null || svc.proc.signalCode !== null) {
          stopReason = "service exited";
          break;
        }
        if (Date.now() > end) {
          stopReason = `time limit ${limitMs / 1000} s`;
          break;
        }
        if (stats.count !== lastCount) {
          lastCount = stats.count;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > 30_000) {
          stopReason = "no progress for 30 s";
          break;
        }
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          log(`  … ${fmtInt(stats.count)} / ${fmtInt(o.rows)} received (${fmtInt(rateOf(stats))}/s)`);
        }
        await Bun.sleep(100);
      }
      const wallSeconds = (performance.now() - t0) / 1000;
      const serverCpu = cpu.stop();
      const machineCpu = machine.stop();
      // Completions are written just after the answers arrive: give them a moment (bounded).
      if (stats.count >= o.rows) {
        const settle = Date.now() + 30_000;
        while (Date.now() < settle) {
          const r = await fetch(`${svc.url}/api/postbacks?state=pending&limit=1`, {
            headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5_000),
          }).then((res) => res.json() as Promise<{ items: unknown[] }>).catch(() => null);
          if (r && r.items.length === 0) break;
          await Bun.sleep(100);
        }
      }
      const memory = mem.stop();
      await svc.stop(20_000);
      const db = dbCounts(join(dir, "tgcpa.db"));
      const complete = stats.count >= o.rows && (db.postbacks.delivered ?? 0) === o.rows;
      const rate = rateOf(stats);
      log(`  → ${fmtInt(rate)} postbacks/s (${fmtInt(stats.count)} received, ${fmtInt(stats.distinct)} distinct, delivered in DB ${fmtInt(db.postbacks.delivered ?? 0)}; stopped: ${stopReason}), peak RSS ${memory.peakRssMb} MB; service ${serverCpu} cores, machine ${machineCpu} cores`);
      if (!complete) log(`  drain incomplete (${stopReason}): ${JSON.stringify(db)}`);
      return {
        rows: o.rows, synchronous: o.synchronous, rate, received: stats.count, distinct: stats.distinct, wallSeconds,
        drainSeconds: (stats.last - stats.first) / 1000, seedSeconds: seed.seconds, peakRssMb: memory.peakRssMb, db, complete,
        stopReason, serverCpu, machineCpu,
      };
    } finally {
      await svc?.stop(5_000);
      await receiver.stop();
      removeDir(dir);
    }
  });
}

export interface FetchBaseline {
  rows: number;
  concurrency: number;
  rate: number;
  clientRps: number;
  errors: number;
  machineCpu: number | null;
}

/** A bare loop of fetch (own process) with the service's in-flight cap as concurrency, same receiver kind. */
export function measureFetchBaseline(ctx: BenchContext, rows: number, repeat = 0): Promise<FetchBaseline> {
  return ctx.memo(`drain.baseline.fetch.${rows}${repeat ? `.r${repeat}` : ""}`, async () => {
    const receiver = await Receiver.start();
    try {
      log(`drain baseline: bare fetch loop, ${fmtInt(rows)} requests, concurrency ${ctx.scale.inFlight}`);
      const machine = machineCpuMeter();
      const h = await startHelper("fetch-loop.ts", [receiver.base, String(rows), String(ctx.scale.inFlight)], { waitHello: false });
      const r = await h.result(Number(process.env.BENCH_FETCH_TIME_LIMIT_S ?? 600) * 1000 + 30_000);
      const machineCpu = machine.stop();
      const s = await receiver.stats();
      const rate = rateOf(s);
      log(`  → ${fmtInt(rate)} requests/s (client saw ${fmtInt(r.rps)}/s, errors ${r.errors}); machine ${machineCpu} cores`);
      return { rows, concurrency: ctx.scale.inFlight, rate, clientRps: r.rps, errors: r.errors, machineCpu };
    } finally {
      await receiver.stop();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Idle memory

/** Seconds the idle service is left alone after /health first answered, before VmRSS is read. */
export const IDLE_SETTLE_S = 3;

export interface IdleMeasure {
  /** VmRSS of the service IDLE_SETTLE_S after /health first answered. */
  rssMb: number;
  /** VmRSS after one request to each of /health, /api/campaigns and /swagger/json, settled again. */
  afterRequestsMb: number;
  /** VmRSS of `bun -e` doing nothing but waiting: what the runtime costs before any code of ours. */
  bareBunMb: number;
}

/**
 * The service as the quick start runs it (config/example.yaml, its database in a temp dir), left
 * idle: what a small VPS pays for it to sit there. A bare Bun process is measured beside it.
 */
export function measureIdleRss(ctx: BenchContext): Promise<IdleMeasure> {
  return ctx.memo("memory.idle", async () => {
    const dir = tempDir("idle");
    const config = parseYaml(await Bun.file(join(REPO_ROOT, "config/example.yaml")).text()) as Record<string, any>;
    config.storage = { ...config.storage, path: join(dir, "tgcpa.db") };
    config.api_keys = [API_KEY]; // the key the fixture calls the API with
    const rss = (pid: number) => round(procMemory(pid)?.rssMb ?? NaN);
    const svc = await startBenchService(dir, config);
    try {
      await Bun.sleep(IDLE_SETTLE_S * 1000);
      const rssMb = rss(svc.pid);
      for (const path of ["/health", "/api/campaigns", "/swagger/json"]) {
        const res = await svc.api("GET", path);
        if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      }
      await Bun.sleep(IDLE_SETTLE_S * 1000);
      const afterRequestsMb = rss(svc.pid);
      const bare = Bun.spawn([process.execPath, "-e", "setInterval(() => {}, 1000)"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      await Bun.sleep(IDLE_SETTLE_S * 1000);
      const bareBunMb = rss(bare.pid);
      bare.kill("SIGKILL");
      await bare.exited;
      log(`idle service ${rssMb} MB, after requests ${afterRequestsMb} MB, bare Bun ${bareBunMb} MB`);
      return { rssMb, afterRequestsMb, bareBunMb };
    } finally {
      await svc.stop();
      removeDir(dir);
    }
  });
}
