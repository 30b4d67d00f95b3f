import { and, desc, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Status } from "../../domain/status.ts";
import type { LeadChange, LeadExportFilter, LeadFilter, LeadReads, LeadWrites } from "../port.ts";
import type { IdempotentAnswer, LeadEventRow, LeadRow, NewLead, NewLeadEvent } from "../rows.ts";
import type { Db } from "./client.ts";
import { prepared, statement } from "./prepared.ts";
import { pruneBatch } from "./prune.ts";
import { leadEvents, leads } from "./schema.ts";

const p = sql.placeholder;

const LEAD_COLUMNS = `id, campaign_id AS campaignId, subscriber, click, username, chat_id AS chatId, status,
  joined_at AS joinedAt, created_at AS createdAt, updated_at AS updatedAt, click_id AS clickId`;

const FIND_LEAD = `SELECT ${LEAD_COLUMNS} FROM leads WHERE campaign_id = $campaignId AND subscriber = $subscriber`;

// Inserts without RETURNING (SQLite materialises RETURNING rows; the row is known here anyway).
const INSERT_LEAD = `INSERT INTO leads (campaign_id, subscriber, click, username, chat_id, status, joined_at, created_at, updated_at, click_id)
  VALUES ($campaignId, $subscriber, $click, $username, $chatId, $status, $joinedAt, $createdAt, $updatedAt, $clickId)`;

const INSERT_EVENT = `INSERT INTO lead_events (lead_id, campaign_id, status, prev_status, source, reason, payout, currency, invite_link, occurred_at, created_at)
  VALUES ($leadId, $campaignId, $status, $prevStatus, $source, $reason, $payout, $currency, $inviteLink, $occurredAt, $createdAt)`;

// Served by lead_events_campaign_time walked backwards: Starts are most of a campaign's events,
// so the newest wait is a few index entries from the end.
const LAST_EVENT_AT = `SELECT occurred_at AS at FROM lead_events WHERE campaign_id = $campaignId AND status = $status
  ORDER BY occurred_at DESC LIMIT 1`;

// Served by lead_events_lead (lead_id, id): the few events of one lead.
const EARLIER_OF_STATUS = `SELECT 1 AS x FROM lead_events WHERE lead_id = $leadId AND id < $eventId AND status = $status LIMIT 1`;

const FIND_KEY = `SELECT key, request_hash AS requestHash, status_code AS statusCode, response, created_at AS createdAt,
  client, spent, answer_hash AS answerHash FROM idempotency_keys WHERE key = $key`;
const STORE_KEY = `INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at, client, spent, answer_hash)
  VALUES ($key, $requestHash, $statusCode, $response, $createdAt, $client, $spent, $answerHash)`;
// Both served by idempotency_keys_client (client, spent): the client's newest row, and its oldest ones.
const CLIENT_SPENT = `SELECT max(spent) AS spent FROM idempotency_keys WHERE client = $client`;
const DROP_OLDEST = `DELETE FROM idempotency_keys WHERE client = $client AND spent <= $spent`;

/** Leads, their events and the stored answers of POST /api/events, on the hot write path through prepared statements. */
export class SqliteLeads implements LeadReads, LeadWrites {
  constructor(private readonly db: Db) {}

  find(campaignId: number, subscriber: number): LeadRow | null {
    return statement<LeadRow>(this.db, FIND_LEAD).get({ campaignId, subscriber });
  }

  get(id: number): LeadRow | null {
    return this.db.select().from(leads).where(eq(leads.id, id)).get() ?? null;
  }

  byClick(click: string, campaignId?: number): LeadRow | null {
    return leadByClickQuery(this.db, click, campaignId).get() ?? null;
  }

  list(f: LeadFilter): LeadRow[] {
    const where: SQL[] = [];
    if (f.campaignIds !== undefined) where.push(inArray(leads.campaignId, f.campaignIds));
    if (f.status) where.push(eq(leads.status, f.status));
    if (f.subscriber !== undefined) where.push(eq(leads.subscriber, f.subscriber));
    if (f.click !== undefined) where.push(eq(leads.click, f.click));
    // The partial index's own condition, spelled as in the index, so the planner can use it.
    if (f.username !== undefined) where.push(sql`${leads.username} = ${f.username} COLLATE NOCASE AND username <> ''`);
    if (f.since !== undefined) where.push(gte(leads.createdAt, f.since));
    if (f.until !== undefined) where.push(lt(leads.createdAt, f.until));
    if (f.beforeId !== undefined) where.push(lt(leads.id, f.beforeId));
    return this.db.select().from(leads).where(and(...where)).orderBy(desc(leads.id)).limit(f.limit).all();
  }

  getMany(ids: readonly number[]): LeadRow[] {
    if (ids.length === 0) return [];
    return this.db.select().from(leads).where(inArray(leads.id, [...ids])).all();
  }

  /**
   * An export's window: a primary-key range, the filter tested on each row in it (`+column` keeps
   * the planner off the other indexes, which would read the whole filter's range and sort it for
   * every window). Each call reads at most toId − fromId rows, so no call holds the event loop long.
   */
  inIdRange(f: LeadExportFilter, fromId: number, toId: number): LeadRow[] {
    const where: SQL[] = [gte(leads.id, fromId), lt(leads.id, toId)];
    if (f.campaignIds !== undefined) where.push(sql`+${leads.campaignId} IN ${f.campaignIds.length ? f.campaignIds : [-1]}`);
    if (f.status) where.push(sql`+${leads.status} = ${f.status}`);
    if (f.subscriber !== undefined) where.push(sql`+${leads.subscriber} = ${f.subscriber}`);
    if (f.click !== undefined) where.push(sql`+${leads.click} = ${f.click}`);
    if (f.username !== undefined) where.push(sql`+${leads.username} = ${f.username} COLLATE NOCASE`);
    if (f.since !== undefined) where.push(sql`+${leads.createdAt} >= ${f.since}`);
    if (f.until !== undefined) where.push(sql`+${leads.createdAt} < ${f.until}`);
    return this.db.select().from(leads).where(and(...where)).orderBy(desc(leads.id)).all();
  }

  maxId(): number | null {
    return this.db.select({ id: sql<number | null>`max(${leads.id})` }).from(leads).get()?.id ?? null;
  }

  events(leadId: number): LeadEventRow[] {
    return this.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId)).orderBy(leadEvents.id).all();
  }

  eventsOf(leadIds: readonly number[]): LeadEventRow[] {
    if (leadIds.length === 0) return [];
    return this.db.select().from(leadEvents).where(inArray(leadEvents.leadId, [...leadIds])).orderBy(leadEvents.leadId, leadEvents.id).all();
  }

  lastEventAt(campaignId: number, status: Status): number | null {
    return statement<{ at: number }>(this.db, LAST_EVENT_AT).get({ campaignId, status })?.at ?? null;
  }

  hasEarlierEvent(leadId: number, eventId: number, status: string): boolean {
    return statement(this.db, EARLIER_OF_STATUS).get({ leadId, eventId, status }) !== null;
  }

  idempotentAnswer(key: string): IdempotentAnswer | null {
    return statement<IdempotentAnswer>(this.db, FIND_KEY).get({ key });
  }

  idempotencySpent(client: string): number {
    return statement<{ spent: number | null }>(this.db, CLIENT_SPENT).get({ client })?.spent ?? 0;
  }

  /** One writer (the group commit) runs every transaction: nothing to serialise. */
  lock() {}

  lockIdempotencyKey() {}

  insert(row: NewLead): LeadRow {
    const full = { ...row, clickId: row.clickId ?? null };
    const { lastInsertRowid } = statement(this.db, INSERT_LEAD).run(full);
    return { id: Number(lastInsertRowid), ...full };
  }

  update(id: number, change: LeadChange): LeadRow {
    return prepared(this.db, "leads.update", (d) => d.update(leads).set({
      status: sql`${p("status")}`, click: sql`${p("click")}`, joinedAt: sql`${p("joinedAt")}`, updatedAt: sql`${p("updatedAt")}`,
      username: sql`coalesce(${p("username")}, ${leads.username})`, chatId: sql`coalesce(${p("chatId")}, ${leads.chatId})`,
      clickId: sql`coalesce(${p("clickId")}, ${leads.clickId})`,
    }).where(eq(leads.id, p("id"))).returning().prepare()).get({ id, ...change, clickId: change.clickId ?? null })!;
  }

  insertEvent(row: NewLeadEvent): LeadEventRow {
    const event = { ...row, inviteLink: row.inviteLink ?? null };
    const { lastInsertRowid } = statement(this.db, INSERT_EVENT).run(event);
    return { id: Number(lastInsertRowid), ...event };
  }

  storeIdempotentAnswer(row: IdempotentAnswer) {
    statement(this.db, STORE_KEY).run({ ...row });
  }

  dropIdempotentAnswers(client: string, spent: number): number {
    return statement(this.db, DROP_OLDEST).run({ client, spent }).changes;
  }

  pruneIdempotencyKeys(before: number, limit: number): number {
    return pruneBatch(this.db, "idempotency_keys", "created_at", before, limit);
  }
}

/** The query of byClick (its plan is tested: served by leads_click, or leads_campaign_click with a campaign). */
export const leadByClickQuery = (db: Db, click: string, campaignId?: number) =>
  db.select().from(leads)
    .where(and(eq(leads.click, click), campaignId === undefined ? undefined : eq(leads.campaignId, campaignId)))
    .orderBy(desc(leads.id)).limit(1);
