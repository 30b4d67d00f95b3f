import type { PostbackState } from "../../domain/status.ts";
import type { ClaimedPostback, ClaimRequest, Completion, ResendCounts, ResendRequest } from "../outbox-types.ts";
import { requeueResendable, resendCounts } from "./outbox-resend.ts";
import type { OutboxReads, OutboxWrites, PostbackFilter } from "../port.ts";
import type { AttemptRow, NewAttempt, NewPostback, PostbackRow, WrittenPostback } from "../rows.ts";
import { PgOutboxClaims, type PendingCompletion } from "./outbox-claims.ts";
import { num, numOrNull, type Params, type Pg } from "./query.ts";
import { ATTEMPT, POSTBACK } from "./rows.ts";

const POSTBACK_COLUMNS = POSTBACK.columns();

/** The columns an insert writes, with each one's array type for the many-row form (unnest). */
const INSERTED = [
  ["channel", "text"], ["lead_id", "int8"], ["event_id", "int8"], ["campaign_id", "int8"], ["status", "text"], ["template", "text"],
  ["method", "text"], ["url", "text"], ["body", "text"], ["content_type", "text"], ["verdict", "text"], ["host", "text"], ["state", "text"],
  ["reason", "text"], ["next_attempt_at", "int8"], ["created_at", "int8"], ["updated_at", "int8"], ["finished_at", "int8"],
] as const;
const INSERT_ONE = `INSERT INTO postbacks (${INSERTED.map(([c]) => c).join(", ")}) VALUES (${INSERTED.map((_, i) => `$${i + 1}`).join(", ")}) RETURNING id`;
// Identity values are drawn in the order the rows are inserted, which is the ordinality's.
const INSERT_MANY = `INSERT INTO postbacks (${INSERTED.map(([c]) => c).join(", ")})
  SELECT ${INSERTED.map(([c]) => c).join(", ")} FROM unnest(${INSERTED.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
    WITH ORDINALITY AS t(${INSERTED.map(([c]) => c).join(", ")}, ord)
  ORDER BY ord RETURNING id`;

const valuesOf = (row: NewPostback): unknown[] => [
  row.channel ?? "http", row.leadId, row.eventId, row.campaignId, row.status, row.template, row.method, row.url, row.body ?? null,
  row.contentType ?? null, row.verdict ?? null, row.host, row.state, row.reason ?? null, row.nextAttemptAt, row.createdAt, row.updatedAt,
  row.finishedAt ?? null,
];

/** A filter's conditions, bound into `params`. */
function where(f: PostbackFilter, params: Params): string[] {
  const bind = (v: unknown) => `$${params.push(v)}`;
  const w: string[] = [];
  if (f.state) w.push(`state = ${bind(f.state)}`);
  if (f.status) w.push(`status = ${bind(f.status)}`);
  if (f.campaignId !== undefined) w.push(`campaign_id = ${bind(f.campaignId)}`);
  if (f.host) w.push(`host = ${bind(f.host.toLowerCase())}`);
  if (f.leadId !== undefined) w.push(`lead_id = ${bind(f.leadId)}`);
  if (f.since !== undefined) w.push(`created_at >= ${bind(f.since)}`);
  if (f.until !== undefined) w.push(`created_at < ${bind(f.until)}`);
  return w;
}

const clause = (w: string[]) => (w.length ? `WHERE ${w.join(" AND ")}` : "");

/**
 * Rows a re-send may take: finished ones, except those skipped for want of a click id (SPEC §4,
 * no_click), spelled as SQLite's drizzle condition, NULLs and all.
 */
const RESENDABLE = "state <> 'pending' AND NOT (state = 'skipped' AND reason = 'no_click')";

const REQUEUE_SET = `state = 'pending', reason = NULL, attempts = 0, earlier_attempts = earlier_attempts + attempts, next_attempt_at = $1, lease_expires_at = NULL,
  lease_token = lease_token + 1, finished_at = NULL, updated_at = $1`;

const byState = (rows: { state: PostbackState; n: number | string }[]) => rows.map((r) => ({ state: r.state, n: num(r.n) }));

/**
 * The outbox: lists and counts, re-sends and retention; the dispatcher's claims and outcomes
 * (PgOutboxClaims). In a transaction of shared writes `completions` collects the outcomes, which
 * the engine records together in one statement (store.ts).
 */
export class PgOutbox implements OutboxReads, OutboxWrites {
  private readonly claims: PgOutboxClaims;

  constructor(private readonly pg: Pg, private readonly completions: ((item: PendingCompletion) => Promise<boolean>) | null = null) {
    this.claims = new PgOutboxClaims(pg);
  }

  async list(f: PostbackFilter & { beforeId?: number; limit: number }): Promise<PostbackRow[]> {
    const params: Params = [];
    const w = where(f, params);
    if (f.beforeId !== undefined) w.push(`id < $${params.push(f.beforeId)}`);
    const rows = await this.pg.all(`SELECT ${POSTBACK_COLUMNS} FROM postbacks ${clause(w)} ORDER BY id DESC LIMIT $${params.push(f.limit)}`, params);
    return rows.map(POSTBACK.map);
  }

  async get(id: number): Promise<PostbackRow | null> {
    const row = await this.pg.one(`SELECT ${POSTBACK_COLUMNS} FROM postbacks WHERE id = $1`, [id]);
    return row && POSTBACK.map(row);
  }

  async ofLead(leadId: number): Promise<PostbackRow[]> {
    return (await this.pg.all(`SELECT ${POSTBACK_COLUMNS} FROM postbacks WHERE lead_id = $1 ORDER BY id`, [leadId])).map(POSTBACK.map);
  }

  /** An export's window: a primary-key range, the filter tested on each row in it. */
  async inIdRange(f: PostbackFilter, fromId: number, toId: number): Promise<PostbackRow[]> {
    const params: Params = [fromId, toId];
    const w = ["id >= $1", "id < $2", ...where(f, params)];
    return (await this.pg.all(`SELECT ${POSTBACK_COLUMNS} FROM postbacks ${clause(w)} ORDER BY id DESC`, params)).map(POSTBACK.map);
  }

  async maxId(): Promise<number | null> {
    return numOrNull((await this.pg.one(`SELECT max(id) AS id FROM postbacks`))?.id);
  }

  async attempts(postbackId: number): Promise<AttemptRow[]> {
    return (await this.pg.all(`SELECT ${ATTEMPT.columns()} FROM delivery_attempts WHERE postback_id = $1 ORDER BY id`, [postbackId])).map(ATTEMPT.map);
  }

  resendCounts(f: PostbackFilter, req: ResendRequest): Promise<ResendCounts> {
    return resendCounts(this.pg, f, req);
  }

  async stateCounts() {
    return byState(await this.pg.all(`SELECT state, count(*) AS n FROM postbacks GROUP BY state ORDER BY state COLLATE "C"`));
  }

  /** Pending rows due now (a claim moves a row's due time to its lease's end, so rows in flight are not). */
  async queueGauges(now: number): Promise<{ depth: number; oldest: number | null }> {
    const row = (await this.pg.one<{ depth: string; oldest: string | null }>(
      `SELECT count(*) AS depth, min(next_attempt_at) AS oldest FROM postbacks WHERE state = 'pending' AND next_attempt_at <= $1`, [now]))!;
    return { depth: num(row.depth), oldest: numOrNull(row.oldest) };
  }

  async undeliveredOf(campaignId: number, since: number, until: number) {
    return byState(await this.pg.all(`SELECT state, count(*) AS n FROM postbacks
      WHERE channel = 'http' AND state <> 'delivered' AND campaign_id = $1 AND created_at >= $2 AND created_at < $3
      GROUP BY state ORDER BY state COLLATE "C"`, [campaignId, since, until]));
  }

  async undelivered() {
    const rows = await this.pg.all<{ campaignId: string; state: PostbackState; n: string }>(`SELECT campaign_id AS "campaignId", state, count(*) AS n
      FROM postbacks WHERE channel = 'http' AND state <> 'delivered' GROUP BY campaign_id, state ORDER BY campaign_id, state COLLATE "C"`);
    return rows.map((r) => ({ campaignId: num(r.campaignId), state: r.state, n: num(r.n) }));
  }

  about(id: number) {
    return this.claims.about(id);
  }

  nextDueAt(blocked: readonly string[]) {
    return this.claims.nextDueAt(blocked);
  }

  async insert(rows: NewPostback[]): Promise<WrittenPostback[]> {
    if (rows.length === 0) return [];
    let ids: { id: string }[];
    if (rows.length === 1) ids = await this.pg.all(INSERT_ONE, valuesOf(rows[0]!));
    else {
      const columns: unknown[][] = INSERTED.map(() => []);
      for (const row of rows) valuesOf(row).forEach((v, i) => columns[i]!.push(v));
      ids = await this.pg.all(INSERT_MANY, columns);
    }
    return rows.map((row, i) => ({ id: num(ids[i]!.id), state: row.state ?? "pending", url: row.url, reason: row.reason ?? null, template: row.template }));
  }

  async requeue(id: number, now: number): Promise<PostbackRow | null> {
    const row = await this.pg.one(`UPDATE postbacks SET ${REQUEUE_SET} WHERE id = $2 AND ${RESENDABLE} RETURNING ${POSTBACK_COLUMNS}`, [now, id]);
    return row && POSTBACK.map(row);
  }

  /** A lead's rows scheduled for later (approve_after) that were never tried nor claimed; served by postbacks_lead. */
  skipWaiting(leadId: number, status: string, now: number, reason: string): Promise<number> {
    return this.pg.run(`UPDATE postbacks SET state = 'skipped', reason = $4, updated_at = $3, finished_at = $3
      WHERE lead_id = $1 AND status = $2 AND channel = 'http' AND state = 'pending' AND attempts = 0
        AND lease_expires_at IS NULL AND next_attempt_at > $3`, [leadId, status, now, reason]);
  }

  requeueResendable(f: PostbackFilter, req: ResendRequest): Promise<number> {
    return requeueResendable(this.pg, f, req);
  }

  claimDue(req: ClaimRequest): Promise<ClaimedPostback[]> {
    return this.claims.claimDue(req);
  }

  async complete(row: ClaimedPostback, attempt: NewAttempt, outcome: Completion, now: number): Promise<boolean> {
    if (this.completions) return this.completions({ row, attempt, outcome, now });
    return (await this.claims.completeMany([{ row, attempt, outcome, now }])).has(row.id);
  }

  release(rows: readonly ClaimedPostback[], now: number) {
    return this.claims.release(rows, now);
  }

  /** Delivered rows finished before `before`, and their attempt logs, `limit` at a time. */
  pruneDelivered(before: number, limit: number): Promise<number> {
    return this.pg.run(`WITH gone AS (SELECT id FROM postbacks WHERE state = 'delivered' AND finished_at < $1 LIMIT ${Math.trunc(limit)}),
      logs AS (DELETE FROM delivery_attempts WHERE postback_id IN (SELECT id FROM gone))
      DELETE FROM postbacks WHERE id IN (SELECT id FROM gone)`, [before]);
  }
}
