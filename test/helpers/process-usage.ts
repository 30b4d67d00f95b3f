// CPU time of another process (Linux, /proc), for tests that check an idle or waiting service
// does not spin, and for the benchmarks.
import { readFileSync } from "node:fs";

/** CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]); // field 14 overall
  const stime = Number(fields[12]); // field 15 overall
  return ((utime + stime) * 1000) / ticksPerSecond();
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/PID/stat (USER_HZ: 100 on Linux), asked once. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
    clockTicks = Number(out) > 0 ? Number(out) : 100;
  }
  return clockTicks;
}

/** CPU used by `pid` over `windowMs` of wall time, as a fraction of that wall time. */
export async function cpuShare(pid: number, windowMs: number): Promise<{ cpuMs: number; wallMs: number; share: number }> {
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  await Bun.sleep(windowMs);
  const used = cpuMs(pid) - c0;
  const wall = performance.now() - t0;
  return { cpuMs: used, wallMs: wall, share: used / wall };
}
