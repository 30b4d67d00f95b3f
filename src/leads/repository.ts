import type { SQLQueryBindings } from "bun:sqlite";
import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { deleteOlderThan } from "../db/prune.ts";
import type { Executor } from "../db/tx.ts";
import { idempotencyKeys, journal, leadEvents, leads, postbacks } from "../db/schema.ts";

export type LeadRow = typeof leads.$inferSelect;
export type LeadEventRow = typeof leadEvents.$inferSelect;
export type NewPostback = typeof postbacks.$inferInsert;

const p = sql.placeholder;

const LEAD_COLUMNS = `id, campaign_id AS campaignId, subscriber, click, username, chat_id AS chatId, status,
  joined_at AS joinedAt, created_at AS createdAt, updated_at AS updatedAt`;

type Bindings = Extract<SQLQueryBindings, Record<string, unknown>>;

/** A bun:sqlite statement prepared once per connection: the hot write path skips the query builder. */
const statement = <Row = unknown>(db: Db, sqlText: string) =>
  prepared(db, sqlText, (d) => d.$client.prepare<Row, [Bindings]>(sqlText));

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
  status: string;
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

const FIND_KEY = `SELECT key, request_hash AS requestHash, status_code AS statusCode, response, created_at AS createdAt
  FROM idempotency_keys WHERE key = $key`;
const STORE_KEY = `INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at)
  VALUES ($key, $requestHash, $statusCode, $response, $createdAt)`;

export const findIdempotentAnswer = (db: Db, key: string) =>
  statement<typeof idempotencyKeys.$inferSelect>(db, FIND_KEY).get({ key });

export const storeIdempotentAnswer = (db: Db, row: typeof idempotencyKeys.$inferSelect) =>
  statement(db, STORE_KEY).run({ ...row });

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

