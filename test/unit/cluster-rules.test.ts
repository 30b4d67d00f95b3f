// Several instances on one database: who may act for a bot, when a coalesced wake goes out, who is
// alive, the signals between instances (src/cluster/rules.ts); and the dispatcher's view of the
// others' hosts and circuits (HostSlots with SharedHosts).
import { describe, expect, test } from "bun:test";
import { decodeSignal, encodeSignal, isAlive, nextNotifyAt, ownedBots } from "../../src/cluster/rules.ts";
import { HostSlots, type SharedHosts } from "../../src/delivery/host-slots.ts";
import type { BotLeaseRow } from "../../src/storage/port-cluster.ts";

const lease = (bot: string, owner: string, expiresAt: number): BotLeaseRow => ({ bot, owner, epoch: 1, expiresAt, acquiredAt: 0, updatedAt: 0 });

describe("ownedBots", () => {
  const leases = [lease("a", "me", 10_000), lease("b", "other", 10_000), lease("c", "me", 5_500), lease("d", "me", 4_000)];
  test.each([
    [0, ["a", "c", "d"]],
    [3_000, ["a", "c"]], // d ends at 4,000: given up a margin (1,000 ms) before
    [4_499, ["a", "c"]],
    [4_500, ["a"]],
    [8_999, ["a"]],
    [9_000, []],
  ] as const)("at %d ms: %j", (now, bots) => {
    expect([...ownedBots(leases, "me", now, 1000)].sort()).toEqual([...bots]);
  });
  test("nobody else's lease, whatever its time", () => {
    expect([...ownedBots(leases, "other", 0, 1000)]).toEqual(["b"]);
    expect([...ownedBots([], "me", 0)]).toEqual([]);
  });
});

describe("nextNotifyAt: at most one wake per interval, the one after it at the interval's end", () => {
  test.each([
    [Number.NEGATIVE_INFINITY, 0, null],
    [0, 100, null],
    [0, 250, null],
    [0, 99, 100],
    [0, 1, 100],
    [500, 540, 600],
  ] as const)("last sent at %d, asked at %d → %j", (last, now, at) => {
    expect(nextNotifyAt(last, now, 100)).toBe(at);
  });
});

test.each([
  [1000, 4000, true],
  [1000, 4001, false],
  [5000, 4000, true], // a heartbeat ahead of the reader's clock
] as const)("isAlive(heartbeat %d, now %d) = %s", (heartbeatAt, now, alive) => {
  expect(isAlive(heartbeatAt, now, 3000)).toBe(alive);
});

test.each([
  ["wake:vm-1-abc", { kind: "wake", from: "vm-1-abc" }],
  ["reload:host:with:colons", { kind: "reload", from: "host:with:colons" }],
  ["circuit:x", { kind: "circuit", from: "x" }],
  ["nap:x", null],
  [":x", null],
  ["wake", null],
  ["", null],
] as const)("decodeSignal(%j)", (payload, signal) => {
  expect(decodeSignal(payload)).toEqual(signal);
  if (signal) expect(encodeSignal(signal)).toBe(payload);
});

describe("HostSlots beside other instances", () => {
  const BREAKER = { failures: 2, cooldownMs: 60_000 };
  const failure = { outcome: "retry", reason: "http_503", retryAfterMs: null, minDelayMs: 0 } as const;
  function shared(foreign: string[] = []) {
    const told: string[] = [];
    const hosts: SharedHosts = {
      isForeignHost: (h) => foreign.includes(h), foreignHosts: () => foreign,
      circuitOpened: (h, until, failures) => void told.push(`opened ${h} until ${until} after ${failures}`),
      circuitClosed: (h) => void told.push(`closed ${h}`),
    };
    return { hosts, told };
  }

  test("a host another instance sends to has no slots and is never read by a claim", () => {
    const { hosts } = shared(["telegram:theirs"]);
    const slots = new HostSlots(undefined, BREAKER, () => 1, hosts);
    expect(slots.slots("telegram:theirs", 8, 0)).toBe(0);
    expect(slots.slots("telegram:mine", 8, 0)).toBe(8);
    expect(slots.blocked(0, 8, new Map())).toEqual(["telegram:theirs"]);
  });

  test("a circuit opened here is told to the others; its probe going through closes it for them", () => {
    const { hosts, told } = shared();
    const slots = new HostSlots(undefined, BREAKER, () => 1, hosts);
    slots.recordVerdict("a", failure, 0);
    slots.recordVerdict("a", failure, 0);
    slots.recordVerdict("a", { outcome: "delivered" }, 60_000); // the probe
    slots.recordVerdict("a", { outcome: "delivered" }, 60_001); // closed already: nothing to tell
    expect(told).toEqual(["opened a until 60000 after 2", "closed a"]);
  });

  test("a circuit another instance opened pauses the host here until its end, and closes here once it is gone from the list", () => {
    const { hosts } = shared();
    const slots = new HostSlots(undefined, BREAKER, () => 1, hosts);
    expect(slots.mergeShared([{ host: "a", openUntil: 30_000 }], 0)).toBe(false);
    expect(slots.slots("a", 8, 1000)).toBe(0);
    expect(slots.blocked(1000, 8, new Map())).toEqual(["a"]);
    expect(slots.reopenings(1000)).toEqual([30_000]);
    expect(slots.mergeShared([{ host: "a", openUntil: 30_000 }], 2000)).toBe(false); // still listed
    expect(slots.mergeShared([], 3000)).toBe(true); // its probe went through elsewhere
    expect(slots.slots("a", 8, 3000)).toBe(8);
    // One already over, or shorter than this instance's own, changes nothing.
    expect(slots.mergeShared([{ host: "b", openUntil: 10 }], 20)).toBe(false);
    expect(slots.slots("b", 8, 20)).toBe(8);
  });

  test("an open circuit elsewhere: a failed probe here opens it again", () => {
    const { hosts, told } = shared();
    const slots = new HostSlots(undefined, BREAKER, () => 1, hosts);
    slots.mergeShared([{ host: "a", openUntil: 30_000 }], 0);
    expect(slots.slots("a", 8, 30_000)).toBe(1); // half-open: one probe
    expect(slots.recordVerdict("a", failure, 30_000).circuitOpened).toBe(true);
    expect(told).toEqual(["opened a until 90000 after 3"]);
  });
});
