// The scenarios of issue #5: each turns same-run measurements into table rows.
import { clickScenario } from "./click.ts";
import { dashboardScenario } from "./dashboard.ts";
import { retentionScenario } from "./retention.ts";
import { e2eScenario } from "./e2e.ts";
import { pgScenario } from "./pg.ts";
import { exportScenario } from "./export.ts";
import { telegramScenario } from "./telegram.ts";
import { removeDir, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { startHelper } from "./helper-processes.ts";
import { fmtInt, limitRow, log, ratioRow, round, type Row, type ScenarioReport } from "./report.ts";
import { IDLE_SETTLE_S, measureBare, measureDrain, measureFetchBaseline, measureIdleRss, measureIntake, type DrainMeasure, type IntakeMeasure } from "./measure.ts";
import type { Synchronous } from "../../src/config/model.ts";

const sizeLabel = (n: number) => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : fmtInt(n));

function drainNote(m: DrainMeasure) {
  const what = `${fmtInt(m.received)} of ${fmtInt(m.rows)} received in ${round(m.drainSeconds)} s`;
  return m.complete ? what : `${what} — INCOMPLETE (${m.stopReason}); rate over the measured window`;
}

function intakeNote(m: IntakeMeasure) {
  const bad = m.non2xx || m.errors ? `; ${m.non2xx} non-2xx, ${m.errors} errors` : "";
  return `${fmtInt(m.requests)} requests in ${round(m.seconds)} s${bad}`;
}

/**
 * Intake against the stack's own ceiling (issue #17): the same load on a minimal Elysia route with
 * the events body schema that writes nothing is what a request costs before any database work; the
 * targets are ratios of that row. The bare Bun.serve rows show how far Elysia itself is from the socket.
 */
async function intake(ctx: BenchContext): Promise<ScenarioReport> {
  const base = await measureBare(ctx);
  const svc = await measureIntake(ctx, { synchronous: "FULL", existingLeads: 0 });
  const bare = await measureIntake(ctx, { synchronous: "FULL", existingLeads: 0, noTemplates: true });
  // What the stack itself allows before any write: the same load on servers.ts bare-json / elysia.
  const json = await measureBare(ctx, "bare-json");
  const elysia = await measureBare(ctx, "elysia");
  const valid = (m: IntakeMeasure) => (m.non2xx === 0 && m.errors === 0 ? m.rps : null);
  const ceiling = "minimal Elysia route, no write";
  return {
    rows: [
      ratioRow({
        scenario: "intake, write path", figure: `POST /api/events events/s, ${ctx.scale.clients} clients, no postback templates`, value: valid(bare), unit: "ev/s",
        baseline: elysia.rps, baselineLabel: ceiling, target: "≥ 0.5× ceiling", minRatio: 0.5,
        note: `p50/p99 ${round(bare.p50Ms, 2)}/${round(bare.p99Ms, 2)} ms; ${intakeNote(bare)}`,
      }),
      ratioRow({
        scenario: "intake with templates", figure: `POST /api/events events/s, ${ctx.scale.clients} clients, one postback each, delivered meanwhile`, value: valid(svc), unit: "ev/s",
        baseline: elysia.rps, baselineLabel: ceiling, target: "≥ 0.3× ceiling", minRatio: 0.3,
        note: `p50/p99 ${round(svc.p50Ms, 2)}/${round(svc.p99Ms, 2)} ms; ${intakeNote(svc)}`,
      }),
      ratioRow({
        scenario: "intake [extra: ceiling]", figure: "minimal Elysia route with the events body schema, no write", value: elysia.rps, unit: "req/s",
        baseline: base.rps, baselineLabel: "bare Bun.serve \"ok\"", target: "(none)", minRatio: null, extra: true, note: intakeNote(elysia),
      }),
      ratioRow({
        scenario: "intake [extra: ceiling]", figure: "bare Bun.serve that parses the JSON body and answers JSON, no write", value: json.rps, unit: "req/s",
        baseline: base.rps, baselineLabel: "bare Bun.serve \"ok\"", target: "(none)", minRatio: null, extra: true, note: intakeNote(json),
      }),
      {
        scenario: "intake [extra: ceiling]", figure: "bare Bun.serve answering \"ok\"", value: base.rps, unit: "req/s", baseline: null, baselineLabel: "—",
        ratio: null, target: "—", verdict: "info", note: `p50/p99 ${round(base.p50Ms, 2)}/${round(base.p99Ms, 2)} ms`,
      },
    ],
    details: {},
  };
}

/**
 * The drain and its baseline, measured as `drainPairs` interleaved pairs (baseline, then service):
 * the machine is shared and one pair can be off by ±20 %. The pair with the median ratio is the
 * reported one; every pair is in the note and the JSON.
 */
function drainPairs(ctx: BenchContext) {
  return ctx.memo("drain.pairs", async () => {
    const rows = ctx.scale.drainRows;
    const pairs: { base: Awaited<ReturnType<typeof measureFetchBaseline>>; m: DrainMeasure; ratio: number }[] = [];
    for (let i = 0; i < ctx.scale.drainPairs; i++) {
      const base = await measureFetchBaseline(ctx, rows, i);
      const m = await measureDrain(ctx, { rows, synchronous: "FULL", repeat: i });
      pairs.push({ base, m, ratio: m.rate / base.rate });
    }
    const median = [...pairs].sort((a, b) => a.ratio - b.ratio)[Math.floor(pairs.length / 2)]!;
    return { pairs, median };
  });
}

async function drain(ctx: BenchContext): Promise<ScenarioReport> {
  const rows = ctx.scale.drainRows;
  const { pairs, median: { base, m } } = await drainPairs(ctx);
  const all = pairs.length > 1 ? `; median of ${pairs.length} pairs, ratios ${pairs.map((p) => `${round(p.ratio, 2)}× (${fmtInt(p.m.rate)}/${fmtInt(p.base.rate)})`).join(", ")}` : "";
  return {
    rows: [ratioRow({
      scenario: "drain", figure: `postbacks/s from a ${sizeLabel(rows)} backlog, ${ctx.scale.inFlight} in flight`, value: m.rate, unit: "pb/s",
      baseline: base.rate, baselineLabel: `bare fetch loop, concurrency ${base.concurrency}`, target: "≥ 70 % of baseline", minRatio: 0.7,
      note: drainNote(m) + all,
    })],
    details: { pairs: pairs.map((p) => ({ service: p.m.rate, baseline: p.base.rate, ratio: p.ratio })) },
  };
}

interface QueueResult { impl: string; jobs: number; lost: number; left: number; seconds: number; rate: number; synchronous: string }

function measureQueue(ctx: BenchContext, impl: "tgcpa" | "plainjob", synchronous: Synchronous): Promise<QueueResult> {
  return ctx.memo(`queue.${impl}.${synchronous}`, async () => {
    const dir = tempDir(`queue-${impl}`);
    try {
      log(`queue core: ${impl}, ${fmtInt(ctx.scale.queueJobs)} jobs, synchronous=${synchronous}`);
      const h = await startHelper("queue-core-child.ts", [impl, String(ctx.scale.queueJobs), dir, synchronous, String(ctx.scale.inFlight)], { waitHello: false });
      const r = (await h.result(Number(process.env.BENCH_QUEUE_TIME_LIMIT_S ?? 600) * 1000 + 120_000)) as QueueResult;
      log(`  → ${fmtInt(r.rate)} jobs/s (${fmtInt(r.jobs)} in ${round(r.seconds)} s, left ${r.left})`);
      return r;
    } finally {
      removeDir(dir);
    }
  });
}

function queueRow(ctx: BenchContext, ours: QueueResult, theirs: QueueResult, extra: boolean): Row {
  const valid = ours.jobs === ctx.scale.queueJobs && theirs.jobs === ctx.scale.queueJobs && ours.left === 0;
  return ratioRow({
    scenario: extra ? "queue core [extra: synchronous=NORMAL]" : "queue core",
    figure: `claim+complete rows/s, no HTTP, ${sizeLabel(ctx.scale.queueJobs)} jobs`, value: valid ? ours.rate : null, unit: "rows/s",
    baseline: theirs.rate, baselineLabel: `plainjob worker, bun:sqlite, ${theirs.synchronous}`, target: "≥ 2× plainjob", minRatio: 2, extra,
    note: `claimDue(${ctx.scale.inFlight}) + completeAttempt per row through the GroupCommit, as the dispatcher does; plainjob: its own worker, one job at a time`,
  });
}

async function queueCore(ctx: BenchContext): Promise<ScenarioReport> {
  const ours = await measureQueue(ctx, "tgcpa", "FULL");
  const theirs = await measureQueue(ctx, "plainjob", "FULL");
  return { rows: [queueRow(ctx, ours, theirs, false)], details: {} };
}

async function growth(ctx: BenchContext): Promise<ScenarioReport> {
  const big = ctx.scale.bigRows;
  const empty = await measureIntake(ctx, { synchronous: "FULL", existingLeads: 0 });
  const full = await measureIntake(ctx, { synchronous: "FULL", existingLeads: big });
  const smallDrain = (await drainPairs(ctx)).median.m;
  const bigDrain = await measureDrain(ctx, { rows: big, synchronous: "FULL" });
  const intakeValid = full.non2xx === 0 && full.errors === 0;
  return {
    rows: [
      ratioRow({
        scenario: "growth", figure: `intake events/s with ${sizeLabel(big)} existing leads`, value: intakeValid ? full.rps : null, unit: "ev/s",
        baseline: empty.rps, baselineLabel: "intake on an empty database", target: "within 20 % (≥ 0.8×)", minRatio: 0.8,
        note: `p99 ${round(full.p99Ms, 2)} ms vs ${round(empty.p99Ms, 2)} ms; ${intakeNote(full)}`,
      }),
      ratioRow({
        scenario: "growth", figure: `drain postbacks/s from a ${sizeLabel(big)} backlog`, value: bigDrain.rate, unit: "pb/s",
        baseline: smallDrain.rate, baselineLabel: `drain of a ${sizeLabel(smallDrain.rows)} backlog`, target: "within 20 % (≥ 0.8×)", minRatio: 0.8,
        note: `${drainNote(bigDrain)}; baseline: ${drainNote(smallDrain)}`,
      }),
    ],
    details: {},
  };
}

async function memory(ctx: BenchContext): Promise<ScenarioReport> {
  const big = ctx.scale.bigRows;
  const m = await measureDrain(ctx, { rows: big, synchronous: "FULL" });
  // The smaller drain of this run, if it ran: a faster drain holds more in flight and in garbage.
  const other = ctx.measurements[`drain.service.FULL.${ctx.scale.drainRows}`] as DrainMeasure | undefined;
  const also = other ? `; the ${sizeLabel(other.rows)} drain of this run peaked at ${other.peakRssMb} MB at ${fmtInt(other.rate)} pb/s` : "";
  const row = limitRow({
    scenario: "memory", figure: `service peak RSS draining a ${sizeLabel(big)} backlog`, value: m.peakRssMb, unit: "MB",
    target: "≤ 150 MB", max: 150,
    note: `VmHWM of the service process (/proc/PID/status)${m.complete ? "" : `, over the measured part only: ${drainNote(m)}`}${also}`,
  });
  // A peak over a drain cut short says little about the whole drain: not a pass.
  if (!m.complete && row.verdict === "PASS") row.verdict = "INCOMPLETE";
  const idle = await measureIdleRss(ctx);
  return {
    rows: [
      limitRow({
        scenario: "memory", figure: "idle RSS after start, config/example.yaml", value: idle.rssMb, unit: "MB", target: "≤ 50 MB", max: 50,
        note: `VmRSS ${IDLE_SETTLE_S} s after /health first answered, then after a request to each of /health, /api/campaigns, /swagger/json: ${idle.afterRequestsMb} MB; a bare Bun process here: ${idle.bareBunMb} MB`,
      }),
      row,
    ],
    details: { idle },
  };
}

/** Extra rows: the same intake, drain and queue core at synchronous=NORMAL (not a target). */
async function normal(ctx: BenchContext): Promise<ScenarioReport> {
  const ceiling = await measureBare(ctx, "elysia");
  const svc = await measureIntake(ctx, { synchronous: "NORMAL", existingLeads: 0 });
  const fetchBase = (await drainPairs(ctx)).median.base; // the baseline of the reported FULL drain
  const d = await measureDrain(ctx, { rows: ctx.scale.drainRows, synchronous: "NORMAL" });
  const ours = await measureQueue(ctx, "tgcpa", "NORMAL");
  const theirs = await measureQueue(ctx, "plainjob", "NORMAL");
  const label = "[extra: synchronous=NORMAL]";
  return {
    rows: [
      ratioRow({
        scenario: `intake ${label}`, figure: `POST /api/events events/s, ${ctx.scale.clients} clients, one postback each`, value: svc.rps, unit: "ev/s",
        baseline: ceiling.rps, baselineLabel: "minimal Elysia route, no write", target: "(≥ 0.3× ceiling)", minRatio: 0.3, extra: true,
        note: `p50/p99 ${round(svc.p50Ms, 2)}/${round(svc.p99Ms, 2)} ms; ${intakeNote(svc)}`,
      }),
      ratioRow({
        scenario: `drain ${label}`, figure: `postbacks/s from a ${sizeLabel(d.rows)} backlog`, value: d.rate, unit: "pb/s", note: drainNote(d),
        baseline: fetchBase.rate, baselineLabel: `bare fetch loop, concurrency ${fetchBase.concurrency}`, target: "(≥ 70 %)", minRatio: 0.7, extra: true,
      }),
      queueRow(ctx, ours, theirs, true),
    ],
    details: {},
  };
}

export const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioReport>> = {
  intake,
  drain,
  e2e: e2eScenario,
  telegram: telegramScenario,
  queue: queueCore,
  growth,
  memory,
  normal,
  dashboard: dashboardScenario,
  retention: retentionScenario,
  pg: pgScenario,
  click: clickScenario,
  export: exportScenario,
};

/** Aliases accepted on the command line. */
export const ALIASES: Record<string, string> = { "click-link": "click", clicks: "click", webhook: "telegram", burst: "telegram", "end-to-end": "e2e", "queue-core": "queue", core: "queue", sync: "normal" };
