/**
 * At most `limit` starts in any rolling window of `windowMs`. Exact — it keeps the last `limit` start
 * times — because the peer counts over any rolling window: a token bucket of the same rate would let
 * `limit` go at once and `limit` more during the next window, twice what the peer accepts.
 */
export class SlidingWindow {
  private readonly starts: number[] = [];
  /** Index of the oldest start once the ring is full. */
  private oldest = 0;

  constructor(readonly limit: number, readonly windowMs: number) {}

  /** The earliest moment another start fits (≤ now: at once). */
  earliest(now: number): number {
    if (this.starts.length < this.limit) return now;
    return Math.max(now, this.starts[this.oldest]! + this.windowMs);
  }

  take(at: number) {
    if (this.starts.length < this.limit) this.starts.push(at);
    else {
      this.starts[this.oldest] = at;
      this.oldest = (this.oldest + 1) % this.limit;
    }
  }

  /** The last start is older than the window: the window constrains nothing (it can be dropped). */
  idle(now: number): boolean {
    if (this.starts.length === 0) return true;
    const newest = this.starts[(this.oldest + this.starts.length - 1) % this.starts.length]!;
    return newest + this.windowMs <= now;
  }
}

export interface PaceLimits {
  /** Sends per rolling second across all chats. */
  perSecond: number;
  /** Sends per rolling second to one private chat (Telegram: 1). */
  perPrivateChatPerSecond: number;
  /** Sends per rolling minute to one group or channel (Telegram: 20). */
  perGroupPerMinute: number;
  /**
   * A lower rate for sends without a chat (join-request approvals), when messages go faster than
   * the sender's other calls may (Telegram's paid broadcasts); absent: `perSecond` for all.
   */
  callsPerSecond?: number;
}

/** Telegram's published limits for a bot (reference/telegram.md): ~30/s overall, 1/s per chat, 20/min per group. */
export const TELEGRAM_PACE = { perPrivateChatPerSecond: 1, perGroupPerMinute: 20 } as const;

/**
 * Paces one sender (a Telegram bot): how many sends per second in all, per private chat and per
 * group, and a pause for the whole sender (a flood wait) during which nothing may start. Sends are
 * spread evenly (one every 1000/perSecond ms) rather than in bursts: gentler on the peer, and
 * consecutive sends reach it in the order they were started. Pure: the caller passes the time.
 * Chats are Telegram chat ids: positive for a private chat, negative for a group or channel; null
 * when a send has no chat of its own (it counts only toward `perSecond`).
 */
export class SendPacer {
  private readonly overall: SlidingWindow;
  private readonly gapMs: number;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** Sends without a chat, when they have a rate of their own (limits.callsPerSecond). */
  private readonly calls: { window: SlidingWindow; gapMs: number; lastStart: number } | null;
  private readonly chats = new Map<number, SlidingWindow>();
  private pauseEnd = 0;
  private lastSweep = 0;

  constructor(readonly limits: PaceLimits) {
    this.overall = new SlidingWindow(Math.max(1, Math.floor(limits.perSecond)), 1000);
    this.gapMs = 1000 / limits.perSecond;
    const calls = limits.callsPerSecond;
    this.calls = calls !== undefined && calls < limits.perSecond
      ? { window: new SlidingWindow(Math.max(1, Math.floor(calls)), 1000), gapMs: 1000 / calls, lastStart: Number.NEGATIVE_INFINITY }
      : null;
  }

  /** The earliest moment a send to `chat` may start (≤ now: at once). */
  earliest(chat: number | null, now: number): number {
    let at = Math.max(now, this.pauseEnd, this.overall.earliest(now), Math.ceil(this.lastStart + this.gapMs));
    if (chat === null && this.calls) at = Math.max(at, this.calls.window.earliest(now), Math.ceil(this.calls.lastStart + this.calls.gapMs));
    const window = chat === null ? undefined : this.chats.get(chat);
    if (window) at = Math.max(at, window.earliest(now));
    return at;
  }

  /** Books a send to `chat` starting at `now` (call only when earliest(chat, now) <= now). */
  take(chat: number | null, now: number) {
    this.overall.take(now);
    this.lastStart = now;
    if (chat === null && this.calls) {
      this.calls.window.take(now);
      this.calls.lastStart = now;
    }
    if (chat !== null) {
      let window = this.chats.get(chat);
      if (!window) {
        window = chat > 0
          ? new SlidingWindow(this.limits.perPrivateChatPerSecond, 1000)
          : new SlidingWindow(this.limits.perGroupPerMinute, 60_000);
        this.chats.set(chat, window);
      }
      window.take(now);
    }
    if (now - this.lastSweep > 60_000) this.sweep(now);
  }

  /** Nothing may start before `until` (a flood wait); a shorter pause never shortens a longer one. */
  pause(until: number) {
    this.pauseEnd = Math.max(this.pauseEnd, until);
  }

  /** The end of the pause in force at `now`, or null. */
  pausedUntil(now: number): number | null {
    return this.pauseEnd > now ? this.pauseEnd : null;
  }

  /** Chat windows that constrain nothing any more are dropped, so the map stays as small as the recent audience. */
  private sweep(now: number) {
    this.lastSweep = now;
    for (const [chat, window] of this.chats) if (window.idle(now)) this.chats.delete(chat);
  }
}
