import type { CounterAdd, StatsReads, StatsWrites } from "../port.ts";
import type { StatusSums } from "../rows.ts";
import type { Db } from "./client.ts";
import { statement } from "./prepared.ts";

const ADD = `INSERT INTO lead_stats (campaign_id, bucket, status, events, leads, postbacks)
  VALUES ($campaignId, $bucket, $status, $events, $leads, $postbacks)
  ON CONFLICT (campaign_id, bucket, status) DO UPDATE SET
    events = events + excluded.events, leads = leads + excluded.leads, postbacks = postbacks + excluded.postbacks`;

// The day bounds come as one JSON parameter [[start, end], …]; for each day the primary key
// (campaign_id, bucket, status) gives the range of its buckets.
const PER_DAY = `WITH days AS (SELECT CAST(key AS INTEGER) AS day, json_extract(value, '$[0]') AS s, json_extract(value, '$[1]') AS e FROM json_each($days))
  SELECT days.day AS day, ls.status AS status, sum(ls.events) AS events, sum(ls.leads) AS leads, sum(ls.postbacks) AS postbacks
  FROM days CROSS JOIN lead_stats ls
  WHERE ls.campaign_id = $campaignId AND ls.bucket >= days.s AND ls.bucket < days.e
  GROUP BY days.day, ls.status`;

const FIRST_BUCKET = `SELECT min(bucket) AS first FROM lead_stats WHERE campaign_id = $campaignId AND bucket >= 0`;

/** The bucket of the all-time totals (see stats/counters.ts). */
const TOTALS = `SELECT campaign_id AS campaignId, status, events, leads, postbacks FROM lead_stats WHERE campaign_id = $campaignId AND bucket = -1`;

// The one funnel number the counters cannot give (they count joins whatever came before them), read
// from the events. Served by lead_events_campaign_time (campaign_id, occurred_at): the period's
// events of one campaign, read once (about 1 ms per 10,000 events; the status filter is on the rows).
const APPROVED_FROM_REQUEST = `SELECT count(DISTINCT lead_id) AS n FROM lead_events
  WHERE campaign_id = $campaignId AND occurred_at >= $since AND occurred_at < $until AND status = 'approve' AND prev_status = 'hold'`;

/** The per-period counters (lead_stats), written in the transaction of each lead event. */
export class SqliteStats implements StatsReads, StatsWrites {
  constructor(private readonly db: Db) {}

  sumsPerDay(campaignId: number, days: readonly (readonly [number, number])[]) {
    return statement<StatusSums & { day: number }>(this.db, PER_DAY).all({ campaignId, days: JSON.stringify(days) });
  }

  firstBucket(campaignId: number): number | null {
    return statement<{ first: number | null }>(this.db, FIRST_BUCKET).get({ campaignId })?.first ?? null;
  }

  totals(campaignIds: readonly number[]) {
    const totals = statement<StatusSums & { campaignId: number }>(this.db, TOTALS);
    return campaignIds.flatMap((campaignId) => totals.all({ campaignId }));
  }

  approvedJoinRequests(campaignId: number, since: number, until: number): number {
    return statement<{ n: number }>(this.db, APPROVED_FROM_REQUEST).get({ campaignId, since, until })?.n ?? 0;
  }

  add(counts: readonly CounterAdd[]) {
    const add = statement(this.db, ADD);
    for (const c of counts) add.run({ ...c });
  }
}
