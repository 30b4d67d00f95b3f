import type { Status } from "../../domain/status.ts";
import type { LeadChange, LeadExportFilter, LeadFilter, LeadReads, LeadWrites } from "../port.ts";
import type { IdempotentAnswer, LeadEventRow, LeadRow, NewLead, NewLeadEvent } from "../rows.ts";
import { LOCK_SPACE } from "./locks.ts";
import { num, numOrNull, type Params, type Pg } from "./query.ts";
import { IDEMPOTENT_ANSWER, LEAD, LEAD_EVENT } from "./rows.ts";
import { prune } from "./prune.ts";

const LEAD_COLUMNS = LEAD.columns();
const EVENT_COLUMNS = LEAD_EVENT.columns();

const INSERT_LEAD = `INSERT INTO leads (campaign_id, subscriber, click, username, chat_id, status, joined_at, created_at, updated_at, click_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`;
const INSERT_EVENT = `INSERT INTO lead_events (lead_id, campaign_id, status, prev_status, source, reason, payout, currency, invite_link, occurred_at, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`;
const UPDATE_LEAD = `UPDATE leads SET status = $2, click = $3, joined_at = $4, updated_at = $5,
  username = coalesce($6, username), chat_id = coalesce($7, chat_id), click_id = coalesce($8, click_id) WHERE id = $1 RETURNING ${LEAD_COLUMNS}`;

/**
 * Leads, their events and the stored answers of POST /api/events. lock() and lockIdempotencyKey()
 * take a transaction-scoped advisory lock, so two instances writing one lead (or one key) at once
 * run one after the other: the second reads what the first committed (READ COMMITTED reads each
 * statement's own snapshot).
 */
export class PgLeads implements LeadReads, LeadWrites {
  constructor(private readonly pg: Pg) {}

  async find(campaignId: number, subscriber: number): Promise<LeadRow | null> {
    const row = await this.pg.one(`SELECT ${LEAD_COLUMNS} FROM leads WHERE campaign_id = $1 AND subscriber = $2`, [campaignId, subscriber]);
    return row && LEAD.map(row);
  }

  async get(id: number): Promise<LeadRow | null> {
    const row = await this.pg.one(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = $1`, [id]);
    return row && LEAD.map(row);
  }

  async byClick(click: string, campaignId?: number): Promise<LeadRow | null> {
    const row = campaignId === undefined
      ? await this.pg.one(`SELECT ${LEAD_COLUMNS} FROM leads WHERE click = $1 ORDER BY id DESC LIMIT 1`, [click])
      : await this.pg.one(`SELECT ${LEAD_COLUMNS} FROM leads WHERE click = $1 AND campaign_id = $2 ORDER BY id DESC LIMIT 1`, [click, campaignId]);
    return row && LEAD.map(row);
  }

  async list(f: LeadFilter): Promise<LeadRow[]> {
    const where: string[] = [];
    const params: Params = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    if (f.campaignIds !== undefined) where.push(`campaign_id = ANY(${bind(f.campaignIds)}::int8[])`);
    if (f.status) where.push(`status = ${bind(f.status)}`);
    if (f.subscriber !== undefined) where.push(`subscriber = ${bind(f.subscriber)}`);
    if (f.click !== undefined) where.push(`click = ${bind(f.click)}`);
    // The index leads_username's own expression and condition, so the planner can use it.
    if (f.username !== undefined) where.push(`lower(username) = lower(${bind(f.username)}) AND username <> ''`);
    if (f.since !== undefined) where.push(`created_at >= ${bind(f.since)}`);
    if (f.until !== undefined) where.push(`created_at < ${bind(f.until)}`);
    if (f.beforeId !== undefined) where.push(`id < ${bind(f.beforeId)}`);
    const rows = await this.pg.all(`SELECT ${LEAD_COLUMNS} FROM leads ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY id DESC LIMIT ${bind(f.limit)}`, params);
    return rows.map(LEAD.map);
  }

  async getMany(ids: readonly number[]): Promise<LeadRow[]> {
    if (ids.length === 0) return [];
    return (await this.pg.all(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = ANY($1::int8[]) ORDER BY id`, [[...ids]])).map(LEAD.map);
  }

  /** An export's window: a primary-key range, the filter tested on each row in it (as SQLite's, username compared as it folds case). */
  async inIdRange(f: LeadExportFilter, fromId: number, toId: number): Promise<LeadRow[]> {
    const params: Params = [fromId, toId];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const where = ["id >= $1", "id < $2"];
    if (f.campaignIds !== undefined) where.push(`campaign_id = ANY(${bind(f.campaignIds)}::int8[])`);
    if (f.status) where.push(`status = ${bind(f.status)}`);
    if (f.subscriber !== undefined) where.push(`subscriber = ${bind(f.subscriber)}`);
    if (f.click !== undefined) where.push(`click = ${bind(f.click)}`);
    if (f.username !== undefined) where.push(`lower(username) = lower(${bind(f.username)})`);
    if (f.since !== undefined) where.push(`created_at >= ${bind(f.since)}`);
    if (f.until !== undefined) where.push(`created_at < ${bind(f.until)}`);
    return (await this.pg.all(`SELECT ${LEAD_COLUMNS} FROM leads WHERE ${where.join(" AND ")} ORDER BY id DESC`, params)).map(LEAD.map);
  }

  async maxId(): Promise<number | null> {
    return numOrNull((await this.pg.one(`SELECT max(id) AS id FROM leads`))?.id);
  }

  async eventsOf(leadIds: readonly number[]): Promise<LeadEventRow[]> {
    if (leadIds.length === 0) return [];
    return (await this.pg.all(`SELECT ${EVENT_COLUMNS} FROM lead_events WHERE lead_id = ANY($1::int8[]) ORDER BY lead_id, id`, [[...leadIds]])).map(LEAD_EVENT.map);
  }

  async lastEventAt(campaignId: number, status: Status): Promise<number | null> {
    return numOrNull((await this.pg.one(`SELECT occurred_at AS at FROM lead_events WHERE campaign_id = $1 AND status = $2 ORDER BY occurred_at DESC LIMIT 1`,
      [campaignId, status]))?.at);
  }

  async events(leadId: number): Promise<LeadEventRow[]> {
    return (await this.pg.all(`SELECT ${EVENT_COLUMNS} FROM lead_events WHERE lead_id = $1 ORDER BY id`, [leadId])).map(LEAD_EVENT.map);
  }

  async hasEarlierEvent(leadId: number, eventId: number, status: string): Promise<boolean> {
    return (await this.pg.one(`SELECT 1 AS x FROM lead_events WHERE lead_id = $1 AND id < $2 AND status = $3 LIMIT 1`, [leadId, eventId, status])) !== null;
  }

  async idempotentAnswer(key: string): Promise<IdempotentAnswer | null> {
    const row = await this.pg.one(`SELECT ${IDEMPOTENT_ANSWER.columns()} FROM idempotency_keys WHERE key = $1`, [key]);
    return row && IDEMPOTENT_ANSWER.map(row);
  }

  async lock(campaignId: number, subscriber: number): Promise<void> {
    await this.pg.all(`SELECT pg_advisory_xact_lock(${LOCK_SPACE.lead}, hashtext($1))`, [`${campaignId}:${subscriber}`]);
  }

  async lockIdempotencyKey(key: string): Promise<void> {
    await this.pg.all(`SELECT pg_advisory_xact_lock(${LOCK_SPACE.idempotencyKey}, hashtext($1))`, [key]);
  }

  async insert(row: NewLead): Promise<LeadRow> {
    const full = { ...row, clickId: row.clickId ?? null };
    const [{ id }] = await this.pg.all<{ id: string }>(INSERT_LEAD, [
      row.campaignId, row.subscriber, row.click, row.username, row.chatId, row.status, row.joinedAt, row.createdAt, row.updatedAt, full.clickId,
    ]) as [{ id: string }];
    return { id: num(id), ...full };
  }

  async update(id: number, change: LeadChange): Promise<LeadRow> {
    const row = await this.pg.one(UPDATE_LEAD, [id, change.status, change.click, change.joinedAt, change.updatedAt, change.username, change.chatId, change.clickId ?? null]);
    if (!row) throw new Error(`lead ${id} not found`);
    return LEAD.map(row);
  }

  async insertEvent(row: NewLeadEvent): Promise<LeadEventRow> {
    const event = { ...row, inviteLink: row.inviteLink ?? null };
    const [{ id }] = await this.pg.all<{ id: string }>(INSERT_EVENT, [
      row.leadId, row.campaignId, row.status, row.prevStatus, row.source, row.reason, row.payout, row.currency, event.inviteLink, row.occurredAt, row.createdAt,
    ]) as [{ id: string }];
    return { id: num(id), ...event };
  }

  /** Served by idempotency_keys_client (client, spent): the client's newest row. */
  async idempotencySpent(client: string): Promise<number> {
    return num((await this.pg.one(`SELECT max(spent) AS spent FROM idempotency_keys WHERE client = $1`, [client]))?.spent ?? 0);
  }

  async storeIdempotentAnswer(row: IdempotentAnswer): Promise<void> {
    await this.pg.run(`INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at, client, spent, answer_hash)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [row.key, row.requestHash, row.statusCode, row.response, row.createdAt, row.client, row.spent, row.answerHash]);
  }

  dropIdempotentAnswers(client: string, spent: number): Promise<number> {
    return this.pg.run(`DELETE FROM idempotency_keys WHERE client = $1 AND spent <= $2`, [client, spent]);
  }

  pruneIdempotencyKeys(before: number, limit: number): Promise<number> {
    return prune(this.pg, "idempotency_keys", "created_at", before, limit);
  }
}
