import { and, desc, eq, gte, inArray, lt, ne, not, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import type { Db } from "../db/client.ts";
import { statement, type Bindings } from "../db/prepared.ts";
import { PRUNE_BATCH } from "../db/prune.ts";
import { deliveryAttempts, postbacks } from "../db/schema.ts";
import type { PostbackState, Status } from "../domain/status.ts";
import { PENDING_HOSTS_CTE } from "./claims.ts";

export type PostbackRow = typeof postbacks.$inferSelect;
export type NewPostback = typeof postbacks.$inferInsert;

const POSTBACK_COLUMNS = [
  "channel", "leadId", "eventId", "campaignId", "status", "template", "method", "url", "body", "contentType", "verdict", "host",
  "state", "reason", "nextAttemptAt", "createdAt", "updatedAt", "finishedAt",
] as const;
const INSERT_POSTBACK = `INSERT INTO postbacks (${POSTBACK_COLUMNS.map((c) => c.replace(/[A-Z]/g, (l) => `_${l.toLowerCase()}`)).join(", ")})
  VALUES (${POSTBACK_COLUMNS.map((c) => `$${c}`).join(", ")})`;

export const insertPostbacks = (db: Db, rows: NewPostback[]) => {
  const insert = statement(db, INSERT_POSTBACK);
  return rows.map((row) => {
    const values: Bindings = { channel: "http" };
    for (const c of POSTBACK_COLUMNS) values[c] = (row[c] as Bindings[string] | undefined) ?? values[c] ?? null;
    const id = Number(insert.run(values).lastInsertRowid);
    return { id, state: row.state ?? "pending", url: row.url, reason: row.reason ?? null, template: row.template };
  });
};


export interface PostbackFilter {
  state?: PostbackState;
  /** The lead status the postback reports (wait … trash). */
  status?: Status;
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

/** A lead's postbacks, oldest first (postbacks_lead). */
export const postbacksOfLead = (db: Executor, leadId: number) =>
  db.select().from(postbacks).where(eq(postbacks.leadId, leadId)).orderBy(postbacks.id).all();

export const attemptsOf = (db: Executor, postbackId: number) =>
  db.select().from(deliveryAttempts).where(eq(deliveryAttempts.postbackId, postbackId)).orderBy(deliveryAttempts.id).all();

/** A row skipped for want of a click id: sending it again could not count either (SPEC §4, no_click). */
const NO_CLICK = and(eq(postbacks.state, "skipped"), eq(postbacks.reason, "no_click"))!;

/** Rows a re-send may take: finished ones, except those with no click id. */
const resendable = and(ne(postbacks.state, "pending"), not(NO_CLICK));

const requeue = (now: number) => ({
  state: "pending" as const, reason: null, attempts: 0, nextAttemptAt: now, leaseExpiresAt: null,
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

/**
 * Retention: every delivered row (and its attempts) finished before `before`, `batch` rows per
 * transaction so a large backlog never holds the write lock long; returns how many went.
 */
export function pruneDelivered(db: Db, before: number, batch = PRUNE_BATCH): number {
  let pruned = 0;
  for (;;) {
    const n = db.transaction((tx) => {
      const ids = tx.select({ id: postbacks.id }).from(postbacks)
        .where(and(eq(postbacks.state, "delivered"), lt(postbacks.finishedAt, before))).limit(batch).all().map((r) => r.id);
      if (ids.length) {
        tx.delete(deliveryAttempts).where(inArray(deliveryAttempts.postbackId, ids)).run();
        tx.delete(postbacks).where(inArray(postbacks.id, ids)).run();
      }
      return ids.length;
    });
    pruned += n;
    if (n < batch) return pruned;
  }
}


// The dashboard's counts of tracker postbacks not delivered (postbacks_open holds only those: the
// delivered bulk is counted from lead_stats, as total minus these).
const OPEN_OF_CAMPAIGN = `SELECT state, count(*) AS n FROM postbacks INDEXED BY postbacks_open
  WHERE channel = 'http' AND state <> 'delivered' AND campaign_id = $campaignId AND created_at >= $since AND created_at < $until
  GROUP BY state`;
const OPEN_OF_ALL = `SELECT campaign_id AS campaignId, state, count(*) AS n FROM postbacks INDEXED BY postbacks_open
  WHERE channel = 'http' AND state <> 'delivered' GROUP BY campaign_id, state`;

/** Tracker postbacks of a campaign created in [since, until) that are not delivered, by state. */
export const undeliveredPostbacksOf = (db: Db, campaignId: number, since: number, until: number) =>
  statement<{ state: PostbackState; n: number }>(db, OPEN_OF_CAMPAIGN).all({ campaignId, since, until });

/** Every tracker postback not delivered, of all time, per campaign and state: a scan of that small index. */
export const undeliveredPostbacks = (db: Db) =>
  statement<{ campaignId: number; state: PostbackState; n: number }>(db, OPEN_OF_ALL).all({});
