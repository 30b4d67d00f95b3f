import { describe, expect, test } from "bun:test";
import { HostSlots, type Pacing } from "../../src/delivery/host-slots.ts";
import { SendPacer, TELEGRAM_PACE } from "../../src/delivery/pacing.ts";
import type { ClaimedPostback } from "../../src/storage/outbox-types.ts";

const BREAKER = { failures: 2, cooldownMs: 60_000 };
const row = (host: string, chat?: number): ClaimedPostback => ({
  id: 1, leadId: 1, host, method: "GET", url: "tg://bot/welcome", body: chat === undefined ? null : JSON.stringify({ chat }), contentType: null,
  attempts: 1, earlierAttempts: 0, leaseToken: 1, verdict: null, channel: "telegram", dueAt: 0,
});

/** One paced host, "telegram:bot", at 10 sends a second. */
function paced(): { slots: HostSlots; pacer: SendPacer } {
  const pacer = new SendPacer({ perSecond: 10, ...TELEGRAM_PACE });
  const pacing: Pacing = {
    forHost: (h) => (h === "telegram:bot" ? { pacer, chatOf: (r) => (r.body ? JSON.parse(r.body).chat : null), inFlight: 8 } : undefined),
    pausedHosts: (now) => (pacer.pausedUntil(now) ? [{ host: "telegram:bot", until: pacer.pausedUntil(now)! }] : []),
  };
  return { slots: new HostSlots(pacing, BREAKER), pacer };
}

describe("HostSlots", () => {
  test("a host's claim allowance: its cap and half again, less what is in flight and queued", () => {
    const slots = new HostSlots(undefined, BREAKER);
    expect(slots.claimAllowance("a", 8, 0, 0)).toBe(12);
    slots.started("a");
    slots.started("a");
    expect(slots.claimAllowance("a", 8, 0, 3)).toBe(7);
    slots.finished("a");
    expect(slots.inFlight("a")).toBe(1);
    expect(slots.blocked(0, 8, new Map([["a", 11]]))).toEqual(["a"]);
  });

  test("a host that keeps failing is blocked for the cool-down, then gets one probe; a success reopens it", () => {
    const slots = new HostSlots(undefined, BREAKER);
    const failure = { outcome: "retry", reason: "http_503", retryAfterMs: null, minDelayMs: 0 } as const;
    expect(slots.recordVerdict("a", failure, 0).circuitOpened).toBe(false);
    expect(slots.recordVerdict("a", failure, 0).circuitOpened).toBe(true);
    expect(slots.slots("a", 8, 1000)).toBe(0);
    expect(slots.blocked(1000, 8, new Map())).toEqual(["a"]);
    expect(slots.reopenings(1000)).toEqual([60_000]);
    expect(slots.slots("a", 8, 60_000)).toBe(1);
    slots.recordVerdict("a", { outcome: "delivered" }, 60_001);
    expect(slots.slots("a", 8, 60_002)).toBe(8);
  });

  test("a paced host: its rows wait for their pace, and it holds at most a second of sends", () => {
    const { slots } = paced();
    expect(slots.claimAllowance("telegram:bot", 8, 0, 0)).toBe(10); // min(8 + 4, 10/s)
    expect(slots.paceWait(row("telegram:bot", 1), 0)).toBe(0);
    expect(slots.paceWait(row("telegram:bot", 2), 0)).toBe(100); // 10/s: one every 100 ms
    expect(slots.paceWait(row("telegram:bot", 1), 100)).toBe(1000); // one a second to one private chat
    expect(slots.paceWait(row("tracker.example"), 0)).toBe(0); // trackers are never paced
  });

  test("a flood wait pauses only its host and is no circuit failure", () => {
    const { slots } = paced();
    const flood = { outcome: "retry", reason: "telegram_429", retryAfterMs: 3000, minDelayMs: 0, pauseHostMs: 3000 } as const;
    for (let i = 0; i < 5; i++) expect(slots.recordVerdict("telegram:bot", flood, 1000)).toEqual({ circuitOpened: false, pausedUntil: 4000 });
    expect(slots.slots("telegram:bot", 8, 2000)).toBe(0);
    expect(slots.blocked(2000, 8, new Map())).toEqual(["telegram:bot"]);
    expect(slots.reopenings(2000)).toEqual([4000]);
    expect(slots.slots("telegram:bot", 8, 4000)).toBe(8);
    expect(slots.slots("tracker.example", 8, 2000)).toBe(8);
  });
});
