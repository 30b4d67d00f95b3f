import { and, desc, eq, gte, inArray, lt, ne, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { deliveryAttempts, idempotencyKeys, postbacks } from "../db/schema.ts";

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

const requeue = (now: number) => ({
  state: "pending", reason: null, attempts: 0, nextAttemptAt: now, leaseExpiresAt: null,
  leaseToken: sql`${postbacks.leaseToken} + 1`, finishedAt: null, updatedAt: now,
});

/** Puts one finished row back in the queue, due now, with a fresh retry ladder. */
export const requeuePostback = (db: Executor, id: number, now: number) =>
  db.update(postbacks).set(requeue(now)).where(and(eq(postbacks.id, id), ne(postbacks.state, "pending"))).returning().get();

export const countPostbacks = (db: Executor, f: PostbackFilter) =>
  db.select({ n: sql<number>`count(*)` }).from(postbacks).where(where(f)).get()!.n;

export const requeuePostbacks = (db: Executor, f: PostbackFilter, now: number) =>
  db.update(postbacks).set(requeue(now)).where(and(where(f), ne(postbacks.state, "pending"))).returning({ id: postbacks.id }).all().length;

export const postbackStateCounts = (db: Executor) =>
  db.select({ state: postbacks.state, n: sql<number>`count(*)` }).from(postbacks).groupBy(postbacks.state).all();

/** Pending rows that are due, and how long the oldest of them has waited. */
export const queueGauges = (db: Executor, now: number) =>
  db.get<{ depth: number; oldest: number | null }>(sql`
    SELECT count(*) AS depth, min(next_attempt_at) AS oldest
    FROM postbacks INDEXED BY postbacks_due WHERE state = 'pending' AND next_attempt_at <= ${now}`);

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

