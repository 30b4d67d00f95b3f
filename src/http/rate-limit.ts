/**
 * Token buckets per key (client address): `perMinute` requests a minute, bursts up to the same
 * number. Idle full buckets are dropped so the map stays small under address churn.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(private readonly perMinute: number) {}

  /** Takes one token; returns 0 when allowed, else the ms until the next token. */
  take(key: string, now: number): number {
    if (this.perMinute <= 0) return 0;
    const rate = this.perMinute / 60_000; // tokens per ms
    if (now - this.lastSweep > 60_000) this.sweep(now, rate); // before this key's bucket is touched
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate);
  }

  /** The ms until this key may take a token (0: it may now), without taking one. */
  peek(key: string, now: number): number {
    if (this.perMinute <= 0) return 0;
    const rate = this.perMinute / 60_000; // tokens per ms
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.perMinute, b.tokens + (now - b.at) * rate) : this.perMinute;
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / rate);
  }

  private sweep(now: number, rate: number) {
    this.lastSweep = now;
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * rate >= this.perMinute) this.buckets.delete(k);
  }
}
