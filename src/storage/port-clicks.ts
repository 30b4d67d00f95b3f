// The storage port of the click link's clicks and of the funnel per click parameter (click_stats).
import type { Awaitable } from "./port.ts";
import type { ClickGroupSums, ClickRow, NewClick } from "./rows.ts";

/** What one lead event of a lead with a click adds to the counters of one click parameter's value. */
export interface ClickGroupAdd {
  campaignId: number;
  param: string;
  /** 15-minute bucket of the event's time (epoch ms of its start). */
  bucket: number;
  value: string;
  status: string;
  events: number;
  leads: number;
}

export interface ClickReads {
  /** The click a Start payload's token names. */
  byToken(token: string): Awaitable<ClickRow | null>;
  get(id: number): Awaitable<ClickRow | null>;
  /** Counter sums of one campaign's click parameter over buckets in [since, until), per value and status. */
  groupSums(campaignId: number, param: string, since: number, until: number): Awaitable<ClickGroupSums[]>;
}

export interface ClickWrites {
  insert(row: NewClick): Awaitable<ClickRow>;
  addGroupCounts(counts: readonly ClickGroupAdd[]): Awaitable<void>;
  /** Retention: up to `limit` clicks created before `before` that no lead came from; how many went. */
  pruneUnused(before: number, limit: number): Awaitable<number>;
}
