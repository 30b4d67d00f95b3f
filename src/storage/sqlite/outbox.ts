import { and, desc, eq, gte, inArray, lt, ne, not, sql, type SQL } from "drizzle-orm";
import type { PostbackState } from "../../domain/status.ts";
import type { ClaimedPostback, ClaimRequest, Completion, ResendCounts, ResendRequest } from "../outbox-types.ts";
import type { OutboxReads, OutboxWrites, PostbackFilter } from "../port.ts";
import type { AttemptRow, NewAttempt, NewPostback, PostbackRow, WrittenPostback } from "../rows.ts";
import type { Db } from "./client.ts";
import { OutboxClaims, PENDING_HOSTS_CTE } from "./outbox-claims.ts";
import { requeueResendable, resendCounts } from "./outbox-resend.ts";
import { statement, type Bindings } from "./prepared.ts";
import { deliveryAttempts, postbacks } from "./schema.ts";

const POSTBACK_COLUMNS = [
  "channel", "leadId", "eventId", "campaignId", "status", "template", "method", "url", "body", "contentType", "verdict", "host",
  "state", "reason", "nextAttemptAt", "createdAt", "updatedAt", "finishedAt",
] as const;
const INSERT_POSTBACK = `INSERT INTO postbacks (${POSTBACK_COLUMNS.map((c) => c.replace(/[A-Z]/g, (l) => `_${l.toLowerCase()}`)).join(", ")})
  VALUES (${POSTBACK_COLUMNS.map((c) => `$${c}`).join(", ")})`;

function where(f: PostbackFilter): SQL | undefined {
  const w: SQL[] = [];
  if (f.state) w.push(eq(postbacks.state, f.state));
  if (f.status) w.push(eq(postbacks.status, f.status));
  if (f.campaignId !== undefined) w.push(eq(postbacks.campaignId, f.campaignId));
  if (f.host) w.push(eq(postbacks.host, f.host.toLowerCase()));
  if (f.leadId !== undefined) w.push(eq(postbacks.leadId, f.leadId));
  if (f.since !== undefined) w.push(gte(postbacks.createdAt, f.since));
  if (f.until !== undefined) w.push(lt(postbacks.createdAt, f.until));
  return and(...w);
}

// A lead's rows scheduled for later (approve_after) that were never tried nor claimed; served by postbacks_lead.
const SKIP_WAITING = `UPDATE postbacks SET state = 'skipped', reason = $reason, updated_at = $now, finished_at = $now
  WHERE lead_id = $leadId AND status = $status AND channel = 'http' AND state = 'pending' AND attempts = 0
    AND lease_expires_at IS NULL AND next_attempt_at > $now`;

/** A row skipped for want of a click id: sending it again could not count either (SPEC §4, no_click). */
const NO_CLICK = and(eq(postbacks.state, "skipped"), eq(postbacks.reason, "no_click"))!;

/** Rows a re-send may take: finished ones, except those with no click id. */
const resendable = and(ne(postbacks.state, "pending"), not(NO_CLICK));

const requeue = (now: number) => ({
  state: "pending" as const, reason: null, attempts: 0, earlierAttempts: sql`${postbacks.earlierAttempts} + ${postbacks.attempts}`, nextAttemptAt: now, leaseExpiresAt: null,
  leaseToken: sql`${postbacks.leaseToken} + 1`, finishedAt: null, updatedAt: now,
});

// The dashboard's counts of tracker postbacks not delivered (postbacks_open holds only those: the
// delivered bulk is counted from lead_stats, as total minus these).
const OPEN_OF_CAMPAIGN = `SELECT state, count(*) AS n FROM postbacks INDEXED BY postbacks_open
  WHERE channel = 'http' AND state <> 'delivered' AND campaign_id = $campaignId AND created_at >= $since AND created_at < $until
  GROUP BY state`;
const OPEN_OF_ALL = `SELECT campaign_id AS campaignId, state, count(*) AS n FROM postbacks INDEXED BY postbacks_open
  WHERE channel = 'http' AND state <> 'delivered' GROUP BY campaign_id, state`;

const QUEUE_GAUGES = `
  WITH RECURSIVE ${PENDING_HOSTS_CTE},
  due AS (
    SELECT (SELECT count(*) FROM postbacks p INDEXED BY postbacks_host_due WHERE p.host = hosts.host AND p.state = 'pending' AND p.next_attempt_at <= $now) AS n,
      (SELECT min(next_attempt_at) FROM postbacks p INDEXED BY postbacks_host_due WHERE p.host = hosts.host AND p.state = 'pending') AS oldest
    FROM hosts WHERE host IS NOT NULL
  )
  SELECT coalesce(sum(n), 0) AS depth, min(CASE WHEN oldest <= $now THEN oldest END) AS oldest FROM due`;

/** The outbox: its lists and counts, the dispatcher's claims (OutboxClaims), re-sends and retention. */
export class SqliteOutbox implements OutboxReads, OutboxWrites {
  private readonly claims: OutboxClaims;

  constructor(private readonly db: Db) {
    this.claims = new OutboxClaims(db);
  }

  list(f: PostbackFilter & { beforeId?: number; limit: number }): PostbackRow[] {
    return this.db.select().from(postbacks)
      .where(and(where(f), f.beforeId === undefined ? undefined : lt(postbacks.id, f.beforeId)))
      .orderBy(desc(postbacks.id)).limit(f.limit).all();
  }

  /**
   * An export's window: a primary-key range, the filter tested on each row in it (`+column` keeps
   * the planner off the other indexes, which would read the whole filter's range and sort it for
   * every window). Each call reads at most toId − fromId rows, so no call holds the event loop long.
   */
  inIdRange(f: PostbackFilter, fromId: number, toId: number): PostbackRow[] {
    const w: SQL[] = [gte(postbacks.id, fromId), lt(postbacks.id, toId)];
    if (f.state) w.push(sql`+${postbacks.state} = ${f.state}`);
    if (f.status) w.push(sql`+${postbacks.status} = ${f.status}`);
    if (f.campaignId !== undefined) w.push(sql`+${postbacks.campaignId} = ${f.campaignId}`);
    if (f.host) w.push(sql`+${postbacks.host} = ${f.host.toLowerCase()}`);
    if (f.leadId !== undefined) w.push(sql`+${postbacks.leadId} = ${f.leadId}`);
    if (f.since !== undefined) w.push(sql`+${postbacks.createdAt} >= ${f.since}`);
    if (f.until !== undefined) w.push(sql`+${postbacks.createdAt} < ${f.until}`);
    return this.db.select().from(postbacks).where(and(...w)).orderBy(desc(postbacks.id)).all();
  }

  maxId(): number | null {
    return this.db.select({ id: sql<number | null>`max(${postbacks.id})` }).from(postbacks).get()?.id ?? null;
  }

  get(id: number): PostbackRow | null {
    return this.db.select().from(postbacks).where(eq(postbacks.id, id)).get() ?? null;
  }

  ofLead(leadId: number): PostbackRow[] {
    return this.db.select().from(postbacks).where(eq(postbacks.leadId, leadId)).orderBy(postbacks.id).all();
  }

  attempts(postbackId: number): AttemptRow[] {
    return this.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.postbackId, postbackId)).orderBy(deliveryAttempts.id).all() as AttemptRow[];
  }

  resendCounts(f: PostbackFilter, req: ResendRequest): ResendCounts {
    return resendCounts(this.db, f, req);
  }

  stateCounts() {
    return this.db.select({ state: postbacks.state, n: sql<number>`count(*)` }).from(postbacks).groupBy(postbacks.state).all();
  }

  /** Pending rows due now (in flight ones are not: a claim moves their due time to the lease's end), one index range per host. */
  queueGauges(now: number): { depth: number; oldest: number | null } {
    return statement<{ depth: number; oldest: number | null }>(this.db, QUEUE_GAUGES).get({ now })!;
  }

  undeliveredOf(campaignId: number, since: number, until: number) {
    return statement<{ state: PostbackState; n: number }>(this.db, OPEN_OF_CAMPAIGN).all({ campaignId, since, until });
  }

  undelivered() {
    return statement<{ campaignId: number; state: PostbackState; n: number }>(this.db, OPEN_OF_ALL).all({});
  }

  about(id: number) {
    return this.claims.about(id);
  }

  nextDueAt(blocked: readonly string[]) {
    return this.claims.nextDueAt(blocked);
  }

  insert(rows: NewPostback[]): WrittenPostback[] {
    const insert = statement(this.db, INSERT_POSTBACK);
    return rows.map((row) => {
      const values: Bindings = { channel: "http" };
      for (const c of POSTBACK_COLUMNS) values[c] = (row[c] as Bindings[string] | undefined) ?? values[c] ?? null;
      const id = Number(insert.run(values).lastInsertRowid);
      return { id, state: row.state ?? "pending", url: row.url, reason: row.reason ?? null, template: row.template };
    });
  }

  requeue(id: number, now: number): PostbackRow | null {
    return this.db.update(postbacks).set(requeue(now)).where(and(eq(postbacks.id, id), resendable)).returning().get() ?? null;
  }

  skipWaiting(leadId: number, status: string, now: number, reason: string): number {
    return statement(this.db, SKIP_WAITING).run({ leadId, status, now, reason }).changes;
  }

  requeueResendable(f: PostbackFilter, req: ResendRequest): number {
    return requeueResendable(this.db, f, req);
  }

  claimDue(req: ClaimRequest): ClaimedPostback[] {
    return this.claims.claimDue(req);
  }

  complete(row: ClaimedPostback, attempt: NewAttempt, outcome: Completion, now: number): boolean {
    return this.claims.complete(row, attempt, outcome, now);
  }

  release(rows: readonly ClaimedPostback[], now: number) {
    this.claims.release(rows, now);
  }

  pruneDelivered(before: number, limit: number): number {
    const ids = this.db.select({ id: postbacks.id }).from(postbacks)
      .where(and(eq(postbacks.state, "delivered"), lt(postbacks.finishedAt, before))).limit(limit).all().map((r) => r.id);
    if (ids.length) {
      this.db.delete(deliveryAttempts).where(inArray(deliveryAttempts.postbackId, ids)).run();
      this.db.delete(postbacks).where(inArray(postbacks.id, ids)).run();
    }
    return ids.length;
  }
}
