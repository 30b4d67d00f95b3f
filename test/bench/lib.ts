// Shared pieces of the benchmark suite: scale knobs, the service config, helper processes,
// RSS sampling, statistics and the result rows. Everything talks to 127.0.0.1 only.
import type { Subprocess } from "bun";
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import type { Synchronous } from "../../src/config/model.ts";
import { API_KEY, type ConfigInput } from "../helpers/service/config.ts";

export { API_KEY };
export const ROOT = resolve(import.meta.dir, "../..");
export const BENCH_DIR = import.meta.dir;
export const CAMPAIGN = "bench";

// ---------------------------------------------------------------------------------------------
// Scale knobs

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw.replace(/_/g, ""));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return Math.round(n);
}

export type ScaleName = "full" | "small";

export interface Scale {
  name: ScaleName;
  /** Backlog of the drain scenario (issue: 100k). */
  drainRows: number;
  /** Existing leads / backlog of the growth and memory scenarios (issue: 1M). */
  bigRows: number;
  /** Jobs of the queue-core scenario, for tgcpa and plainjob alike. */
  queueJobs: number;
  /** Measured seconds of each intake load run (after a warm-up). */
  intakeSeconds: number;
  warmupSeconds: number;
  /** Measured seconds of the end-to-end run at a steady rate. */
  e2eSeconds: number;
  e2eRate: number;
  /** Concurrent clients of the intake load (issue: 64). */
  clients: number;
  /** delivery.max_in_flight = per_host_in_flight of the service, and the fetch baseline's concurrency. */
  inFlight: number;
  /** Longest a drain measurement may take; a slower drain is reported over the measured window. */
  drainTimeoutSeconds: number;
  /** Interleaved (baseline, service) pairs of the drain scenario; the median ratio is reported. */
  drainPairs: number;
}

export function readScale(): Scale {
  const raw = (process.env.BENCH_SCALE ?? "full").toLowerCase();
  if (raw !== "full" && raw !== "small") throw new Error(`BENCH_SCALE must be "full" or "small", got "${raw}"`);
  const small = raw === "small";
  return {
    name: raw,
    drainRows: envInt("BENCH_DRAIN_ROWS", small ? 10_000 : 100_000),
    bigRows: envInt("BENCH_BIG_ROWS", small ? 100_000 : 1_000_000),
    queueJobs: envInt("BENCH_QUEUE_JOBS", small ? 10_000 : 100_000),
    intakeSeconds: envInt("BENCH_INTAKE_SECONDS", small ? 5 : 10),
    warmupSeconds: envInt("BENCH_WARMUP_SECONDS", small ? 1 : 2),
    e2eSeconds: envInt("BENCH_E2E_SECONDS", small ? 10 : 20),
    e2eRate: envInt("BENCH_E2E_RATE", 1000),
    clients: envInt("BENCH_CLIENTS", 64),
    inFlight: envInt("BENCH_IN_FLIGHT", 256),
    drainTimeoutSeconds: envInt("BENCH_DRAIN_TIMEOUT_S", small ? 90 : 180),
    drainPairs: envInt("BENCH_DRAIN_PAIRS", small ? 1 : 3),
  };
}

// ---------------------------------------------------------------------------------------------
// Results

/** INCOMPLETE: the measurement did not cover what the target is about (e.g. a drain cut short). */
export type Verdict = "PASS" | "FAIL" | "INCOMPLETE" | "info";

export interface Row {
  scenario: string;
  figure: string;
  /** Numeric figure (unit in `unit`), null when the scenario could not produce it. */
  value: number | null;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  /** value / baseline (or the figure itself against an absolute target). */
  ratio: number | null;
  target: string;
  verdict: Verdict;
  /** Extra rows (e.g. synchronous=NORMAL) are informational and say so in `figure`. */
  extra?: boolean;
  note?: string;
}

export interface ScenarioReport {
  rows: Row[];
  /** Raw measurements, written to the JSON file. */
  details: Record<string, unknown>;
}

export function ratioRow(r: Omit<Row, "ratio" | "verdict"> & { minRatio: number | null }): Row {
  const { minRatio, ...rest } = r;
  const ratio = r.value !== null && r.baseline ? r.value / r.baseline : null;
  const verdict: Verdict = minRatio === null || r.extra ? "info" : ratio === null ? "FAIL" : ratio >= minRatio ? "PASS" : "FAIL";
  return { ...rest, ratio, verdict };
}

export function limitRow(r: Omit<Row, "ratio" | "verdict" | "baseline" | "baselineLabel"> & { max: number }): Row {
  const { max, ...rest } = r;
  return {
    ...rest, baseline: null, baselineLabel: "—", ratio: r.value === null ? null : r.value / max,
    verdict: r.extra ? "info" : r.value === null ? "FAIL" : r.value <= max ? "PASS" : "FAIL",
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(values: number[] | Float64Array) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : NaN };
}

export const round = (n: number, digits = 1) => Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n;

// ---------------------------------------------------------------------------------------------
// The service under test

export const trackerTemplate = (port: number) =>
  `http://127.0.0.1:${port}/pb?click={click}&status={status}&lead={lead}&event={event}`;

/** The config of every bench run: one campaign whose `wait` postback goes to the local receiver. */
export function benchConfig(dir: string, o: { receiverPort: number; synchronous?: Synchronous; inFlight: number; noTemplates?: boolean }): ConfigInput {
  return {
    server: { host: "127.0.0.1", port: 0 },
    storage: { path: join(dir, "tgcpa.db"), synchronous: o.synchronous ?? "FULL" },
    log: { level: "warn" },
    api_keys: [API_KEY],
    delivery: {
      allow_hosts: ["127.0.0.1"], timeout_ms: 5000, max_in_flight: o.inFlight, per_host_in_flight: o.inFlight,
      shutdown_grace_ms: 2000,
    },
    postbacks: o.noTemplates ? {} : { wait: trackerTemplate(o.receiverPort) },
    campaigns: [{ code: CAMPAIGN, name: "bench" }],
  };
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), `tgcpa-bench-${tag}-`));
}

export function removeDir(dir: string) {
  if (process.env.BENCH_KEEP_DIRS === "1") return;
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Helper processes (receiver, bare server, clients): bun scripts under test/bench/

const children = new Set<Subprocess>();
process.once("exit", () => {
  for (const p of children) p.kill("SIGKILL");
});

export interface Helper {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** First JSON line the script printed (e.g. {"port": 1234}). */
  hello: Record<string, any>;
  /** Waits for exit and returns the last JSON line printed (the script's result). */
  result(timeoutMs: number): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/** Runs `bun test/bench/<script> ...args`; resolves once it printed its first JSON line. */
export async function startHelper(script: string, args: string[], opts: { waitHello?: boolean; timeoutMs?: number } = {}): Promise<Helper> {
  const proc = Bun.spawn([process.execPath, join(BENCH_DIR, script), ...args], {
    cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env },
  });
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
  const lines: string[] = [];
  let err = "";
  let helloResolve: (v: Record<string, any>) => void = () => {};
  const helloPromise = new Promise<Record<string, any>>((r) => (helloResolve = r));
  const readOut = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) {
          lines.push(line);
          if (lines.length === 1) helloResolve(JSON.parse(line));
        }
      }
    }
  })();
  const readErr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let hello: Record<string, any> = {};
  if (opts.waitHello !== false) {
    const timer = new Promise<null>((r) => setTimeout(() => r(null), timeoutMs));
    const first = await Promise.race([helloPromise, timer, proc.exited.then(() => null)]);
    if (!first) {
      proc.kill("SIGKILL");
      throw new Error(`${script} did not start: ${err.slice(-2000)}`);
    }
    hello = first;
  }
  return {
    proc, hello,
    async result(ms) {
      const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
      const code = await proc.exited;
      clearTimeout(timer);
      await Promise.all([readOut, readErr]).catch(() => {});
      const last = lines.at(-1);
      if (code !== 0 || !last) throw new Error(`${script} exited with ${code}:\n${err.slice(-3000)}`);
      return JSON.parse(last);
    },
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

/** The counting tracker (servers.ts receiver) in its own process. */
export class Receiver {
  private constructor(private readonly helper: Helper, readonly port: number) {}

  static async start(): Promise<Receiver> {
    const h = await startHelper("servers.ts", ["receiver"]);
    return new Receiver(h, h.hello.port);
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async stats(): Promise<ReceiverStats> {
    const res = await fetch(`${this.base}/__stats`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as ReceiverStats;
  }

  async reset() {
    await (await fetch(`${this.base}/__reset`, { method: "POST", signal: AbortSignal.timeout(10_000) })).arrayBuffer();
  }

  /** Polls until `count` requests arrived; bounded by `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number, onTick?: () => void): Promise<ReceiverStats> {
    const end = Date.now() + timeoutMs;
    while (true) {
      const s = await this.stats();
      onTick?.();
      if (s.count >= count || Date.now() > end) return s;
      await Bun.sleep(100);
    }
  }

  stop() {
    return this.helper.stop();
  }
}

export interface ReceiverStats {
  count: number;
  distinct: number;
  /** ms timestamps (receiver's performance clock) of the first and last request since reset. */
  first: number;
  last: number;
}

// ---------------------------------------------------------------------------------------------
// Memory of a process (Linux)

export function procMemory(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(text)?.[1] ?? NaN);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/** Samples RSS of `pid` every `everyMs`; stop() returns the peak (VmHWM, the kernel's own high-water mark). */
export function sampleMemory(pid: number, everyMs = 250) {
  let maxRss = 0;
  let hwm = 0;
  const take = () => {
    const m = procMemory(pid);
    if (!m) return;
    maxRss = Math.max(maxRss, m.rssMb);
    hwm = Math.max(hwm, m.hwmMb);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      take();
      clearInterval(timer);
      return { peakRssMb: round(Math.max(hwm, maxRss)), sampledMaxRssMb: round(maxRss) };
    },
  };
}

/** CPU seconds (user + system) a process has used so far (Linux), or null. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** Share of one core a process used between start() and stop() (1.0 = one core busy). */
export function cpuMeter(pid: number) {
  const c0 = procCpuSeconds(pid);
  const t0 = performance.now();
  return {
    stop(): number | null {
      const c1 = procCpuSeconds(pid);
      if (c0 === null || c1 === null) return null;
      return round((c1 - c0) / ((performance.now() - t0) / 1000), 2);
    },
  };
}

function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Machine-wide CPU use between start() and stop(), in cores (2.0 = both cores of a 2-core box busy). */
export function machineCpuMeter() {
  const a = machineTicks();
  return {
    stop(): number | null {
      const b = machineTicks();
      if (!a || !b || b.total === a.total) return null;
      return round(((b.busy - a.busy) / (b.total - a.total)) * cpus().length, 2);
    },
  };
}

/** Cores busy over `ms` on the whole machine (other processes, before a measurement starts). */
export async function busyCores(ms = 1000): Promise<number | null> {
  const m = machineCpuMeter();
  await Bun.sleep(ms);
  return m.stop();
}

/**
 * Waits (up to BENCH_IDLE_WAIT_S, default 60 s) until the machine is quiet — other processes
 * using less than 0.25 cores — so that a busy neighbour does not skew a figure. Returns the busy
 * cores last seen; the run goes on either way and the report flags it.
 */
export async function waitIdle(what: string): Promise<number | null> {
  const limit = Date.now() + Number(process.env.BENCH_IDLE_WAIT_S ?? 60) * 1000;
  let busy = await busyCores(500);
  let warned = false;
  while (busy !== null && busy > 0.25 && Date.now() < limit) {
    if (!warned) log(`machine busy (${busy} cores used by other processes); waiting for it to quiet down before ${what}…`);
    warned = true;
    busy = await busyCores(1000);
  }
  if (busy !== null && busy > 0.25) log(`WARNING: still ${busy} cores busy before ${what}; its figures are skewed`);
  return busy;
}

/** Extra environment for the service process: BENCH_PROFILE_DIR=DIR makes it write a CPU profile there. */
export function serviceEnv(): Record<string, string> | undefined {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-md --cpu-prof-dir=${resolve(dir)}` } : undefined;
}

// ---------------------------------------------------------------------------------------------
// The machine

export function sqliteVersion(): string {
  const db = new Database(":memory:");
  const v = db.query<{ v: string }, []>("SELECT sqlite_version() AS v").get()!.v;
  db.close();
  return v;
}

/** The commit measured, and whether src/ differs from it. */
export function sourceInfo(): { commit: string; srcDirty: boolean } {
  const run = (args: string[]) => {
    try {
      const p = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
      return p.exitCode === 0 ? p.stdout.toString().trim() : null;
    } catch {
      return null;
    }
  };
  return { commit: run(["rev-parse", "--short=12", "HEAD"]) ?? "unknown", srcDirty: (run(["status", "--porcelain", "--", "src"]) ?? "") !== "" };
}

export function machineInfo(loadgen: string) {
  const c = cpus();
  return {
    cores: c.length,
    cpu: c[0]?.model ?? "unknown",
    memoryGb: round(totalmem() / 2 ** 30),
    kernel: `${process.platform} ${release()}`,
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    sqlite: sqliteVersion(),
    loadGenerator: loadgen,
  };
}

export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");

// ---------------------------------------------------------------------------------------------
// The run: scale, load generator and measurements shared between scenarios (each measured once)

export interface BenchContext {
  scale: Scale;
  /** Runs `fn` once per run under `key`; later scenarios reuse the same-run figure. */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Raw measurements for the JSON file, by key. */
  measurements: Record<string, unknown>;
  /** Cores other processes were using just before each measurement (see waitIdle). */
  busyBefore: Record<string, number | null>;
}

export function createContext(scale: Scale): BenchContext {
  const cache = new Map<string, Promise<unknown>>();
  const measurements: Record<string, unknown> = {};
  const busyBefore: Record<string, number | null> = {};
  return {
    scale,
    measurements,
    busyBefore,
    memo<T>(key: string, fn: () => Promise<T>) {
      let p = cache.get(key) as Promise<T> | undefined;
      if (!p) {
        p = waitIdle(key).then((busy) => {
          busyBefore[key] = busy;
          return fn();
        }).then((v) => {
          measurements[key] = v;
          return v;
        });
        cache.set(key, p);
      }
      return p;
    },
  };
}
