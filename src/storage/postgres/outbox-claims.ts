import type { ClaimedPostback, ClaimRequest, Completion } from "../outbox-types.ts";
import type { NewAttempt } from "../rows.ts";
import { num, numOrNull, type Pg } from "./query.ts";

// No earlier row of the same lead to the same host is still pending (SPEC §4 order), across
// instances: a row another instance has in flight is still pending, so the rows behind it wait.
const HEAD_OF_LINE = `NOT EXISTS (
    SELECT 1 FROM postbacks e WHERE e.lead_id = p.lead_id AND e.host = p.host AND e.id < p.id AND e.state = 'pending'
  )`;

/**
 * The hosts that have pending rows, one index seek each (a skip scan of the partial index
 * postbacks_host_due, whose condition `state = 'pending'` each step repeats).
 */
const PENDING_HOSTS = `WITH RECURSIVE hosts(host) AS (
    SELECT min(host) FROM postbacks WHERE state = 'pending'
    UNION ALL
    SELECT (SELECT min(host) FROM postbacks WHERE state = 'pending' AND host > hosts.host) FROM hosts WHERE hosts.host IS NOT NULL
  )
  SELECT host FROM hosts WHERE host IS NOT NULL`;

/**
 * One statement for every host of a claim: each host's due rows at the head of their line, in due
 * order, up to its allowance, locked FOR UPDATE SKIP LOCKED — so a row another instance is
 * claiming at this moment is passed over, never waited for or claimed twice — then the oldest
 * `limit` of all of them leased (lease, fencing token, next_attempt_at moved to the lease's end,
 * as on SQLite). Rows this process still holds ($held) are never claimed again.
 */
const CLAIM = `WITH want(host, n) AS (SELECT * FROM unnest($1::text[], $2::int4[])),
  cand AS (
    SELECT c.id, c.due FROM want CROSS JOIN LATERAL (
      SELECT p.id, p.next_attempt_at AS due FROM postbacks p
      WHERE p.host = want.host AND p.state = 'pending' AND p.next_attempt_at <= $3
        AND (p.lease_expires_at IS NULL OR p.lease_expires_at <= $3)
        AND p.id <> ALL($4::int8[])
        AND ${HEAD_OF_LINE}
      ORDER BY p.next_attempt_at, p.id
      LIMIT want.n
      FOR UPDATE OF p SKIP LOCKED
    ) c
  ),
  chosen AS (SELECT id, due FROM cand ORDER BY due, id LIMIT $5)
  UPDATE postbacks p SET lease_token = p.lease_token + 1, lease_expires_at = $6, next_attempt_at = $6, attempts = p.attempts + 1, updated_at = $3
  FROM chosen WHERE p.id = chosen.id AND p.state = 'pending'
  RETURNING p.id, p.lead_id AS "leadId", p.host, p.method, p.url, p.body, p.content_type AS "contentType", p.attempts,
    p.earlier_attempts AS "earlierAttempts", p.lease_token AS "leaseToken", p.verdict, p.channel, chosen.due AS "dueAt"`;

const COMPLETE_ROW = `UPDATE postbacks p SET state = i.state, reason = i.reason, next_attempt_at = coalesce(i.next, p.next_attempt_at),
    attempts = p.attempts - i.uncounted, lease_expires_at = NULL, last_http_status = i.http_status, updated_at = i.now,
    finished_at = CASE WHEN i.state = 'pending' THEN NULL ELSE i.now END
  FROM input i WHERE p.id = i.id AND p.lease_token = i.token AND p.state = 'pending'
  RETURNING p.id`;

/**
 * Outcomes of several attempts in one statement: their attempt logs inserted in order, and each
 * row moved on when its fencing token still holds. The ids answered are the rows that kept their
 * lease.
 */
const COMPLETE_MANY = `WITH input AS (
    SELECT * FROM unnest($1::int8[], $2::int4[], $3::int8[], $4::int4[], $5::text[], $6::int4[], $7::text[], $8::text[], $9::text[],
      $10::int4[], $11::text[], $12::text[], $13::int8[], $14::int4[], $15::int8[]) WITH ORDINALITY
      AS t(id, attempt, started_at, duration_ms, url, http_status, outcome, error, response_head, token, state, reason, next, uncounted, now, ord)
  ),
  logged AS (
    INSERT INTO delivery_attempts (postback_id, attempt, started_at, duration_ms, url, http_status, outcome, error, response_head)
    SELECT id, attempt, started_at, duration_ms, url, http_status, outcome, error, response_head FROM input ORDER BY ord
  )
  ${COMPLETE_ROW}`;

const RELEASE = `UPDATE postbacks p SET lease_expires_at = NULL, next_attempt_at = r.due, lease_token = p.lease_token + 1,
    attempts = greatest(p.attempts - 1, 0), updated_at = $4
  FROM unnest($1::int8[], $2::int4[], $3::int8[]) AS r(id, token, due)
  WHERE p.id = r.id AND p.lease_token = r.token AND p.state = 'pending'`;

// A host's first head-of-line row in due order (a row in flight counts at its lease's expiry), per host.
const NEXT_DUE = `WITH RECURSIVE hosts(host) AS (
    SELECT min(host) FROM postbacks WHERE state = 'pending'
    UNION ALL
    SELECT (SELECT min(host) FROM postbacks WHERE state = 'pending' AND host > hosts.host) FROM hosts WHERE hosts.host IS NOT NULL
  )
  SELECT min(n.at) AS at FROM hosts CROSS JOIN LATERAL (
    SELECT p.next_attempt_at AS at FROM postbacks p
    WHERE p.host = hosts.host AND p.state = 'pending' AND ${HEAD_OF_LINE}
    ORDER BY p.next_attempt_at LIMIT 1
  ) n
  WHERE hosts.host IS NOT NULL AND hosts.host <> ALL($1::text[])`;

/** One outcome to record (OutboxWrites.complete's arguments). */
export interface PendingCompletion {
  row: ClaimedPostback;
  attempt: NewAttempt;
  outcome: Completion;
  now: number;
}

/** The parameters of COMPLETE_MANY for these outcomes, column by column. */
function completionColumns(items: readonly PendingCompletion[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 15 }, () => []);
  for (const { row, attempt: a, outcome, now } of items) {
    const values = [
      row.id, a.attempt, a.startedAt, a.durationMs, a.url, a.httpStatus, a.outcome, a.error, a.responseHead,
      row.leaseToken, outcome.state, outcome.reason, outcome.state === "pending" ? outcome.nextAttemptAt : null,
      outcome.state === "pending" && outcome.uncounted ? 1 : 0, now,
    ];
    values.forEach((v, i) => cols[i]!.push(v));
  }
  return cols;
}

/** The dispatcher's outbox statements: claims, outcomes, give-backs, the next wake-up. */
export class PgOutboxClaims {
  constructor(private readonly pg: Pg) {}

  async claimDue({ now, limit, leaseMs, blocked, allowance, heldIds }: ClaimRequest): Promise<ClaimedPostback[]> {
    if (limit <= 0) return [];
    const skip = new Set(blocked);
    const hosts: string[] = [];
    const wants: number[] = [];
    for (const { host } of await this.pg.all<{ host: string }>(PENDING_HOSTS)) {
      if (skip.has(host)) continue;
      const wanted = Math.min(limit, allowance(host));
      if (wanted > 0) {
        hosts.push(host);
        wants.push(wanted);
      }
    }
    if (hosts.length === 0) return [];
    // Left out in the statement itself: a row leased again here would lose the fencing token its attempt holds.
    const held = heldIds ? [...heldIds()] : [];
    const rows = await this.pg.all<ClaimedPostback>(CLAIM, [hosts, wants, now, held, limit, now + leaseMs]);
    const claimed = rows.map((r) => ({
      ...r, id: num(r.id), leadId: num(r.leadId), attempts: num(r.attempts), earlierAttempts: num(r.earlierAttempts), leaseToken: num(r.leaseToken), dueAt: num(r.dueAt),
    }));
    // The oldest due rows across hosts first, as SQLite's claim answers them.
    return claimed.sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
  }

  /** Records the attempts and moves the rows on; the ids of the rows whose lease still held. */
  async completeMany(items: readonly PendingCompletion[]): Promise<Set<number>> {
    if (items.length === 0) return new Set();
    const kept = await this.pg.all<{ id: string }>(COMPLETE_MANY, completionColumns(items));
    return new Set(kept.map((r) => num(r.id)));
  }

  async release(rows: readonly ClaimedPostback[], now: number): Promise<void> {
    if (rows.length === 0) return;
    await this.pg.run(RELEASE, [rows.map((r) => r.id), rows.map((r) => r.leaseToken), rows.map((r) => Math.min(r.dueAt, now)), now]);
  }

  async about(id: number): Promise<{ campaign: string | null; status: string } | null> {
    return this.pg.one(`SELECT c.code AS campaign, p.status FROM postbacks p LEFT JOIN campaigns c ON c.id = p.campaign_id WHERE p.id = $1`, [id]);
  }

  async nextDueAt(blocked: readonly string[]): Promise<number | null> {
    return numOrNull((await this.pg.one<{ at: string | null }>(NEXT_DUE, [[...blocked]]))?.at ?? null);
  }
}
