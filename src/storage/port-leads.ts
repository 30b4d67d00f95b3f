// The storage port (port.ts): leads, their events and the stored answers of POST /api/events.
import type { Awaitable } from "./port.ts";
import type { Status } from "../domain/status.ts";
import type { IdempotentAnswer, LeadEventRow, LeadRow, NewLead, NewLeadEvent } from "./rows.ts";

export interface LeadFilter {
  /** One campaign, or several: a search by subscriber or click names them all, so the per-campaign indexes serve it. */
  campaignIds?: number[];
  status?: Status;
  subscriber?: number;
  click?: string;
  /** Case-insensitive, without @. */
  username?: string;
  /** created_at range, epoch ms; until is exclusive. */
  since?: number;
  until?: number;
  beforeId?: number;
  limit: number;
}

/** A lead filter without its page: what an export reads window by window. */
export type LeadExportFilter = Omit<LeadFilter, "beforeId" | "limit">;

export interface LeadChange {
  status: string;
  click: string;
  joinedAt: number | null;
  updatedAt: number;
  /** null keeps the stored one. */
  username: string | null;
  chatId: number | null;
  /** The click a Start's token attached; null keeps the stored one. */
  clickId?: number | null;
}

export interface LeadReads {
  find(campaignId: number, subscriber: number): Awaitable<LeadRow | null>;
  get(id: number): Awaitable<LeadRow | null>;
  /** The newest lead with this click, in the campaign if one is given. */
  byClick(click: string, campaignId?: number): Awaitable<LeadRow | null>;
  list(filter: LeadFilter): Awaitable<LeadRow[]>;
  /** The leads of these ids (in no order; missing ones left out). */
  getMany(ids: readonly number[]): Awaitable<LeadRow[]>;
  /** The leads with fromId ≤ id < toId that match, newest first: an export's window, read through the primary key. */
  inIdRange(filter: LeadExportFilter, fromId: number, toId: number): Awaitable<LeadRow[]>;
  /** The highest lead id, or null when there is none. */
  maxId(): Awaitable<number | null>;
  /** A lead's events, oldest first. */
  events(leadId: number): Awaitable<LeadEventRow[]>;
  /** The events of these leads, lead by lead (ascending id), each lead's oldest first. */
  eventsOf(leadIds: readonly number[]): Awaitable<LeadEventRow[]>;
  /** When a campaign's latest event of `status` happened (occurred_at), or null when it has none. */
  lastEventAt(campaignId: number, status: Status): Awaitable<number | null>;
  /** Whether the lead has an event of `status` before `eventId` (its first of that status is counted once). */
  hasEarlierEvent(leadId: number, eventId: number, status: string): Awaitable<boolean>;
  idempotentAnswer(key: string): Awaitable<IdempotentAnswer | null>;
  /** The running total of bytes a client's stored answers have cost (its newest row's `spent`); 0 when it has none. */
  idempotencySpent(client: string): Awaitable<number>;
}

export interface LeadWrites {
  /**
   * Serialises the writes of one lead (campaign × subscriber) until the transaction ends, so two
   * writers of the same lead do what one would. Taken before the lead is read.
   */
  lock(campaignId: number, subscriber: number): Awaitable<void>;
  /** The same for one Idempotency-Key, taken before its stored answer is read. */
  lockIdempotencyKey(key: string): Awaitable<void>;
  insert(row: NewLead): Awaitable<LeadRow>;
  update(id: number, change: LeadChange): Awaitable<LeadRow>;
  insertEvent(row: NewLeadEvent): Awaitable<LeadEventRow>;
  storeIdempotentAnswer(row: IdempotentAnswer): Awaitable<void>;
  /** A client's budget: its stored answers whose running total is at most `spent` (its oldest); how many went. */
  dropIdempotentAnswers(client: string, spent: number): Awaitable<number>;
  /** Retention: up to `limit` stored answers older than `before`; how many went. */
  pruneIdempotencyKeys(before: number, limit: number): Awaitable<number>;
}
