import type { MoneyReads, MoneyWrites } from "../port-insights.ts";
import type { CostRow, RevenueAdd } from "../rows.ts";
import type { Db } from "./client.ts";
import { statement } from "./prepared.ts";

const ADD = `INSERT INTO revenue_counts (campaign_id, bucket, currency, amount_micros, events) VALUES ($campaignId, $bucket, $currency, $amountMicros, $events)
  ON CONFLICT (campaign_id, bucket, currency) DO UPDATE SET amount_micros = amount_micros + excluded.amount_micros, events = events + excluded.events`;

// As lead_stats' PER_DAY: one primary-key range per day.
const PER_DAY = `WITH days AS (SELECT CAST(key AS INTEGER) AS day, json_extract(value, '$[0]') AS s, json_extract(value, '$[1]') AS e FROM json_each($days))
  SELECT days.day AS day, rc.currency AS currency, sum(rc.amount_micros) AS amountMicros, sum(rc.events) AS events
  FROM days CROSS JOIN revenue_counts rc
  WHERE rc.campaign_id = $campaignId AND rc.bucket >= days.s AND rc.bucket < days.e
  GROUP BY days.day, rc.currency`;

const COSTS = `SELECT campaign_id AS campaignId, day, currency, amount_micros AS amountMicros, source, updated_at AS updatedAt
  FROM campaign_costs WHERE campaign_id = $campaignId AND day >= $since AND day <= $until ORDER BY day`;

const PUT = `INSERT OR REPLACE INTO campaign_costs (campaign_id, day, currency, amount_micros, source, updated_at)
  VALUES ($campaignId, $day, $currency, $amountMicros, $source, $updatedAt)`;

/** Revenue counters (revenue_counts) and entered costs (campaign_costs). */
export class SqliteMoney implements MoneyReads, MoneyWrites {
  constructor(private readonly db: Db) {}

  revenuePerDay(campaignId: number, days: readonly (readonly [number, number])[]) {
    return statement<{ day: number; currency: string; amountMicros: number; events: number }>(this.db, PER_DAY).all({ campaignId, days: JSON.stringify(days) });
  }

  costs(campaignId: number, since: string, until: string): CostRow[] {
    return statement<CostRow>(this.db, COSTS).all({ campaignId, since, until });
  }

  addRevenue(row: RevenueAdd) {
    statement(this.db, ADD).run({ ...row });
  }

  putCost(row: CostRow) {
    statement(this.db, PUT).run({ ...row });
  }
}
