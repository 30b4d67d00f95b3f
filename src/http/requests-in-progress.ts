/**
 * Requests in progress per client address, for those that carry no valid API key or session
 * (sign-in, inbound postbacks, webhooks): at most `cap` at once each, so one address with slow
 * bodies cannot hold every connection the process can take while keyed clients wait. Each one
 * counted is let go when its answer is done (app.ts: onAfterResponse), a timed-out body included.
 */
export class RequestsInProgress {
  private readonly perClient = new Map<string, number>();
  private readonly counted = new WeakMap<Request, string>();
  private inProgress = 0;

  /** `cap` 0 = no cap (still counted, for /metrics). */
  constructor(private readonly cap: number) {}

  /** Counts a request of `client`; false (not counted) when the client already has `cap` in progress. */
  enter(request: Request, client: string): boolean {
    const n = this.perClient.get(client) ?? 0;
    if (this.cap > 0 && n >= this.cap) return false;
    this.perClient.set(client, n + 1);
    this.counted.set(request, client);
    this.inProgress++;
    return true;
  }

  /** The request's answer is done; a request that was not counted changes nothing. */
  leave(request: Request): void {
    const client = this.counted.get(request);
    if (client === undefined) return;
    this.counted.delete(request);
    this.inProgress--;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(client); // the map holds only clients with requests in progress
    else this.perClient.set(client, n);
  }

  get total(): number {
    return this.inProgress;
  }
}
