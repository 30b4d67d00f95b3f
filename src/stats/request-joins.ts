// How many join requests of a period ended in a join: the one funnel number the 15-minute counters
// cannot give, since they count joins (approve) whatever came before them. Read from the events.
import type { Db } from "../db/client.ts";
import { statement } from "../db/prepared.ts";

// Served by lead_events_campaign_time (campaign_id, occurred_at): the period's events of one
// campaign, read once (about 1 ms per 10,000 events of the period; the status filter is on the rows).
const APPROVED_FROM_REQUEST = `SELECT count(DISTINCT lead_id) AS n FROM lead_events
  WHERE campaign_id = $campaignId AND occurred_at >= $since AND occurred_at < $until AND status = 'approve' AND prev_status = 'hold'`;

/** Unique leads of a campaign whose join request was approved (hold → approve) between since and until (epoch ms, until exclusive). */
export function approvedJoinRequests(db: Db, campaignId: number, since: number, until: number): number {
  return statement<{ n: number }>(db, APPROVED_FROM_REQUEST).get({ campaignId, since, until })?.n ?? 0;
}
