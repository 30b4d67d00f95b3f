export interface BackoffInput {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attempts: number;
  /** Wait before each attempt; ladder[0] is the first (usually 0). */
  ladderMs: readonly number[];
  /** ±fraction, e.g. 0.2 */
  jitter: number;
  /** A number in [0, 1): Math.random in production, fixed in tests. */
  random: number;
  retryAfterMs: number | null;
  minDelayMs: number;
}

/**
 * The wait before the next attempt, or null when the ladder is exhausted (the row fails).
 * Retry-After may only lengthen a step, up to twice the step; the floor applies last.
 */
export function nextRetryDelay(input: BackoffInput): number | null {
  const step = input.ladderMs[input.attempts];
  if (step === undefined) return null;
  let delay = step * (1 + input.jitter * (2 * input.random - 1));
  if (input.retryAfterMs !== null) delay = Math.max(delay, Math.min(input.retryAfterMs, 2 * step));
  return Math.round(Math.max(delay, input.minDelayMs));
}
