import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { bucketOf } from "../lib/time-zones.ts";
import { undeliveredPostbacks } from "../outbox/repository.ts";

type Params = Record<string, string | number | null>;

const statement = <Row = unknown>(db: Db, sqlText: string) =>
  prepared(db, sqlText, (d) => d.$client.prepare<Row, [Params]>(sqlText));

const COUNT = `INSERT INTO lead_stats (campaign_id, bucket, status, events, leads, postbacks)
  VALUES ($campaignId, $bucket, $status, $events, $leads, $postbacks)
  ON CONFLICT (campaign_id, bucket, status) DO UPDATE SET
    events = events + excluded.events, leads = leads + excluded.leads, postbacks = postbacks + excluded.postbacks`;

/**
 * The bucket of each campaign's and status's all-time totals (GET /api/campaigns): one row to read
 * instead of every bucket of every day. Periods never reach it: their bounds are at or after 0.
 */
export const ALL_TIME = -1;

// Served by lead_events_lead (lead_id, id): the few events of one lead.
const EARLIER_OF_STATUS = `SELECT 1 AS x FROM lead_events WHERE lead_id = $leadId AND id < $eventId AND status = $status LIMIT 1`;

export interface CountedEvent {
  id: number;
  leadId: number;
  campaignId: number;
  status: string;
  occurredAt: number;
}

/**
 * Adds one lead event to the per-period counters, inside the event's own transaction (so the
 * counters can never disagree with the events). `newLead`: the event created its lead, so it is
 * that lead's first of its status without a look-up. `postbacks`: outbox rows (http) it created,
 * counted in the bucket of `now`, their creation time.
 */
export function countLeadEvent(db: Db, event: CountedEvent, newLead: boolean, postbacks: number, now: number): void {
  const first = newLead || statement(db, EARLIER_OF_STATUS).get({ leadId: event.leadId, eventId: event.id, status: event.status }) === null;
  const at = bucketOf(event.occurredAt);
  const created = bucketOf(now);
  const count = statement(db, COUNT);
  const base = { campaignId: event.campaignId, status: event.status };
  count.run({ ...base, bucket: ALL_TIME, events: 1, leads: first ? 1 : 0, postbacks });
  if (at === created || postbacks === 0) {
    count.run({ ...base, bucket: at, events: 1, leads: first ? 1 : 0, postbacks: at === created ? postbacks : 0 });
    return;
  }
  count.run({ ...base, bucket: at, events: 1, leads: first ? 1 : 0, postbacks: 0 });
  count.run({ ...base, bucket: created, events: 0, leads: 0, postbacks });
}

export interface StatusSums {
  status: string;
  events: number;
  leads: number;
  postbacks: number;
}

// The day bounds come as one JSON parameter [[start, end], …]; for each day the primary key
// (campaign_id, bucket, status) gives the range of its buckets.
const PER_DAY = `WITH days AS (SELECT CAST(key AS INTEGER) AS day, json_extract(value, '$[0]') AS s, json_extract(value, '$[1]') AS e FROM json_each($days))
  SELECT days.day AS day, ls.status AS status, sum(ls.events) AS events, sum(ls.leads) AS leads, sum(ls.postbacks) AS postbacks
  FROM days CROSS JOIN lead_stats ls
  WHERE ls.campaign_id = $campaignId AND ls.bucket >= days.s AND ls.bucket < days.e
  GROUP BY days.day, ls.status`;

/** Counter sums of one campaign per day (index into `days`) and status. */
export const sumsPerDay = (db: Db, campaignId: number, days: readonly (readonly [number, number])[]) =>
  statement<StatusSums & { day: number }>(db, PER_DAY).all({ campaignId, days: JSON.stringify(days) });

const FIRST_BUCKET = `SELECT min(bucket) AS first FROM lead_stats WHERE campaign_id = $campaignId AND bucket >= 0`;

/** The earliest bucket a campaign has counters in, or null. */
export const firstBucket = (db: Db, campaignId: number) =>
  statement<{ first: number | null }>(db, FIRST_BUCKET).get({ campaignId })?.first ?? null;

const TOTALS = `SELECT campaign_id AS campaignId, status, events, leads, postbacks FROM lead_stats WHERE campaign_id = $campaignId AND bucket = ${ALL_TIME}`;
/** All-time counters per campaign and status, and the postbacks not delivered per campaign and state. */
export function allTimeCounters(db: Db, campaignIds: readonly number[]) {
  const totals = statement<StatusSums & { campaignId: number }>(db, TOTALS);
  return { sums: campaignIds.flatMap((campaignId) => totals.all({ campaignId })), open: undeliveredPostbacks(db) };
}
