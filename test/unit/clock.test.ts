// The system clock's timers: a delay longer than setTimeout takes (about 24.8 days, reachable with a
// retry step or circuit_cooldown of 25d) must wait, not fire at once and spin the dispatcher.
import { describe, expect, test } from "bun:test";
import { MAX_TIMEOUT_MS, systemClock } from "../../src/lib/clock.ts";

describe("systemClock.setTimer", () => {
  test("a delay beyond setTimeout's limit does not fire early", async () => {
    let fired = 0;
    const cancel = systemClock.setTimer(() => fired++, 30 * 86_400_000);
    const cancelEdge = systemClock.setTimer(() => fired++, MAX_TIMEOUT_MS + 1);
    await Bun.sleep(50);
    cancel();
    cancelEdge();
    expect(fired).toBe(0);
  });

  test("an ordinary delay fires once, and a cancelled one never", async () => {
    let fired = 0;
    let cancelledFired = 0;
    systemClock.setTimer(() => fired++, 5);
    const cancel = systemClock.setTimer(() => cancelledFired++, 5);
    cancel();
    await Bun.sleep(40);
    expect({ fired, cancelledFired }).toEqual({ fired: 1, cancelledFired: 0 });
  });
});
