// The storage port (port.ts): the outbox.
import type { Awaitable } from "./port.ts";
import type { Status, PostbackState } from "../domain/status.ts";
import type { AttemptRow, NewAttempt, NewPostback, PostbackRow, WrittenPostback } from "./rows.ts";
import type { ClaimedPostback, ClaimRequest, Completion, ResendCounts, ResendRequest } from "./outbox-types.ts";

export interface PostbackFilter {
  state?: PostbackState;
  /** The lead status the postback reports. */
  status?: Status;
  campaignId?: number;
  host?: string;
  leadId?: number;
  /** created_at range, epoch ms; until is exclusive. */
  since?: number;
  until?: number;
}

export interface OutboxReads {
  list(filter: PostbackFilter & { beforeId?: number; limit: number }): Awaitable<PostbackRow[]>;
  /** The rows with fromId ≤ id < toId that match, newest first: an export's window, read through the primary key. */
  inIdRange(filter: PostbackFilter, fromId: number, toId: number): Awaitable<PostbackRow[]>;
  /** The highest postback id, or null when there is none. */
  maxId(): Awaitable<number | null>;
  get(id: number): Awaitable<PostbackRow | null>;
  /** A lead's postbacks, oldest first. */
  ofLead(leadId: number): Awaitable<PostbackRow[]>;
  attempts(postbackId: number): Awaitable<AttemptRow[]>;
  /** What a bulk re-send of this filter would queue (ResendCounts; the rule is domain/supersede.ts). */
  resendCounts(filter: PostbackFilter, req: ResendRequest): Awaitable<ResendCounts>;
  stateCounts(): Awaitable<{ state: PostbackState; n: number }[]>;
  /** Pending rows due now, and the earliest due time among them. */
  queueGauges(now: number): Awaitable<{ depth: number; oldest: number | null }>;
  /** Tracker postbacks of a campaign created in [since, until) that are not delivered, by state. */
  undeliveredOf(campaignId: number, since: number, until: number): Awaitable<{ state: PostbackState; n: number }[]>;
  /** Every tracker postback not delivered, per campaign and state. */
  undelivered(): Awaitable<{ campaignId: number; state: PostbackState; n: number }[]>;
  /** What a log line says of a row beyond its claim: its campaign's code and the status it reports. */
  about(id: number): Awaitable<{ campaign: string | null; status: string } | null>;
  /** When the next row becomes claimable (its due time, or its lease's end), hosts in `blocked` left out. */
  nextDueAt(blocked: readonly string[]): Awaitable<number | null>;
}

export interface OutboxWrites {
  insert(rows: NewPostback[]): Awaitable<WrittenPostback[]>;
  /**
   * One finished row back in the queue, due now, with a fresh ladder (attempts 0; the attempts so
   * far move to earlierAttempts, so the attempt log numbers on); null when it is pending or a no_click row.
   */
  requeue(id: number, now: number): Awaitable<PostbackRow | null>;
  /**
   * A lead's tracker rows of `status` still waiting for a later time (approve_after): pending, never
   * tried nor claimed, due after `now`; recorded as skipped with `reason`. How many.
   */
  skipWaiting(leadId: number, status: Status, now: number, reason: string): Awaitable<number>;
  /**
   * The bulk re-send: every row resendCounts matches back in the queue, due now with a fresh ladder
   * (its attempts so far move to earlierAttempts, as requeue does) — without the superseded ones, or (and_later) with the later rows after them, held-back ones
   * excepted; how many.
   */
  requeueResendable(filter: PostbackFilter, req: ResendRequest): Awaitable<number>;
  /** Leases due rows (see ClaimRequest). */
  claimDue(req: ClaimRequest): Awaitable<ClaimedPostback[]>;
  /** Records the attempt and moves the row on; false when the lease was lost (fenced out). */
  complete(row: ClaimedPostback, attempt: NewAttempt, outcome: Completion, now: number): Awaitable<boolean>;
  /** Gives claimed rows back unsent, at their place in line, without counting the attempt. */
  release(rows: readonly ClaimedPostback[], now: number): Awaitable<void>;
  /** Retention: up to `limit` delivered rows (and their attempts) finished before `before`; how many went. */
  pruneDelivered(before: number, limit: number): Awaitable<number>;
}
