import { RateLimiter } from "./rate-limit.ts";

/** How an API key was presented, for the failure counter's label. */
export type KeyVia = "bearer" | "query" | "sign_in";

/** A client that presented a valid key within this long is spared the ceiling of all addresses, ms. */
const KNOWN_GOOD_MS = 3_600_000;
/** Addresses remembered as known good at most (the oldest is forgotten first), so the map stays bounded. */
const KNOWN_GOOD_MAX = 10_000;

export interface KeyFailureLimits {
  /** Wrong keys a minute per client address; 0 = off. */
  perClientPerMinute: number;
  /** Wrong keys a minute from all addresses together; 0 = off. */
  allPerMinute: number;
}

/**
 * Limits API-key guessing: only a wrong key costs a slot (per client address, and one of the
 * ceiling of all addresses together); a valid key costs nothing. While a client is past its limit
 * the keys it presents are answered 429 without being checked — were they checked, a right guess
 * would stand out from the 429s and the limit would slow no guessing at all. The ceiling of all
 * addresses spares clients that presented a valid key within the last hour, so many guessing
 * addresses together cannot lock out the scripts that already work.
 */
export class KeyFailureLimit {
  private readonly perClient: RateLimiter;
  private readonly all: RateLimiter;
  /** client address → when it last presented a valid key, ms. */
  private readonly knownGood = new Map<string, number>();

  constructor(limits: KeyFailureLimits) {
    this.perClient = new RateLimiter(limits.perClientPerMinute);
    this.all = new RateLimiter(limits.allPerMinute);
  }

  /** ms until a key this client presents is checked; 0: check it now. */
  wait(client: string, now: number): number {
    const own = this.perClient.peek(client, now);
    if (own > 0) return own;
    const good = this.knownGood.get(client);
    if (good !== undefined && now - good < KNOWN_GOOD_MS) return 0;
    return this.all.peek("*", now);
  }

  /** The client presented a wrong key: one slot of its own and one of the ceiling. */
  failed(client: string, now: number): void {
    this.perClient.take(client, now);
    this.all.take("*", now);
  }

  /** The client presented a valid key: it costs nothing, and the client is known good for an hour. */
  succeeded(client: string, now: number): void {
    this.knownGood.delete(client); // re-inserted last: the Map's order is then oldest first
    this.knownGood.set(client, now);
    if (this.knownGood.size > KNOWN_GOOD_MAX) this.knownGood.delete(this.knownGood.keys().next().value!);
  }
}
