import type { ClickGroupAdd, CounterAdd } from "../storage/port.ts";
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

/**
 * What one lead event of a lead with a click adds to the funnel per click parameter (click_stats):
 * for each parameter of `groups` the click carries (not empty), its value counts the event — and
 * the lead when `first` (its first event of that status with this click) — in the event's
 * 15-minute bucket and in its UTC day (stats/click-groups.ts reads a period from both). A lead
 * without the parameter is in no value: the API gives it as the rest of the total.
 */
export function clickGroupAdds(event: CountedEvent, first: boolean, params: Readonly<Record<string, string>>, groups: readonly string[]): ClickGroupAdd[] {
  const quarter = bucketOf(event.occurredAt);
  const day = Math.floor(event.occurredAt / DAY_MS) * DAY_MS;
  const adds: ClickGroupAdd[] = [];
  for (const param of groups) {
    const value = Object.hasOwn(params, param) ? params[param]!.trim() : "";
    if (value === "") continue;
    const base = { campaignId: event.campaignId, param, value, status: event.status, events: 1, leads: first ? 1 : 0 };
    adds.push({ ...base, span: 15, bucket: quarter }, { ...base, span: 1440, bucket: day });
  }
  return adds;
}

const DAY_MS = 86_400_000;
