import { describe, expect, test } from "bun:test";
import { SendPacer, SlidingWindow, TELEGRAM_PACE } from "../../src/delivery/pacing.ts";

/** Starts sends as early as the pacer allows, from time 0; returns their start times. */
function drive(pacer: SendPacer, chats: (number | null)[]): number[] {
  let now = 0;
  return chats.map((chat) => {
    now = pacer.earliest(chat, now);
    pacer.take(chat, now);
    return now;
  });
}

/** The most starts that fall in any window [t, t + windowMs). */
function busiestWindow(starts: number[], windowMs: number): number {
  let most = 0;
  for (const t of starts) most = Math.max(most, starts.filter((s) => s >= t && s < t + windowMs).length);
  return most;
}

describe("SlidingWindow", () => {
  test.each([
    // limit, window, starts already taken, now → earliest
    [3, 1000, [], 0, 0],
    [3, 1000, [0, 10], 20, 20],
    [3, 1000, [0, 10, 20], 30, 1000],
    [3, 1000, [0, 10, 20], 1000, 1000],
    [3, 1000, [0, 10, 20, 1000], 1001, 1010],
    [1, 1000, [500], 600, 1500],
  ] as const)("limit %d per %d ms after %j, at %d: next start at %d", (limit, windowMs, taken, now, expected) => {
    const w = new SlidingWindow(limit, windowMs);
    for (const t of taken) w.take(t);
    expect(w.earliest(now)).toBe(expected);
  });

  test("idle once its newest start is a whole window old", () => {
    const w = new SlidingWindow(2, 1000);
    expect(w.idle(0)).toBe(true);
    w.take(100);
    expect(w.idle(1099)).toBe(false);
    expect(w.idle(1100)).toBe(true);
  });
});

describe("SendPacer", () => {
  const telegram = (perSecond: number) => new SendPacer({ perSecond, ...TELEGRAM_PACE });

  test("a burst to many chats goes out evenly at the rate, never more in any rolling second", () => {
    const starts = drive(telegram(25), Array.from({ length: 200 }, (_, i) => 1000 + i));
    expect(starts.slice(0, 4)).toEqual([0, 40, 80, 120]);
    expect(busiestWindow(starts, 1000)).toBe(25);
    expect(starts.at(-1)).toBe(199 * 40);
  });

  test("a fractional rate rounds each gap up, so it never runs faster than asked", () => {
    const starts = drive(telegram(28), Array.from({ length: 100 }, (_, i) => 1 + i));
    expect(busiestWindow(starts, 1000)).toBeLessThanOrEqual(28);
    expect(starts[1]).toBe(36);
  });

  test("one private chat gets one send a second; other chats are not held up by it", () => {
    const pacer = telegram(25);
    const starts = drive(pacer, [7, 7, 8, 7]);
    // the second send to chat 7 waits a second; chat 8 is not behind it when asked first
    expect(starts[0]).toBe(0);
    expect(starts[1]).toBe(1000);
    expect(starts[2]).toBe(1040);
    expect(starts[3]).toBe(2000);
    const fresh = telegram(25);
    fresh.take(7, 0);
    expect(fresh.earliest(8, 40)).toBe(40);
    expect(fresh.earliest(7, 40)).toBe(1000);
  });

  test("one group gets 20 sends a minute", () => {
    const starts = drive(telegram(25), Array.from({ length: 41 }, () => -100123));
    expect(busiestWindow(starts, 60_000)).toBe(20);
    expect(starts[20]).toBe(60_000);
    expect(starts[40]).toBe(120_000);
  });

  test("sends without a chat count only toward the overall rate", () => {
    const starts = drive(telegram(25), [null, null, null]);
    expect(starts).toEqual([0, 40, 80]);
  });

  test("a pause (flood wait) holds every send until it ends; a shorter pause never shortens it", () => {
    const pacer = telegram(25);
    pacer.take(1, 0);
    pacer.pause(3000);
    pacer.pause(2000);
    expect(pacer.pausedUntil(100)).toBe(3000);
    expect(pacer.earliest(2, 100)).toBe(3000);
    expect(pacer.earliest(null, 2999)).toBe(3000);
    expect(pacer.pausedUntil(3000)).toBeNull();
    expect(pacer.earliest(2, 3000)).toBe(3000);
  });

  test("paid broadcast rates: a thousand a second, one millisecond apart", () => {
    const starts = drive(telegram(1000), Array.from({ length: 2000 }, (_, i) => 10 + i));
    expect(busiestWindow(starts, 1000)).toBe(1000);
    expect(starts.at(-1)).toBe(1999);
  });
});
