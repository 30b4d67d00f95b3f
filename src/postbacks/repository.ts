import { and, desc, eq, gte, inArray, lt, ne, not, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { deliveryAttempts, idempotencyKeys, postbacks } from "../db/schema.ts";
import { PENDING_HOSTS_CTE } from "../delivery/repository.ts";

export type PostbackRow = typeof postbacks.$inferSelect;

export interface PostbackFilter {
  state?: string;
  /** The lead status the postback reports (wait … trash). */
  status?: string;
  campaignId?: number;
  host?: string;
  leadId?: number;
  /** created_at range, epoch ms */
  since?: number;
  until?: number;
}

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

export const listPostbacks = (db: Executor, f: PostbackFilter & { beforeId?: number; limit: number }) =>
  db.select().from(postbacks)
    .where(and(where(f), f.beforeId === undefined ? undefined : lt(postbacks.id, f.beforeId)))
    .orderBy(desc(postbacks.id)).limit(f.limit).all();

export const getPostback = (db: Executor, id: number) => db.select().from(postbacks).where(eq(postbacks.id, id)).get();

export const attemptsOf = (db: Executor, postbackId: number) =>
  db.select().from(deliveryAttempts).where(eq(deliveryAttempts.postbackId, postbackId)).orderBy(deliveryAttempts.id).all();

/** A row skipped for want of a click id: sending it again could not count either (SPEC §4, no_click). */
const NO_CLICK = and(eq(postbacks.state, "skipped"), eq(postbacks.reason, "no_click"))!;

/** Rows a re-send may take: finished ones, except those with no click id. */
const resendable = and(ne(postbacks.state, "pending"), not(NO_CLICK));

const requeue = (now: number) => ({
  state: "pending", reason: null, attempts: 0, nextAttemptAt: now, leaseExpiresAt: null,
  leaseToken: sql`${postbacks.leaseToken} + 1`, finishedAt: null, updatedAt: now,
});

/** Puts one finished row back in the queue, due now, with a fresh retry ladder (not a no_click row). */
export const requeuePostback = (db: Executor, id: number, now: number) =>
  db.update(postbacks).set(requeue(now)).where(and(eq(postbacks.id, id), resendable)).returning().get();

/** The rows a bulk re-send with this filter would take. */
export const countResendable = (db: Executor, f: PostbackFilter) =>
  db.select({ n: sql<number>`count(*)` }).from(postbacks).where(and(where(f), resendable)).get()!.n;

export const requeuePostbacks = (db: Executor, f: PostbackFilter, now: number) =>
  db.update(postbacks).set(requeue(now)).where(and(where(f), resendable)).returning({ id: postbacks.id }).all().length;

export const postbackStateCounts = (db: Executor) =>
  db.select({ state: postbacks.state, n: sql<number>`count(*)` }).from(postbacks).groupBy(postbacks.state).all();

/**
 * Pending rows that are due now (in flight ones are not: a claim moves their due time to the
 * lease's end), and the earliest due time among them (epoch ms), one index range per host.
 * Drizzle's raw `get` answers a row as an array; the columns are named here so a gauge can never
 * read a missing field as 0.
 */
export function queueGauges(db: Executor, now: number): { depth: number; oldest: number | null } {
  const [depth, oldest] = db.get<[number, number | null]>(sql`
    WITH RECURSIVE ${sql.raw(PENDING_HOSTS_CTE)},
    due AS (
      SELECT (SELECT count(*) FROM postbacks p INDEXED BY postbacks_host_due WHERE p.host = hosts.host AND p.state = 'pending' AND p.next_attempt_at <= ${now}) AS n,
        (SELECT min(next_attempt_at) FROM postbacks p INDEXED BY postbacks_host_due WHERE p.host = hosts.host AND p.state = 'pending') AS oldest
      FROM hosts WHERE host IS NOT NULL
    )
    SELECT coalesce(sum(n), 0), min(CASE WHEN oldest <= ${now} THEN oldest END) FROM due`);
  return { depth, oldest };
}

/** Retention: delivered rows (and their attempts) finished before `before`; stale idempotency keys. */
export function pruneDelivered(db: Executor, before: number, idempotencyBefore: number, batch = 5000): number {
  const ids = db.select({ id: postbacks.id }).from(postbacks)
    .where(and(eq(postbacks.state, "delivered"), lt(postbacks.finishedAt, before))).limit(batch).all().map((r) => r.id);
  if (ids.length) {
    db.delete(deliveryAttempts).where(inArray(deliveryAttempts.postbackId, ids)).run();
    db.delete(postbacks).where(inArray(postbacks.id, ids)).run();
  }
  db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, idempotencyBefore)).run();
  return ids.length;
}

