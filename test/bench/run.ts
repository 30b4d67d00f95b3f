// `bun run bench [scenario…]` — the benchmark suite of issue #5 (see test/bench/README.md).
// Runs the named scenarios (default: all) against the real service, each figure next to a
// baseline measured in this same run, prints a table and writes bench-results/latest.json.
//   BENCH_SCALE=small bun run bench            quick run (10k / 100k rows instead of 100k / 1M)
//   bun run bench intake drain                 only those scenarios
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, killAllServices } from "../helpers/service/subprocess.ts";
import { createContext } from "./context.ts";
import { machineInfo, sourceInfo } from "./machine.ts";
import { fmtInt, log, round, type Row } from "./report.ts";
import { readScale } from "./scale.ts";
import { loadGenerator } from "./loadgen.ts";
import { ALIASES, SCENARIOS } from "./scenarios.ts";

const ORDER = ["queue", "intake", "telegram", "click", "drain", "e2e", "growth", "memory", "normal", "dashboard", "retention", "export", "pg"];

function parseArgs(args: string[]): string[] {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`usage: bun run bench [${ORDER.join("|")} …]\n  env: BENCH_SCALE=small|full, BENCH_LOADGEN=wrk|bun, BENCH_INSTALL_WRK=0, see test/bench/README.md\n`);
    process.exit(0);
  }
  const names = args.map((a) => ALIASES[a] ?? a);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length) {
    process.stderr.write(`unknown scenario ${unknown.join(", ")}; known: ${ORDER.join(", ")}\n`);
    process.exit(2);
  }
  return names.length ? [...new Set(names)] : ORDER;
}

function fmtValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return "n/a";
  if (unit === "ms") return `${round(v, v < 10 ? 2 : 1)} ms`;
  if (unit === "MB") return `${round(v, 1)} MB`;
  return `${fmtInt(v)} ${unit}`;
}

function table(rows: Row[]): string {
  const head = ["scenario", "figure", "value", "baseline (same run)", "ratio", "target", "result"];
  const body = rows.map((r) => [
    r.scenario, r.figure, fmtValue(r.value, r.unit),
    r.baseline === null ? r.baselineLabel : `${fmtValue(r.baseline, r.unit)} (${r.baselineLabel})`,
    r.baseline === null || r.ratio === null ? "—" : `${r.ratio < 0.1 ? r.ratio.toPrecision(2) : round(r.ratio, 2)}×`,
    r.target, r.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

async function main() {
  const names = parseArgs(process.argv.slice(2));
  const scale = readScale();
  const started = new Date();
  const t0 = performance.now();
  const gen = await loadGenerator();
  const machine = machineInfo(`${gen.name} ${gen.version}`);
  const source = sourceInfo();
  log(`scale ${scale.name}: drain ${fmtInt(scale.drainRows)}, big ${fmtInt(scale.bigRows)}, queue ${fmtInt(scale.queueJobs)} jobs; scenarios ${names.join(", ")}`);
  log(`machine: ${machine.cores} cores (${machine.cpu}), Bun ${machine.bun}, SQLite ${machine.sqlite}; load generator: ${gen.why}`);
  const ctx = createContext(scale);
  const rows: Row[] = [];
  const failures: Record<string, string> = {};
  for (const name of names) {
    const s0 = performance.now();
    try {
      const report = await SCENARIOS[name]!(ctx);
      rows.push(...report.rows);
    } catch (err) {
      const msg = err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err);
      failures[name] = msg;
      log(`scenario ${name} failed: ${msg}`);
      rows.push({ scenario: name, figure: "(scenario failed)", value: null, unit: "", baseline: null, baselineLabel: "—", ratio: null, target: "—", verdict: "FAIL", note: msg.split("\n")[0] });
      await killAllServices();
    }
    log(`scenario ${name} took ${round((performance.now() - s0) / 1000)} s`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const sourceAfter = sourceInfo();
  const moved = sourceAfter.commit !== source.commit;

  const out: string[] = [];
  out.push("", `tgcpa benchmarks — ${started.toISOString()} — scale ${scale.name} — ${round(seconds)} s — commit ${source.commit}${source.srcDirty ? " (src/ modified)" : ""}`);
  out.push(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGb} GiB, ${machine.kernel}; Bun ${machine.bun}; SQLite ${machine.sqlite}`);
  const busy = Object.entries(ctx.busyBefore).filter(([, b]) => b !== null && b > 0.25);
  if (busy.length) out.push(`WARNING: the machine was busy with other processes before ${busy.map(([n, b]) => `${n} (${b} cores)`).join(", ")}: those figures are skewed`);
  if (moved) out.push(`WARNING: HEAD moved from ${source.commit} to ${sourceAfter.commit} during the run; figures may mix both`);
  out.push(`load generator: ${gen.why}`);
  out.push(`service: separate process (bun src/main.ts), storage.synchronous FULL unless labelled, delivery.max_in_flight = per_host_in_flight = ${scale.inFlight}, log warn`);
  out.push("", table(rows), "");
  const notes = rows.filter((r) => r.note);
  if (notes.length) {
    out.push("notes:");
    for (const r of notes) out.push(`  - ${r.scenario} / ${r.figure}: ${r.note}`);
  }
  const graded = rows.filter((r) => r.verdict !== "info");
  const incomplete = graded.filter((r) => r.verdict === "INCOMPLETE").length;
  out.push("", `targets met: ${graded.filter((r) => r.verdict === "PASS").length} of ${graded.length}${incomplete ? ` (${incomplete} not fully measured)` : ""}`);
  process.stdout.write(`${out.join("\n")}\n`);

  const dir = join(REPO_ROOT, "bench-results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "latest.json");
  writeFileSync(file, `${JSON.stringify({
    startedAt: started.toISOString(), seconds: round(seconds), source, sourceAfter, busyCoresBeforeMeasurement: ctx.busyBefore, scale, scenarios: names, machine,
    loadGenerator: { name: gen.name, version: gen.version, why: gen.why },
    rows, measurements: ctx.measurements, failures,
  }, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
  await killAllServices();
}

await main();
process.exit(0);
