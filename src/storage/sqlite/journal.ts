import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { JournalReads, JournalWrites } from "../port.ts";
import type { JournalRow, NewJournal } from "../rows.ts";
import type { Db } from "./client.ts";
import { statement } from "./prepared.ts";
import { pruneBatch } from "./prune.ts";
import { journal } from "./schema.ts";

// Served by journal_kind_subscriber. No ORDER BY … DESC: on this path (every new lead) a reverse
// index walk costs more than the caller picking the latest of the few rows.
const ORGANIC_JOINS = `SELECT id, detail, created_at AS createdAt FROM journal
  WHERE kind = 'organic_join' AND subscriber = $subscriber AND campaign_id = $campaignId AND created_at >= $since`;

export class SqliteJournal implements JournalReads, JournalWrites {
  constructor(private readonly db: Db) {}

  list(f: { kind?: string; beforeId?: number; limit: number }): JournalRow[] {
    const where: SQL[] = [];
    if (f.kind) where.push(eq(journal.kind, f.kind));
    if (f.beforeId) where.push(lt(journal.id, f.beforeId));
    return this.db.select().from(journal).where(and(...where)).orderBy(desc(journal.id)).limit(f.limit).all();
  }

  ofSubscriber(subscriber: number, kinds: readonly string[], limit: number): JournalRow[] {
    if (kinds.length === 0) return [];
    return this.db.select().from(journal).where(and(inArray(journal.kind, [...kinds]), eq(journal.subscriber, subscriber)))
      .orderBy(desc(journal.id)).limit(limit).all();
  }

  /**
   * Rejected Starts whose payload holds the text: the start_rejected rows through their kind's
   * part of journal_kind_subscriber (bounded by delivery.retention), their payload read from the detail.
   */
  startsCarrying(text: string, limit: number): JournalRow[] {
    return this.db.select().from(journal)
      .where(and(eq(journal.kind, "start_rejected"), sql`instr(coalesce(json_extract(${journal.detail}, '$.payload'), ''), ${text}) > 0`))
      .orderBy(desc(journal.id)).limit(limit).all();
  }

  organicJoins(campaignId: number, subscriber: number, since: number) {
    return statement<{ id: number; detail: string | null; createdAt: number }>(this.db, ORGANIC_JOINS).all({ campaignId, subscriber, since })
      .map((r) => ({ id: r.id, createdAt: r.createdAt, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>) }));
  }

  insert(row: NewJournal) {
    this.db.insert(journal).values(row).run();
  }

  setKind(id: number, kind: string) {
    this.db.update(journal).set({ kind }).where(eq(journal.id, id)).run();
  }

  prune(before: number, limit: number): number {
    return pruneBatch(this.db, "journal", "created_at", before, limit);
  }
}
