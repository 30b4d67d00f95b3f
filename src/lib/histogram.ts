/** Cumulative-bucket histogram (Prometheus style) of durations in ms. */
export class Histogram {
  /** counts[i]: observations ≤ bounds[i]; the last slot counts those above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  observe(value: number) {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** Buckets for the commit path, in ms: a healthy commit takes well under 1 ms, a sync a few; stalls show up in the hundreds. */
export const COMMIT_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] as const;
