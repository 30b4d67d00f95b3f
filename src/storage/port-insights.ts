// The storage port's aggregates of issue 22 (what the buyer paid for): lead profiles (quality
// signals, welcome variant, cohort), retention cohort counters, revenue counters and costs. Imported by port.ts.
import type { Awaitable } from "./port.ts";
import type { CohortCounterAdd, CohortSumRow, CostRow, FunnelAdd, LeadProfileRow, RevenueAdd } from "./rows.ts";

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
  /** Starts and first joins of one campaign in [since, until) per welcome variant and quality band (one primary-key range). */
  funnel(campaignId: number, since: number, until: number): Awaitable<{ variant: string; band: string; starts: number; joins: number }[]>;
  /** The earliest first-join bucket a campaign has cohorts in. */
  firstBucket(campaignId: number): Awaitable<number | null>;
}

export interface CohortWrites {
  add(row: CohortCounterAdd): Awaitable<void>;
  /** Starts and first joins per welcome variant and quality band. */
  addFunnel(row: FunnelAdd): Awaitable<void>;
}

export interface MoneyReads {
  /** Revenue sums of one campaign per day (its index in `days`) and currency. */
  revenuePerDay(campaignId: number, days: readonly (readonly [number, number])[]): Awaitable<{ day: number; currency: string; amountMicros: number; events: number }[]>;
  /** The costs entered for a campaign on the days from `since` to `until` (YYYY-MM-DD, both included). */
  costs(campaignId: number, since: string, until: string): Awaitable<CostRow[]>;
}

export interface MoneyWrites {
  addRevenue(row: RevenueAdd): Awaitable<void>;
  /** Inserts or replaces the cost of the row's campaign and day. */
  putCost(row: CostRow): Awaitable<void>;
}
