import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { inboundLog, leads } from "../db/schema.ts";

export const leadById = (db: Executor, id: number) => db.select().from(leads).where(eq(leads.id, id)).get();

/** The newest lead with this click, in the campaign if one is given. */
export const leadByClick = (db: Executor, click: string, campaignId?: number) =>
  db.select().from(leads)
    .where(and(eq(leads.click, click), campaignId === undefined ? undefined : eq(leads.campaignId, campaignId)))
    .orderBy(desc(leads.id)).limit(1).get();

export const logInbound = (db: Executor, row: typeof inboundLog.$inferInsert) => db.insert(inboundLog).values(row).run();

export function listInbound(db: Executor, f: { result?: string; beforeId?: number; limit: number }) {
  const where: SQL[] = [];
  if (f.result) where.push(eq(inboundLog.result, f.result));
  if (f.beforeId !== undefined) where.push(lt(inboundLog.id, f.beforeId));
  return db.select().from(inboundLog).where(and(...where)).orderBy(desc(inboundLog.id)).limit(f.limit).all();
}
