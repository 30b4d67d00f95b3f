import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { prepared, statement } from "../db/prepared.ts";
import { deleteOlderThan } from "../db/prune.ts";
import type { Executor } from "../db/tx.ts";
import { idempotencyKeys, leadEvents, leads } from "../db/schema.ts";
import type { Status } from "../domain/status.ts";

export type LeadRow = typeof leads.$inferSelect;
export type LeadEventRow = typeof leadEvents.$inferSelect;

const p = sql.placeholder;

const LEAD_COLUMNS = `id, campaign_id AS campaignId, subscriber, click, username, chat_id AS chatId, status,
  joined_at AS joinedAt, created_at AS createdAt, updated_at AS updatedAt`;

const FIND_LEAD = `SELECT ${LEAD_COLUMNS} FROM leads WHERE campaign_id = $campaignId AND subscriber = $subscriber`;

export const findLead = (db: Db, campaignId: number, subscriber: number): LeadRow | null =>
  statement<LeadRow>(db, FIND_LEAD).get({ campaignId, subscriber });

export const getLead = (db: Executor, id: number) => db.select().from(leads).where(eq(leads.id, id)).get();

export interface NewLead {
  campaignId: number;
  subscriber: number;
  click: string;
  username: string;
  chatId: number | null;
  status: Status;
  joinedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

// Inserts without RETURNING (SQLite materialises RETURNING rows; the row is known here anyway).
const INSERT_LEAD = `INSERT INTO leads (campaign_id, subscriber, click, username, chat_id, status, joined_at, created_at, updated_at)
  VALUES ($campaignId, $subscriber, $click, $username, $chatId, $status, $joinedAt, $createdAt, $updatedAt)`;

export const insertLead = (db: Db, row: NewLead): LeadRow => {
  const { lastInsertRowid } = statement(db, INSERT_LEAD).run({ ...row });
  return { id: Number(lastInsertRowid), ...row };
};

/** Moves a lead on; username and chat change only when given (null keeps them). */
export const updateLead = (db: Db, id: number, set: { status: string; click: string; joinedAt: number | null; updatedAt: number; username: string | null; chatId: number | null }) =>
  prepared(db, "leads.update", (d) => d.update(leads).set({
    status: sql`${p("status")}`, click: sql`${p("click")}`, joinedAt: sql`${p("joinedAt")}`, updatedAt: sql`${p("updatedAt")}`,
    username: sql`coalesce(${p("username")}, ${leads.username})`, chatId: sql`coalesce(${p("chatId")}, ${leads.chatId})`,
  }).where(eq(leads.id, p("id"))).returning().prepare()).get({ id, ...set })!;

const INSERT_EVENT = `INSERT INTO lead_events (lead_id, campaign_id, status, prev_status, source, reason, payout, currency, occurred_at, created_at)
  VALUES ($leadId, $campaignId, $status, $prevStatus, $source, $reason, $payout, $currency, $occurredAt, $createdAt)`;

export const insertLeadEvent = (db: Db, row: Omit<LeadEventRow, "id">): LeadEventRow => {
  const { lastInsertRowid } = statement(db, INSERT_EVENT).run({ ...row });
  return { id: Number(lastInsertRowid), ...row };
};

const FIND_KEY = `SELECT key, request_hash AS requestHash, status_code AS statusCode, response, created_at AS createdAt
  FROM idempotency_keys WHERE key = $key`;
const STORE_KEY = `INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at)
  VALUES ($key, $requestHash, $statusCode, $response, $createdAt)`;

export const findIdempotentAnswer = (db: Db, key: string) =>
  statement<typeof idempotencyKeys.$inferSelect>(db, FIND_KEY).get({ key });

export const storeIdempotentAnswer = (db: Db, row: typeof idempotencyKeys.$inferSelect) =>
  statement(db, STORE_KEY).run({ ...row });

/** Retention: stored answers of Idempotency-Keys older than `before` (a retry comes within minutes). */
export const pruneIdempotencyKeys = (db: Executor, before: number) =>
  db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).run();

export interface LeadFilter {
  /** One campaign, or several: a search by subscriber or click in every campaign names them all, so
   * the (campaign, subscriber) and (campaign, click) indexes serve it instead of a scan of all leads. */
  campaignIds?: number[];
  status?: Status;
  subscriber?: number;
  click?: string;
  /** Case-insensitive, without @ (served by leads_username). */
  username?: string;
  beforeId?: number;
  limit: number;
}

export function listLeads(db: Executor, f: LeadFilter) {
  const where: SQL[] = [];
  if (f.campaignIds !== undefined) where.push(inArray(leads.campaignId, f.campaignIds));
  if (f.status) where.push(eq(leads.status, f.status));
  if (f.subscriber !== undefined) where.push(eq(leads.subscriber, f.subscriber));
  if (f.click !== undefined) where.push(eq(leads.click, f.click));
  // The partial index's own condition, spelled as in the index, so the planner can use it.
  if (f.username !== undefined) where.push(sql`${leads.username} = ${f.username} COLLATE NOCASE AND username <> ''`);
  if (f.beforeId !== undefined) where.push(lt(leads.id, f.beforeId));
  return db.select().from(leads).where(and(...where)).orderBy(desc(leads.id)).limit(f.limit).all();
}

export const eventsOfLead = (db: Executor, leadId: number) =>
  db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId)).orderBy(leadEvents.id).all();


