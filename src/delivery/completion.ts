import { nextRetryDelay } from "./backoff.ts";
import type { Completion } from "../storage/outbox-types.ts";
import type { Classification } from "../domain/verdict.ts";

export interface RetryPolicy {
  /** Wait before each attempt; its length is the number of attempts. */
  ladderMs: readonly number[];
  /** ±fraction on each step. */
  jitter: number;
}

/**
 * What an attempt's verdict makes of its row (pure): delivered and rejected are final; a retry
 * waits its step of the ladder, or fails the row when the ladder is done; a flood wait keeps the
 * row's place in line without counting the attempt (the host's pause holds it meanwhile).
 * `random` is a number in [0, 1) for the jitter.
 */
export function decideCompletion(
  row: { attempts: number; dueAt: number }, verdict: Classification, policy: RetryPolicy, random: number, now: number,
): Completion {
  if (verdict.outcome === "delivered") return { state: "delivered", reason: null };
  if (verdict.outcome === "rejected") return { state: "rejected", reason: verdict.reason };
  if (verdict.pauseHostMs !== undefined) return { state: "pending", reason: verdict.reason, nextAttemptAt: row.dueAt, uncounted: true };
  const delay = nextRetryDelay({
    attempts: row.attempts, ladderMs: policy.ladderMs, jitter: policy.jitter, random,
    retryAfterMs: verdict.retryAfterMs, minDelayMs: verdict.minDelayMs,
  });
  if (delay === null) return { state: "failed", reason: `gave up after ${row.attempts} attempts; last: ${verdict.reason}` };
  return { state: "pending", reason: verdict.reason, nextAttemptAt: now + delay };
}
