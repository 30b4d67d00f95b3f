// The storage port of the click link's clicks and of the funnel per click parameter (click_stats).
import type { Awaitable } from "./port.ts";
import type { ClickGroupSums, ClickRow, NewClick } from "./rows.ts";

/** Minutes a click_stats bucket spans: a quarter hour, or a UTC day. */
export type ClickSpan = 15 | 1440;

/** What one lead event of a lead with a click adds to the counters of one click parameter's value. */
export interface ClickGroupAdd {
  campaignId: number;
  param: string;
  span: ClickSpan;
  /** The bucket of the event's time in that span (epoch ms of its start). */
  bucket: number;
  value: string;
  status: string;
  events: number;
  leads: number;
}

export interface ClickRange {
  span: ClickSpan;
  from: number;
  to: number;
}

export interface ClickReads {
  /** The click a Start payload's token names. */
  byToken(token: string): Awaitable<ClickRow | null>;
  get(id: number): Awaitable<ClickRow | null>;
  /** The clicks of these ids (in no order; missing ones left out): an export's window of leads. */
  getMany(ids: readonly number[]): Awaitable<ClickRow[]>;
  /**
   * Counter sums of one campaign's click parameter, per value and status, over the buckets of each
   * range (a span and [from, to) of bucket starts; stats/click-groups.ts cuts a period into them).
   */
  groupSums(campaignId: number, param: string, ranges: readonly ClickRange[]): Awaitable<ClickGroupSums[]>;
}

export interface ClickWrites {
  insert(row: NewClick): Awaitable<ClickRow>;
  addGroupCounts(counts: readonly ClickGroupAdd[]): Awaitable<void>;
  /** Retention: up to `limit` clicks created before `before` that no lead came from; how many went. */
  pruneUnused(before: number, limit: number): Awaitable<number>;
}
