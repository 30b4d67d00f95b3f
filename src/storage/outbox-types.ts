// What the dispatcher and the outbox exchange: a claimed row, a claim's request, an attempt's outcome.

/** A claimed outbox row: what the sender needs plus the fencing token that proves the claim. */
export interface ClaimedPostback {
  id: number;
  leadId: number;
  host: string;
  method: string;
  url: string;
  body: string | null;
  contentType: string | null;
  attempts: number;
  /** Attempts before the row's latest re-send: this attempt is #earlierAttempts + attempts in its log. */
  earlierAttempts: number;
  leaseToken: number;
  /** The preset body verdict to judge the answer with, if any. */
  verdict: string | null;
  /** http (tracker postback) or telegram (Bot API call). */
  channel: string;
  /** Its next_attempt_at before the claim: where it stands in line, kept when it is given back unsent. */
  dueAt: number;
}

/**
 * A claim: up to `limit` due rows, the oldest due rows of all hosts together, each host giving at
 * most `allowance(host)` (its per-host cap, circuit breaker and pace). Hosts in `blocked` are not
 * read at all, so a paused host's backlog costs a claim nothing; rows this process still has in
 * flight (`inFlight`) are never claimed twice, even if their lease ran out.
 */
export interface ClaimRequest {
  now: number;
  limit: number;
  leaseMs: number;
  blocked: readonly string[];
  allowance: (host: string) => number;
  inFlight: (id: number) => boolean;
  /** The same rows as ids, for an engine that leaves them out in its query (PostgreSQL) rather than row by row. */
  heldIds?: () => Iterable<number>;
}

export type Completion =
  | { state: "delivered" | "rejected" | "failed"; reason: string | null }
  /** `uncounted`: the attempt does not count toward the retry ladder (the peer asked the sender to wait). */
  | { state: "pending"; reason: string; nextAttemptAt: number; uncounted?: boolean };

/** A bulk re-send's options: whether each matched row goes with its lead's later rows (and_later), and now (epoch ms: which leases are live). */
export interface ResendRequest {
  andLater: boolean;
  now: number;
}

/**
 * What a bulk re-send of a filter does (domain/supersede.ts). matched: the finished rows of the
 * filter a re-send may take; superseded: those whose lead has a later row to the same host
 * delivered or being sent; heldBack: those whose later row is being sent (left out even with
 * and_later); later: with and_later, the rows sent again after them that the filter did not match.
 */
export interface ResendCounts {
  matched: number;
  superseded: number;
  heldBack: number;
  later: number;
}
