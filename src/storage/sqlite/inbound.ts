import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { InboundReads, InboundWrites } from "../port.ts";
import type { InboundLogRow, NewInboundLog } from "../rows.ts";
import type { Db } from "./client.ts";
import { pruneBatch } from "./prune.ts";
import { inboundLog } from "./schema.ts";

/** Every inbound postback with its result code (GET /api/postback-log). */
export class SqliteInbound implements InboundReads, InboundWrites {
  constructor(private readonly db: Db) {}

  list(f: { result?: string; beforeId?: number; limit: number }): InboundLogRow[] {
    const where: SQL[] = [];
    if (f.result) where.push(eq(inboundLog.result, f.result));
    if (f.beforeId !== undefined) where.push(lt(inboundLog.id, f.beforeId));
    return this.db.select().from(inboundLog).where(and(...where)).orderBy(desc(inboundLog.id)).limit(f.limit).all();
  }

  log(row: NewInboundLog) {
    this.db.insert(inboundLog).values(row).run();
  }

  prune(before: number, limit: number): number {
    return pruneBatch(this.db, "inbound_log", "created_at", before, limit);
  }

  /** Served by inbound_log_result: the newest `keep` rows of requests without a valid key stay. */
  pruneAccessRows(keep: number): number {
    const sqlite = this.db.$client;
    const oldestKept = sqlite.query<{ id: number }, [number]>("SELECT id FROM inbound_log WHERE result = 'access' ORDER BY id DESC LIMIT 1 OFFSET ?")
      .get(Math.max(0, keep - 1));
    return oldestKept ? sqlite.run("DELETE FROM inbound_log WHERE result = 'access' AND id < ?", [oldestKept.id]).changes : 0;
  }
}
