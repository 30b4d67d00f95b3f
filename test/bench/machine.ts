// The machine under the bench (Linux /proc): memory and CPU of a process and of the whole
// machine, waiting for it to be quiet, and what it is (cores, CPU, Bun, SQLite, the commit).
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { cpuMs } from "../helpers/process-usage.ts";
import { REPO_ROOT } from "../helpers/service/subprocess.ts";
import { log, round } from "./report.ts";

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
    return cpuMs(pid) / 1000;
  } catch {
    return null; // the process is gone
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
      const p = Bun.spawnSync(["git", ...args], { cwd: REPO_ROOT, stdout: "pipe", stderr: "ignore" });
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
