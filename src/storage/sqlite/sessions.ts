import { eq, lte } from "drizzle-orm";
import type { SessionReads, SessionWrites } from "../port.ts";
import type { SessionRow } from "../rows.ts";
import type { Db } from "./client.ts";
import { dashboardSessions } from "./schema.ts";

export class SqliteSessions implements SessionReads, SessionWrites {
  constructor(private readonly db: Db) {}

  find(id: string): SessionRow | null {
    return this.db.select().from(dashboardSessions).where(eq(dashboardSessions.id, id)).get() ?? null;
  }

  insert(row: SessionRow) {
    this.db.insert(dashboardSessions).values(row).run();
  }

  delete(id: string) {
    this.db.delete(dashboardSessions).where(eq(dashboardSessions.id, id)).run();
  }

  deleteExpired(now: number) {
    this.db.delete(dashboardSessions).where(lte(dashboardSessions.expiresAt, now)).run();
  }
}
