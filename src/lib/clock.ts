/** Time source and timers, injected everywhere so tests can move time instead of sleeping. */
export interface Clock {
  now(): number;
  /** Calls fn after `ms` of this clock's time; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
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
