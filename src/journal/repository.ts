import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { statement } from "../db/prepared.ts";
import { deleteOlderThan } from "../db/prune.ts";
import type { Executor } from "../db/tx.ts";
import { journal } from "../db/schema.ts";

/**
 * The activity journal: what is not a lead event but a buyer or an operator may want to see —
 * organic joins, ignored events, rejected Starts, updates that could not be applied, blocked bots.
 */
export type JournalRow = typeof journal.$inferSelect;

export const insertJournal = (db: Executor, row: typeof journal.$inferInsert) => db.insert(journal).values(row).run();

// Served by journal_kind_subscriber. No ORDER BY … DESC: on this path (every new lead) a reverse
// index walk costs more than picking the latest of the few rows in JS.
const FIND_ORGANIC_JOINS = `SELECT id, detail, created_at AS createdAt FROM journal
  WHERE kind = 'organic_join' AND subscriber = $subscriber AND campaign_id = $campaignId AND created_at >= $since`;

/** The most recent organic join of a subscriber in a campaign since `since`, not yet applied to a lead. */
export function findRecentOrganicJoin(db: Db, campaignId: number, subscriber: number, since: number) {
  const rows = statement<{ id: number; detail: string | null; createdAt: number }>(db, FIND_ORGANIC_JOINS).all({ campaignId, subscriber, since });
  let latest: (typeof rows)[number] | undefined;
  for (const r of rows) if (!latest || r.createdAt > latest.createdAt || (r.createdAt === latest.createdAt && r.id > latest.id)) latest = r;
  return latest && { id: latest.id, detail: latest.detail === null ? null : (JSON.parse(latest.detail) as Record<string, unknown>) };
}

/** Retention: journal entries older than `before` (journal_created). */
export const pruneJournal = (db: Db, before: number) => deleteOlderThan(db, "journal", "created_at", before);

export const markJournal = (db: Executor, id: number, kind: string) => db.update(journal).set({ kind }).where(eq(journal.id, id)).run();


/** A page of the journal, newest first, of one kind or all. */
export function listJournal(db: Executor, f: { kind?: string; beforeId?: number; limit: number }) {
  const where: SQL[] = [];
  if (f.kind) where.push(eq(journal.kind, f.kind));
  if (f.beforeId) where.push(lt(journal.id, f.beforeId));
  return db.select().from(journal).where(and(...where)).orderBy(desc(journal.id)).limit(f.limit).all();
}
