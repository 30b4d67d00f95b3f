import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import type { Executor } from "../db/tx.ts";
import { idempotencyKeys, journal, leadEvents, leads, postbacks } from "../db/schema.ts";

export type LeadRow = typeof leads.$inferSelect;
export type LeadEventRow = typeof leadEvents.$inferSelect;
export type NewPostback = typeof postbacks.$inferInsert;

const p = sql.placeholder;

export const findLead = (db: Db, campaignId: number, subscriber: number) =>
  prepared(db, "leads.find", (d) => d.select().from(leads).where(and(eq(leads.campaignId, p("campaignId")), eq(leads.subscriber, p("subscriber")))).prepare())
    .get({ campaignId, subscriber });

export const getLead = (db: Executor, id: number) => db.select().from(leads).where(eq(leads.id, id)).get();

export interface NewLead {
  campaignId: number;
  subscriber: number;
  click: string;
  username: string;
  chatId: number | null;
  status: string;
  joinedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export const insertLead = (db: Db, row: NewLead) =>
  prepared(db, "leads.insert", (d) => d.insert(leads).values({
    campaignId: p("campaignId"), subscriber: p("subscriber"), click: p("click"), username: p("username"), chatId: p("chatId"),
    status: p("status"), joinedAt: p("joinedAt"), createdAt: p("createdAt"), updatedAt: p("updatedAt"),
  }).returning().prepare()).get({ ...row })!;

/** Moves a lead on; username and chat change only when given (null keeps them). */
export const updateLead = (db: Db, id: number, set: { status: string; click: string; joinedAt: number | null; updatedAt: number; username: string | null; chatId: number | null }) =>
  prepared(db, "leads.update", (d) => d.update(leads).set({
    status: sql`${p("status")}`, click: sql`${p("click")}`, joinedAt: sql`${p("joinedAt")}`, updatedAt: sql`${p("updatedAt")}`,
    username: sql`coalesce(${p("username")}, ${leads.username})`, chatId: sql`coalesce(${p("chatId")}, ${leads.chatId})`,
  }).where(eq(leads.id, p("id"))).returning().prepare()).get({ id, ...set })!;

export const insertLeadEvent = (db: Db, row: Omit<LeadEventRow, "id">) =>
  prepared(db, "lead_events.insert", (d) => d.insert(leadEvents).values({
    leadId: p("leadId"), campaignId: p("campaignId"), status: p("status"), prevStatus: p("prevStatus"), source: p("source"),
    reason: p("reason"), payout: p("payout"), currency: p("currency"), occurredAt: p("occurredAt"), createdAt: p("createdAt"),
  }).returning().prepare()).get(row)!;

const POSTBACK_COLUMNS = [
  "channel", "leadId", "eventId", "campaignId", "status", "template", "method", "url", "body", "contentType", "verdict", "host",
  "state", "reason", "nextAttemptAt", "createdAt", "updatedAt", "finishedAt",
] as const;

export const insertPostbacks = (db: Db, rows: NewPostback[]) => {
  const insert = prepared(db, "postbacks.insert", (d) => d.insert(postbacks)
    .values(Object.fromEntries(POSTBACK_COLUMNS.map((c) => [c, p(c)])) as unknown as NewPostback)
    .returning({ id: postbacks.id, state: postbacks.state, url: postbacks.url, reason: postbacks.reason, template: postbacks.template }).prepare());
  return rows.map((row) => insert.get({
    ...Object.fromEntries(POSTBACK_COLUMNS.map((c) => [c, row[c] ?? null])), channel: row.channel ?? "http",
  })!);
};

export const insertJournal = (db: Executor, row: typeof journal.$inferInsert) => db.insert(journal).values(row).run();

/** The most recent organic join of a subscriber in a campaign since `since`, not yet applied to a lead. */
export const findRecentOrganicJoin = (db: Db, campaignId: number, subscriber: number, since: number) =>
  prepared(db, "journal.organic_join", (d) => d.select().from(journal)
    .where(and(eq(journal.kind, "organic_join"), eq(journal.subscriber, p("subscriber")), eq(journal.campaignId, p("campaignId")), gte(journal.createdAt, p("since"))))
    .orderBy(desc(journal.createdAt)).limit(1).prepare()).get({ campaignId, subscriber, since }); // served by journal_kind_subscriber

export const markJournal = (db: Executor, id: number, kind: string) => db.update(journal).set({ kind }).where(eq(journal.id, id)).run();

export const findIdempotentAnswer = (db: Db, key: string) =>
  prepared(db, "idempotency.find", (d) => d.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, p("key"))).prepare()).get({ key });

export const storeIdempotentAnswer = (db: Db, row: typeof idempotencyKeys.$inferSelect) =>
  prepared(db, "idempotency.store", (d) => d.insert(idempotencyKeys).values({
    key: p("key"), requestHash: p("requestHash"), statusCode: p("statusCode"), response: p("response"), createdAt: p("createdAt"),
  }).prepare()).run(row);

export interface LeadFilter {
  campaignId?: number;
  status?: string;
  subscriber?: number;
  click?: string;
  beforeId?: number;
  limit: number;
}

export function listLeads(db: Executor, f: LeadFilter) {
  const where: SQL[] = [];
  if (f.campaignId !== undefined) where.push(eq(leads.campaignId, f.campaignId));
  if (f.status) where.push(eq(leads.status, f.status));
  if (f.subscriber !== undefined) where.push(eq(leads.subscriber, f.subscriber));
  if (f.click !== undefined) where.push(eq(leads.click, f.click));
  if (f.beforeId !== undefined) where.push(lt(leads.id, f.beforeId));
  return db.select().from(leads).where(and(...where)).orderBy(desc(leads.id)).limit(f.limit).all();
}

export const eventsOfLead = (db: Executor, leadId: number) =>
  db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId)).orderBy(leadEvents.id).all();

export const postbacksOfLead = (db: Executor, leadId: number) =>
  db.select().from(postbacks).where(eq(postbacks.leadId, leadId)).orderBy(postbacks.id).all();

