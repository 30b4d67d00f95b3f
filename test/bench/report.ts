// The result rows of a bench run (figure, baseline, ratio, target, verdict), the statistics
// behind them, and how the bench prints.

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

export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
