import { eq, lte } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { dashboardSessions } from "../db/schema.ts";

export type SessionRow = typeof dashboardSessions.$inferSelect;

export const insertSession = (db: Executor, row: SessionRow) => db.insert(dashboardSessions).values(row).run();

export const findSession = (db: Executor, id: string) => db.select().from(dashboardSessions).where(eq(dashboardSessions.id, id)).get();

export const deleteSession = (db: Executor, id: string) => db.delete(dashboardSessions).where(eq(dashboardSessions.id, id)).run();

export const deleteExpiredSessions = (db: Executor, now: number) => db.delete(dashboardSessions).where(lte(dashboardSessions.expiresAt, now)).run();
