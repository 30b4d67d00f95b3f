import type { Statement } from "bun:sqlite";
import type { ClaimedPostback, ClaimRequest, Completion } from "../outbox-types.ts";
import type { NewAttempt } from "../rows.ts";
import type { Db } from "./client.ts";

// No earlier row of the same lead to the same host is still pending (SPEC §4 order).
const HEAD_OF_LINE = `NOT EXISTS (
    SELECT 1 FROM postbacks e INDEXED BY postbacks_lead
    WHERE e.lead_id = p.lead_id AND e.host = p.host AND e.id < p.id AND e.state = 'pending'
  )`;

// A row is due when it is pending, its time has come, nobody holds a live lease on it, and it is
// at the head of its line. A claim sets next_attempt_at to the lease's expiry: rows in flight
// leave the head of the host's due range (a claim does not walk past them) and come back by
// themselves when a process that leased them died; the lease test below is the fence, not the filter.
const DUE = `
  p.host = $host AND p.state = 'pending' AND p.next_attempt_at <= $now
  AND (p.lease_expires_at IS NULL OR p.lease_expires_at <= $now)
  AND ${HEAD_OF_LINE}`;

/**
 * The hosts that have pending rows, one index seek each (a skip scan of postbacks_host_due): a few
 * microseconds per host, however many rows each has.
 */
export const PENDING_HOSTS_CTE = `
  hosts(host) AS (
    SELECT min(host) FROM postbacks INDEXED BY postbacks_host_due WHERE state = 'pending'
    UNION ALL
    SELECT (SELECT min(host) FROM postbacks INDEXED BY postbacks_host_due WHERE state = 'pending' AND host > hosts.host)
    FROM hosts WHERE host IS NOT NULL
  )`;
const PENDING_HOSTS = `WITH RECURSIVE ${PENDING_HOSTS_CTE} SELECT host FROM hosts WHERE host IS NOT NULL`;

/** At most this many candidates of a host beyond its allowance are read, to replace rows this process still has in flight. */
const CLAIM_SLACK = 64;

/** The outbox queries of the dispatcher, prepared once (bun:sqlite directly: this is the hot path). */
export class OutboxClaims {
  private readonly pendingHosts: Statement<{ host: string }>;
  private readonly selectDue: Statement<ClaimedPostback>;
  private readonly lease: Statement;
  private readonly completeRow: Statement;
  private readonly logAttempt: Statement;
  private readonly nextWake: Statement<{ at: number | null }>;
  private readonly releaseOne: Statement;
  private readonly aboutRow: Statement<{ campaign: string | null; status: string }>;

  constructor(db: Db) {
    const sqlite = db.$client;
    this.pendingHosts = sqlite.prepare(PENDING_HOSTS);
    // One host's due rows in due order, read in cursor pages. INDEXED BY: the planner must not
    // pick another index and sort (731 ms per claim at 1M pending, seen with the old due index).
    this.selectDue = sqlite.prepare(`
      SELECT p.id, p.lead_id AS leadId, p.host, p.method, p.url, p.body, p.content_type AS contentType, p.attempts,
        p.earlier_attempts AS earlierAttempts, p.lease_token AS leaseToken, p.verdict, p.channel, p.next_attempt_at AS dueAt
      FROM postbacks p INDEXED BY postbacks_host_due
      WHERE ${DUE} AND p.next_attempt_at >= $afterAt AND (p.next_attempt_at > $afterAt OR p.id > $afterId)
      ORDER BY p.next_attempt_at, p.id LIMIT $limit`);
    // One statement leases the whole batch (the claim runs in a write transaction: the rows read
    // above cannot change before it).
    this.lease = sqlite.prepare(`
      UPDATE postbacks SET lease_token = lease_token + 1, lease_expires_at = $until, next_attempt_at = $until,
        attempts = attempts + 1, updated_at = $now
      WHERE id IN (SELECT value FROM json_each($ids)) AND state = 'pending'`);
    this.completeRow = sqlite.prepare(`
      UPDATE postbacks SET state = $state, reason = $reason, next_attempt_at = coalesce($next, next_attempt_at),
        attempts = attempts - $uncounted,
        lease_expires_at = NULL, last_http_status = $http, updated_at = $now,
        finished_at = CASE WHEN $state = 'pending' THEN NULL ELSE $now END
      WHERE id = $id AND lease_token = $token AND state = 'pending'`);
    this.logAttempt = sqlite.prepare(`
      INSERT INTO delivery_attempts (postback_id, attempt, started_at, duration_ms, url, http_status, outcome, error, response_head)
      VALUES ($postbackId, $attempt, $startedAt, $durationMs, $url, $httpStatus, $outcome, $error, $responseHead)`);
    // A host's first head-of-line row in due order: a row in flight counts at its lease's expiry
    // (when it is claimable again if the process that leased it died).
    this.nextWake = sqlite.prepare(`
      SELECT p.next_attempt_at AS at FROM postbacks p INDEXED BY postbacks_host_due
      WHERE p.host = $host AND p.state = 'pending' AND ${HEAD_OF_LINE}
      ORDER BY p.next_attempt_at LIMIT 1`);
    // Back at its place in line (its due time before the claim), so rows given back unsent keep their order.
    this.releaseOne = sqlite.prepare(`
      UPDATE postbacks SET lease_expires_at = NULL, next_attempt_at = $due, lease_token = lease_token + 1,
        attempts = max(attempts - 1, 0), updated_at = $now
      WHERE id = $id AND lease_token = $token AND state = 'pending'`);
    this.aboutRow = sqlite.prepare(`
      SELECT c.code AS campaign, p.status FROM postbacks p LEFT JOIN campaigns c ON c.id = p.campaign_id WHERE p.id = $id`);
  }

  /** Leases due rows (ClaimRequest), in the caller's transaction: the dispatcher claims through the group commit. */
  claimDue({ now, limit, leaseMs, blocked, allowance, inFlight }: ClaimRequest): ClaimedPostback[] {
    const skip = new Set(blocked);
    const candidates: ClaimedPostback[] = [];
    for (const { host } of this.pendingHosts.all()) {
      if (skip.has(host)) continue;
      const wanted = Math.min(limit, allowance(host));
      if (wanted > 0) candidates.push(...this.dueOfHost(host, now, wanted, inFlight));
    }
    // The oldest due rows across hosts, as one due index over all of them would give them.
    candidates.sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
    const claimed = candidates.slice(0, limit).map((c) => ({ ...c, attempts: c.attempts + 1, leaseToken: c.leaseToken + 1 }));
    if (claimed.length) this.lease.run({ ids: JSON.stringify(claimed.map((c) => c.id)), until: now + leaseMs, now });
    return claimed;
  }

  /** Up to `wanted` due rows of one host, in due order; rows this process still has in flight are passed over. */
  private dueOfHost(host: string, now: number, wanted: number, inFlight: (id: number) => boolean): ClaimedPostback[] {
    const rows: ClaimedPostback[] = [];
    const query = { host, now, afterAt: Number.MIN_SAFE_INTEGER, afterId: 0, limit: wanted };
    for (let read = 0; rows.length < wanted && read < wanted + CLAIM_SLACK;) {
      query.limit = Math.min(wanted - rows.length, wanted + CLAIM_SLACK - read);
      const page = this.selectDue.all(query);
      read += page.length;
      // A row this process still has in flight is never claimed twice, even if its lease ran out.
      for (const c of page) if (!inFlight(c.id)) rows.push(c);
      if (page.length < query.limit) break; // nothing more is due
      const last = page.at(-1)!;
      query.afterAt = last.dueAt;
      query.afterId = last.id;
    }
    return rows;
  }

  /**
   * Records the attempt and moves the row on; false when the lease was lost (fenced out). Runs in
   * the caller's transaction (the dispatcher batches completions through the group commit).
   */
  complete(row: ClaimedPostback, attempt: NewAttempt, outcome: Completion, now: number): boolean {
    this.logAttempt.run({ ...attempt });
    const changed = this.completeRow.run({
      id: row.id, token: row.leaseToken, state: outcome.state, reason: outcome.reason,
      next: outcome.state === "pending" ? outcome.nextAttemptAt : null, http: attempt.httpStatus, now,
      uncounted: outcome.state === "pending" && outcome.uncounted ? 1 : 0,
    }).changes;
    return changed === 1;
  }

  /** Gives claimed rows back without counting the attempt, in the caller's transaction. */
  release(rows: readonly ClaimedPostback[], now: number) {
    for (const r of rows) this.releaseOne.run({ id: r.id, token: r.leaseToken, due: Math.min(r.dueAt, now), now });
  }

  /** What a log line says about a row beyond its claim: its campaign's code and the lead status it reports. */
  about(id: number): { campaign: string | null; status: string } | null {
    return this.aboutRow.get({ id });
  }

  /** When the next row becomes claimable (due time or lease expiry), ignoring blocked hosts. */
  nextDueAt(blocked: readonly string[]): number | null {
    const skip = new Set(blocked);
    let next: number | null = null;
    for (const { host } of this.pendingHosts.all()) {
      if (skip.has(host)) continue;
      const at = this.nextWake.get({ host })?.at ?? null;
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }
}
