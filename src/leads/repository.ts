import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { idempotencyKeys, journal, leadEvents, leads, postbacks } from "../db/schema.ts";

export type LeadRow = typeof leads.$inferSelect;
export type LeadEventRow = typeof leadEvents.$inferSelect;
export type NewPostback = typeof postbacks.$inferInsert;

export const findLead = (db: Executor, campaignId: number, subscriber: number) =>
  db.select().from(leads).where(and(eq(leads.campaignId, campaignId), eq(leads.subscriber, subscriber))).get();

export const getLead = (db: Executor, id: number) => db.select().from(leads).where(eq(leads.id, id)).get();

export const insertLead = (db: Executor, row: typeof leads.$inferInsert) => db.insert(leads).values(row).returning().get();

export const updateLead = (db: Executor, id: number, set: Partial<typeof leads.$inferInsert>) =>
  db.update(leads).set(set).where(eq(leads.id, id)).returning().get();

export const insertLeadEvent = (db: Executor, row: typeof leadEvents.$inferInsert) =>
  db.insert(leadEvents).values(row).returning().get();

export const insertPostbacks = (db: Executor, rows: NewPostback[]) =>
  rows.length ? db.insert(postbacks).values(rows).returning({ id: postbacks.id, state: postbacks.state, url: postbacks.url, reason: postbacks.reason, template: postbacks.template }).all() : [];

export const insertJournal = (db: Executor, row: typeof journal.$inferInsert) => db.insert(journal).values(row).run();

/** The most recent organic join of a subscriber in a campaign since `since`, not yet applied to a lead. */
export const findRecentOrganicJoin = (db: Executor, campaignId: number, subscriber: number, since: number) =>
  db.select().from(journal)
    .where(and(eq(journal.kind, "organic_join"), eq(journal.subscriber, subscriber), eq(journal.campaignId, campaignId), gte(journal.createdAt, since)))
    .orderBy(desc(journal.id)).limit(1).get();

export const markJournal = (db: Executor, id: number, kind: string) => db.update(journal).set({ kind }).where(eq(journal.id, id)).run();

export const findIdempotentAnswer = (db: Executor, key: string) =>
  db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key)).get();

export const storeIdempotentAnswer = (db: Executor, row: typeof idempotencyKeys.$inferInsert) => db.insert(idempotencyKeys).values(row).run();

export const pruneIdempotencyKeys = (db: Executor, before: number) =>
  db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).run();

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

export const countLeads = (db: Executor) => db.select({ n: sql<number>`count(*)` }).from(leads).get()!.n;
