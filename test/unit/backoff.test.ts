import { describe, expect, test } from "bun:test";
import { nextRetryDelay, type BackoffInput } from "../../src/delivery/backoff.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
/** SPEC §4 default ladder: immediately, 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h. */
const LADDER = [0, 10 * S, M, 5 * M, 30 * M, 2 * H, 6 * H, 12 * H, 24 * H];

const input = (over: Partial<BackoffInput>): BackoffInput => ({
  attempts: 1, ladderMs: LADDER, jitter: 0, random: 0.5, retryAfterMs: null, minDelayMs: 0, ...over,
});

describe("nextRetryDelay without jitter follows the ladder", () => {
  const cases = [1, 2, 3, 4, 5, 6, 7, 8].map((attempts) => ({ attempts, expected: LADDER[attempts]! }));
  test.each(cases)("after attempt $attempts wait $expected ms", ({ attempts, expected }) => {
    expect(nextRetryDelay(input({ attempts }))).toBe(expected);
  });

  test("after the 9th attempt the ladder is exhausted (row fails)", () => {
    expect(nextRetryDelay(input({ attempts: 9 }))).toBeNull();
  });

  test("a custom 3-step ladder allows exactly 3 attempts", () => {
    const ladderMs = [0, 5 * S, 20 * S];
    expect([1, 2, 3].map((attempts) => nextRetryDelay(input({ attempts, ladderMs })))).toEqual([5 * S, 20 * S, null]);
  });
});

describe("jitter ±20 %", () => {
  const cases = [
    { name: "random 0 → step − 20 %", attempts: 2, random: 0, expected: 48 * S },
    { name: "random 0.5 → the step itself", attempts: 2, random: 0.5, expected: M },
    { name: "random 0.25 → step − 10 %", attempts: 3, random: 0.25, expected: 270 * S },
    { name: "random 0 on 24 h → 19.2 h", attempts: 8, random: 0, expected: 69_120_000 },
  ];
  test.each(cases)("$name", ({ attempts, random, expected }) => {
    expect(nextRetryDelay(input({ attempts, random, jitter: 0.2 }))).toBe(expected);
  });

  test("random just below 1 → just below step + 20 %", () => {
    const d = nextRetryDelay(input({ attempts: 2, random: 0.999999, jitter: 0.2 }))!;
    expect(d).toBeGreaterThan(71.99 * S);
    expect(d).toBeLessThanOrEqual(72 * S);
  });

  test.each([1, 2, 3, 4, 5, 6, 7, 8])("every value stays within ±20 %% of step %d", (attempts) => {
    for (const random of [0, 0.1, 0.37, 0.5, 0.82, 0.9999]) {
      const d = nextRetryDelay(input({ attempts, random, jitter: 0.2 }))!;
      expect(d).toBeGreaterThanOrEqual(Math.floor(LADDER[attempts]! * 0.8));
      expect(d).toBeLessThanOrEqual(Math.ceil(LADDER[attempts]! * 1.2));
    }
  });
});

describe("Retry-After only lengthens a step, up to 2× the step", () => {
  const cases = [
    { name: "shorter than the step → the step", attempts: 2, retryAfterMs: 5 * S, expected: M },
    { name: "zero → the step", attempts: 2, retryAfterMs: 0, expected: M },
    { name: "between step and 2× → Retry-After", attempts: 2, retryAfterMs: 90 * S, expected: 90 * S },
    { name: "exactly 2× → 2×", attempts: 2, retryAfterMs: 2 * M, expected: 2 * M },
    { name: "a day on a 1 min step → capped at 2 min", attempts: 2, retryAfterMs: 24 * H, expected: 2 * M },
    { name: "an hour on a 10 s step → capped at 20 s", attempts: 1, retryAfterMs: H, expected: 20 * S },
  ];
  test.each(cases)("$name", ({ attempts, retryAfterMs, expected }) => {
    expect(nextRetryDelay(input({ attempts, retryAfterMs }))).toBe(expected);
  });

  test("Retry-After does not extend the ladder past its last attempt", () => {
    expect(nextRetryDelay(input({ attempts: 9, retryAfterMs: M }))).toBeNull();
  });
});

describe("minDelayMs floor (after a 429 or a timeout: at least 60 s)", () => {
  const cases = [
    { name: "attempt 1: 10 s step becomes 60 s", attempts: 1, minDelayMs: 60 * S, retryAfterMs: null, expected: 60 * S },
    { name: "attempt 1 with jitter low: still 60 s", attempts: 1, minDelayMs: 60 * S, retryAfterMs: null, random: 0, jitter: 0.2, expected: 60 * S },
    { name: "attempt 2 with jitter low (48 s): lifted to 60 s", attempts: 2, minDelayMs: 60 * S, retryAfterMs: null, random: 0, jitter: 0.2, expected: 60 * S },
    { name: "attempt 3: 5 min step is above the floor, unchanged", attempts: 3, minDelayMs: 60 * S, retryAfterMs: null, expected: 5 * M },
    { name: "attempt 1 with a capped Retry-After (20 s): floor wins", attempts: 1, minDelayMs: 60 * S, retryAfterMs: H, expected: 60 * S },
    { name: "floor 0 changes nothing", attempts: 1, minDelayMs: 0, retryAfterMs: null, expected: 10 * S },
  ];
  test.each(cases)("$name", ({ expected, ...over }) => {
    expect(nextRetryDelay(input(over))).toBe(expected);
  });
});
