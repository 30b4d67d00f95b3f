// How much a bench run measures: BENCH_SCALE (full or small) and the BENCH_* knobs over it.

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
