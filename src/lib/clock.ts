/** Time source and timers, injected everywhere so tests can move time instead of sleeping. */
export interface Clock {
  now(): number;
  /** Calls fn after `ms` of this clock's time; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** setTimeout's longest delay (about 24.8 days): a longer one fires at once, so it is waited for in steps. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    let handle: ReturnType<typeof setTimeout>;
    const arm = (left: number) => {
      handle = left > MAX_TIMEOUT_MS ? setTimeout(() => arm(left - MAX_TIMEOUT_MS), MAX_TIMEOUT_MS) : setTimeout(fn, Math.max(0, left));
    };
    arm(ms);
    return () => clearTimeout(handle);
  },
};

/** One pending wake-up through a clock; setting it again moves it, null clears it. */
export class Alarm {
  private cancel: (() => void) | null = null;
  /** When it will ring, clock ms, or null. */
  at: number | null = null;

  constructor(private readonly clock: Clock, private readonly ring: () => void) {}

  set(at: number | null) {
    if (at === this.at) return;
    this.cancel?.();
    this.cancel = null;
    this.at = at;
    if (at === null) return;
    this.cancel = this.clock.setTimer(() => {
      this.cancel = null;
      this.at = null;
      this.ring();
    }, at - this.clock.now());
  }
}
