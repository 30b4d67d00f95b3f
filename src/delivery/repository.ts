import type { Statement } from "bun:sqlite";
import type { Db } from "../db/client.ts";

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
  leaseToken: number;
  /** The preset body verdict to judge the answer with, if any. */
  verdict: string | null;
  /** http (tracker postback) or telegram (Bot API call). */
  channel: string;
  /** Its next_attempt_at before the claim: where it stands in line, kept when it is given back unsent. */
  dueAt: number;
}

export interface AttemptRecord {
  postbackId: number;
  attempt: number;
  startedAt: number;
  durationMs: number;
  url: string;
  httpStatus: number | null;
  outcome: "delivered" | "retry" | "rejected";
  error: string | null;
  responseHead: string | null;
}

export type Completion =
  | { state: "delivered" | "rejected" | "failed"; reason: string | null }
  /** `uncounted`: the attempt does not count toward the retry ladder (the peer asked the sender to wait). */
  | { state: "pending"; reason: string; nextAttemptAt: number; uncounted?: boolean };

// No earlier row of the same lead to the same host is still pending (SPEC §4 order).
const HEAD_OF_LINE = `NOT EXISTS (
    SELECT 1 FROM postbacks e INDEXED BY postbacks_lead
    WHERE e.lead_id = p.lead_id AND e.host = p.host AND e.id < p.id AND e.state = 'pending'
  )`;

// A row is due when it is pending, its time has come, nobody holds a live lease on it, and it is
// at the head of its line. A claim sets next_attempt_at to the lease's expiry: rows in flight
// leave the head of the due index (a claim does not walk past them) and come back by themselves
// when a process that leased them died; the lease test below is the fence, not the filter.
const DUE = `
  p.state = 'pending' AND p.next_attempt_at <= $now
  AND (p.lease_expires_at IS NULL OR p.lease_expires_at <= $now)
  AND p.host NOT IN (SELECT value FROM json_each($blocked))
  AND ${HEAD_OF_LINE}`;

/** At most this many candidates beyond the claim's limit are read to replace rows skipped for their host's allowance. */
const CLAIM_SLACK = 64;

/** The outbox queries of the dispatcher, prepared once (bun:sqlite directly: this is the hot path). */
export class OutboxRepository {
  private readonly selectDue: Statement<ClaimedPostback>;
  private readonly lease: Statement;
  private readonly complete: Statement;
  private readonly logAttempt: Statement;
  private readonly nextWake: Statement<{ at: number | null }>;
  private readonly releaseOne: Statement;

  constructor(private readonly db: Db) {
    const sqlite = db.$client;
    // INDEXED BY: without it SQLite may sort every pending row (731 ms per claim at 1M pending).
    this.selectDue = sqlite.prepare(`
      SELECT p.id, p.lead_id AS leadId, p.host, p.method, p.url, p.body, p.content_type AS contentType, p.attempts,
        p.lease_token AS leaseToken, p.verdict, p.channel, p.next_attempt_at AS dueAt
      FROM postbacks p INDEXED BY postbacks_due
      WHERE ${DUE} AND p.next_attempt_at >= $afterAt AND (p.next_attempt_at > $afterAt OR p.id > $afterId)
      ORDER BY p.next_attempt_at, p.id LIMIT $limit`);
    // One statement leases the whole batch (the claim runs in a write transaction: the rows read
    // above cannot change before it).
    this.lease = sqlite.prepare(`
      UPDATE postbacks SET lease_token = lease_token + 1, lease_expires_at = $until, next_attempt_at = $until,
        attempts = attempts + 1, updated_at = $now
      WHERE id IN (SELECT value FROM json_each($ids)) AND state = 'pending'`);
    this.complete = sqlite.prepare(`
      UPDATE postbacks SET state = $state, reason = $reason, next_attempt_at = coalesce($next, next_attempt_at),
        attempts = attempts - $uncounted,
        lease_expires_at = NULL, last_http_status = $http, updated_at = $now,
        finished_at = CASE WHEN $state = 'pending' THEN NULL ELSE $now END
      WHERE id = $id AND lease_token = $token AND state = 'pending'`);
    this.logAttempt = sqlite.prepare(`
      INSERT INTO delivery_attempts (postback_id, attempt, started_at, duration_ms, url, http_status, outcome, error, response_head)
      VALUES ($postbackId, $attempt, $startedAt, $durationMs, $url, $httpStatus, $outcome, $error, $responseHead)`);
    // The first head-of-line row in due order, an index walk: a row in flight counts at its
    // lease's expiry (when it is claimable again if the process that leased it died).
    this.nextWake = sqlite.prepare(`
      SELECT p.next_attempt_at AS at FROM postbacks p INDEXED BY postbacks_due
      WHERE p.state = 'pending' AND p.host NOT IN (SELECT value FROM json_each($blocked)) AND ${HEAD_OF_LINE}
      ORDER BY p.next_attempt_at LIMIT 1`);
    // Back at its place in line (its due time before the claim), so rows given back unsent keep their order.
    this.releaseOne = sqlite.prepare(`
      UPDATE postbacks SET lease_expires_at = NULL, next_attempt_at = $due, lease_token = lease_token + 1,
        attempts = max(attempts - 1, 0), updated_at = $now
      WHERE id = $id AND lease_token = $token AND state = 'pending'`);
  }

  /**
   * Leases up to `limit` due rows, in the caller's transaction (the dispatcher claims through the
   * group commit). `allowance(host)` says how many more rows of a host may be taken now (per-host
   * cap, circuit breaker); hosts at 0 are in `blocked`.
   */
  claimDue(now: number, limit: number, leaseMs: number, blocked: string[], allowance: (host: string) => number, inFlight: (id: number) => boolean = () => false): ClaimedPostback[] {
    const taken = new Map<string, number>();
    const claimed: ClaimedPostback[] = [];
    const query = { now, blocked: JSON.stringify(blocked), afterAt: Number.MIN_SAFE_INTEGER, afterId: 0, limit };
    // Each candidate costs a row read and an order check: read only as many as are still wanted,
    // and more (up to CLAIM_SLACK in all) only for rows skipped for their host's allowance.
    for (let read = 0; claimed.length < limit && read < limit + CLAIM_SLACK;) {
      query.limit = Math.min(limit - claimed.length, limit + CLAIM_SLACK - read);
      const page = this.selectDue.all(query);
      read += page.length;
      for (const c of page) {
        const n = taken.get(c.host) ?? 0;
        // A row this process still has in flight is never claimed twice, even if its lease ran out.
        if (n >= allowance(c.host) || inFlight(c.id)) continue;
        taken.set(c.host, n + 1);
        claimed.push({ ...c, attempts: c.attempts + 1, leaseToken: c.leaseToken + 1 });
      }
      if (page.length < query.limit) break; // nothing more is due
      const last = page.at(-1)!;
      query.afterAt = last.dueAt;
      query.afterId = last.id;
    }
    if (claimed.length) this.lease.run({ ids: JSON.stringify(claimed.map((c) => c.id)), until: now + leaseMs, now });
    return claimed;
  }

  /**
   * Records the attempt and moves the row on; false when the lease was lost (fenced out). Runs in
   * the caller's transaction (the dispatcher batches completions through the group commit).
   */
  completeAttempt(row: ClaimedPostback, attempt: AttemptRecord, outcome: Completion, now: number): boolean {
    this.logAttempt.run({ ...attempt });
    const changed = this.complete.run({
      id: row.id, token: row.leaseToken, state: outcome.state, reason: outcome.reason,
      next: outcome.state === "pending" ? outcome.nextAttemptAt : null, http: attempt.httpStatus, now,
      uncounted: outcome.state === "pending" && outcome.uncounted ? 1 : 0,
    }).changes;
    return changed === 1;
  }

  /** Gives claimed rows back without counting the attempt (shutdown before they finished). */
  release(rows: ClaimedPostback[], now: number) {
    this.db.$client.transaction(() => this.releaseInTransaction(rows, now)).immediate();
  }

  /** The same, in the caller's transaction (the dispatcher gives queued rows back through the group commit). */
  releaseInTransaction(rows: ClaimedPostback[], now: number) {
    for (const r of rows) this.releaseOne.run({ id: r.id, token: r.leaseToken, due: Math.min(r.dueAt, now), now });
  }

  /** When the next row becomes claimable (due time or lease expiry), ignoring blocked hosts. */
  nextDueAt(blocked: string[]): number | null {
    return this.nextWake.get({ blocked: JSON.stringify(blocked) })?.at ?? null;
  }
}
