// The storage port's aggregates of issue 22 (what the buyer paid for): lead profiles (quality
// signals, welcome variant, cohort) and retention cohort counters. Imported by port.ts.
import type { Awaitable } from "./port.ts";
import type { CohortCounterAdd, CohortSumRow, LeadProfileRow } from "./rows.ts";

export interface ProfileReads {
  ofLead(leadId: number): Awaitable<LeadProfileRow | null>;
}

export interface ProfileWrites {
  /** Inserts or replaces the lead's row. */
  save(row: LeadProfileRow): Awaitable<void>;
}

export interface CohortReads {
  /**
   * Counter sums of one campaign per day (its index in `days`, each [start, end) of the first
   * joins), welcome variant and band; one index range of the primary key per day.
   */
  sumsPerDay(campaignId: number, days: readonly (readonly [number, number])[]): Awaitable<CohortSumRow[]>;
  /** The earliest first-join bucket a campaign has cohorts in. */
  firstBucket(campaignId: number): Awaitable<number | null>;
}

export interface CohortWrites {
  add(row: CohortCounterAdd): Awaitable<void>;
}
