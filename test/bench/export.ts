// The `export` scenario: BENCH_BIG_ROWS leads (1M; every second one joined, delivered postbacks)
// exported by GET /api/export/leads as CSV and read by the bench as fast as it can, counting the
// records and throwing them away. Figures: the service's peak RSS during the export (VmHWM) against
// its RSS before it — an export streams page by page, so its peak must not grow with the rows —
// and the rows per second.
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { API_KEY, type ConfigInput } from "../helpers/service/config.ts";
import { benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { Receiver } from "./helper-processes.ts";
import { procMemory, sampleMemory, waitIdle } from "./machine.ts";
import { fmtInt, limitRow, log, round, type ScenarioReport } from "./report.ts";
import { seedDatabase } from "./seed.ts";

const DAY_MS = 86_400_000;
/** The peak RSS an export may reach, whatever its size: the drain's target, for the same small VPS. */
const MAX_PEAK_MB = 150;

export async function exportScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const rows = ctx.scale.bigRows;
  const dir = tempDir("export");
  const receiver = await Receiver.start();
  let svc: ServiceProcess | undefined;
  try {
    const config: ConfigInput = benchConfig(dir, { receiverPort: receiver.port, inFlight: ctx.scale.inFlight });
    const template = `http://127.0.0.1:${receiver.port}/pb?click={click}&status={status}&lead={lead}`;
    config.postbacks = { wait: template, approve: template };
    log(`export: seeding ${fmtInt(rows)} leads over 30 days (every second one joined, postbacks delivered)…`);
    const seeded = seedDatabase({ config, rows, state: "delivered", spreadMs: 30 * DAY_MS, joinEvery: 2 });
    log(`  seeded in ${round(seeded.seconds)} s`);
    svc = await spawnService({ dir, config, healthTimeoutMs: 180_000, env: serviceEnv() });
    ctx.busyBefore.export = await waitIdle("export");
    const before = procMemory(svc.pid);
    const memory = sampleMemory(svc.pid);
    const t0 = performance.now();
    const res = await fetch(`${svc.url}/api/export/leads?format=csv`, { headers: { authorization: `Bearer ${API_KEY}` } });
    if (!res.ok || !res.body) throw new Error(`export answered ${res.status}`);
    let lines = 0;
    let bytes = 0;
    for await (const chunk of res.body) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    }
    const seconds = (performance.now() - t0) / 1000;
    const peak = memory.stop();
    const exported = lines - 1; // the header
    if (exported !== rows) throw new Error(`exported ${exported} rows, seeded ${rows}`);
    ctx.measurements.export = { rows, seconds, bytes, peakRssMb: peak.peakRssMb, rssBeforeMb: before?.rssMb ?? null, seedSeconds: seeded.seconds };
    return {
      rows: [limitRow({
        scenario: "export", figure: `service peak RSS exporting ${fmtInt(rows)} leads as CSV (GET /api/export/leads)`, value: peak.peakRssMb, unit: "MB",
        target: `≤ ${MAX_PEAK_MB} MB`, max: MAX_PEAK_MB,
        note: `RSS before the export ${round(before?.rssMb ?? Number.NaN)} MB; ${fmtInt(exported)} rows, ${round(bytes / 1e6)} MB in ${round(seconds)} s (${fmtInt(exported / seconds)} rows/s), read by the bench as they came`,
      })],
      details: {},
    };
  } finally {
    await svc?.stop();
    await receiver.stop();
    removeDir(dir);
  }
}
