import type { CounterAdd } from "../storage/port.ts";
import { bucketOf } from "../lib/time-zones.ts";

/**
 * The bucket of each campaign's and status's all-time totals (GET /api/campaigns): one row to read
 * instead of every bucket of every day. Periods never reach it: their bounds are at or after 0.
 */
export const ALL_TIME = -1;

export interface CountedEvent {
  campaignId: number;
  status: string;
  occurredAt: number;
}

/**
 * What one lead event adds to the per-period counters (lead_stats), written in the event's own
 * transaction so the counters can never disagree with the events. `first`: the lead's first
 * event of this status (counted in `leads`). `postbacks`: the outbox rows (http) the event
 * created, counted in the bucket of `now`, their creation time; the event itself in the bucket of
 * its time.
 */
export function counterAdds(event: CountedEvent, first: boolean, postbacks: number, now: number): CounterAdd[] {
  const at = bucketOf(event.occurredAt);
  const created = bucketOf(now);
  const base = { campaignId: event.campaignId, status: event.status };
  const leads = first ? 1 : 0;
  const adds: CounterAdd[] = [{ ...base, bucket: ALL_TIME, events: 1, leads, postbacks }];
  if (at === created || postbacks === 0) {
    adds.push({ ...base, bucket: at, events: 1, leads, postbacks: at === created ? postbacks : 0 });
  } else {
    adds.push({ ...base, bucket: at, events: 1, leads, postbacks: 0 }, { ...base, bucket: created, events: 0, leads: 0, postbacks });
  }
  return adds;
}
