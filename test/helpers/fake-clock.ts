import type { Clock } from "../../src/lib/clock.ts";

/** A clock that only moves when told to; timers fire in order as it passes them. */
export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  constructor(private t = Date.UTC(2026, 0, 1, 12, 0, 0)) {}

  now = () => this.t;

  setTimer = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  };

  /** Moves time forward, firing every timer that falls due on the way. */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  /** The earliest pending timer, if any (ms from now). */
  nextTimerIn(): number | null {
    const at = Math.min(...this.timers.map((x) => x.at));
    return Number.isFinite(at) ? at - this.t : null;
  }
}
