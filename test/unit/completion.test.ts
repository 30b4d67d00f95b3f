import { describe, expect, test } from "bun:test";
import { decideCompletion } from "../../src/delivery/completion.ts";
import type { Classification } from "../../src/domain/verdict.ts";

const LADDER = { ladderMs: [0, 10_000, 60_000], jitter: 0 };
const NOW = 1_000_000;
const retry = (extra: Partial<Extract<Classification, { outcome: "retry" }>> = {}): Classification =>
  ({ outcome: "retry", reason: "http_503", retryAfterMs: null, minDelayMs: 0, ...extra });

describe("decideCompletion", () => {
  test.each([
    ["delivered is final", { attempts: 1 }, { outcome: "delivered" }, { state: "delivered", reason: null }],
    ["rejected is final, with its reason", { attempts: 1 }, { outcome: "rejected", reason: "http_404" }, { state: "rejected", reason: "http_404" }],
    ["the first retry waits the ladder's second step", { attempts: 1 }, retry(), { state: "pending", reason: "http_503", nextAttemptAt: NOW + 10_000 }],
    ["the second retry waits the third", { attempts: 2 }, retry(), { state: "pending", reason: "http_503", nextAttemptAt: NOW + 60_000 }],
    ["after the last step the row fails", { attempts: 3 }, retry(), { state: "failed", reason: "gave up after 3 attempts; last: http_503" }],
    ["Retry-After lengthens a step, up to twice it", { attempts: 1 }, retry({ retryAfterMs: 50_000 }), { state: "pending", reason: "http_503", nextAttemptAt: NOW + 20_000 }],
    ["a floor (429, timeout) applies last", { attempts: 1 }, retry({ minDelayMs: 60_000 }), { state: "pending", reason: "http_503", nextAttemptAt: NOW + 60_000 }],
    ["a flood wait keeps the row's place and does not count the attempt", { attempts: 3 }, retry({ reason: "telegram_429", pauseHostMs: 3000 }), { state: "pending", reason: "telegram_429", nextAttemptAt: 5, uncounted: true }],
  ] as const)("%s", (_name, row, verdict, expected) => {
    expect(decideCompletion({ dueAt: 5, ...row }, verdict as Classification, LADDER, 0.5, NOW)).toEqual(expected as never);
  });

  test("jitter moves a step by up to ±jitter, from the random number", () => {
    const at = (random: number) => (decideCompletion({ attempts: 1, dueAt: 0 }, retry(), { ladderMs: [0, 10_000], jitter: 0.2 }, random, 0) as { nextAttemptAt: number }).nextAttemptAt;
    expect(at(0)).toBe(8000);
    expect(at(0.5)).toBe(10_000);
    expect(at(0.9999999)).toBe(12_000);
  });
});
