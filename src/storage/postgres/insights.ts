// Lead profiles, retention cohort and funnel counters, revenue counters and costs on PostgreSQL
// (src/storage/port-insights.ts), answering as the SQLite stores (src/storage/sqlite/profiles.ts, money.ts).
import type { CohortReads, CohortWrites, MoneyReads, MoneyWrites, ProfileReads, ProfileWrites } from "../port-insights.ts";
import type { CohortCounterAdd, CohortSumRow, CostRow, FunnelAdd, LeadProfileRow, RevenueAdd } from "../rows.ts";
import { num, numOrNull, type Pg } from "./query.ts";
import { COST, PROFILE } from "./rows.ts";
import type { LateWrites } from "./stores.ts";

/** The order of the counter tables' late upserts (stores.ts LateWrites). */
export const LATE = { funnel: 1, retention: 2, revenue: 3, clicks: 4 } as const;

const later = (late: LateWrites | undefined, table: number, key: unknown[], run: () => Promise<void>) =>
  late ? (late(table, JSON.stringify(key), run), Promise.resolve()) : run();

/** The day bounds as two arrays; each day's index (0-based) comes back as `day`. */
const daysOf = (days: readonly (readonly [number, number])[]) => [days.map((d) => d[0]), days.map((d) => d[1])];

export class PgProfiles implements ProfileReads, ProfileWrites {
  constructor(private readonly pg: Pg) {}

  async ofLead(leadId: number): Promise<LeadProfileRow | null> {
    const row = await this.pg.one(`SELECT ${PROFILE.columns()} FROM lead_profiles WHERE lead_id = $1`, [leadId]);
    return row && PROFILE.map(row);
  }

  async save(r: LeadProfileRow): Promise<void> {
    await this.pg.run(`INSERT INTO lead_profiles (lead_id, campaign_id, premium, language, has_username, started_at, start_to_join_ms,
        fast_leave, quality, quality_reasons, welcome_variant, first_joined_at, cohort_band, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
      ON CONFLICT (lead_id) DO UPDATE SET campaign_id = excluded.campaign_id, premium = excluded.premium, language = excluded.language,
        has_username = excluded.has_username, started_at = excluded.started_at, start_to_join_ms = excluded.start_to_join_ms,
        fast_leave = excluded.fast_leave, quality = excluded.quality, quality_reasons = excluded.quality_reasons,
        welcome_variant = excluded.welcome_variant, first_joined_at = excluded.first_joined_at, cohort_band = excluded.cohort_band,
        updated_at = excluded.updated_at`,
    [r.leadId, r.campaignId, r.premium, r.language, r.hasUsername, r.startedAt, r.startToJoinMs, r.fastLeave, r.quality, r.qualityReasons,
      r.welcomeVariant, r.firstJoinedAt, r.cohortBand, r.updatedAt]);
  }
}

export class PgCohorts implements CohortReads, CohortWrites {
  constructor(private readonly pg: Pg, private readonly late?: LateWrites) {}

  async sumsPerDay(campaignId: number, days: readonly (readonly [number, number])[]): Promise<CohortSumRow[]> {
    const rows = await this.pg.all(`SELECT (d.ord - 1)::int AS day, rc.variant, rc.band, sum(rc.joined) AS joined, sum(rc.out_1d) AS out1d,
        sum(rc.out_7d) AS out7d, sum(rc.out_14d) AS out14d, sum(rc.out_30d) AS out30d
      FROM unnest($2::int8[], $3::int8[]) WITH ORDINALITY AS d(s, e, ord) CROSS JOIN retention_counts rc
      WHERE rc.campaign_id = $1 AND rc.bucket >= d.s AND rc.bucket < d.e
      GROUP BY d.ord, rc.variant, rc.band ORDER BY d.ord, rc.variant COLLATE "C", rc.band COLLATE "C"`, [campaignId, ...daysOf(days)]);
    return rows.map((r) => ({
      day: r.day as number, variant: r.variant as string, band: r.band as string, joined: num(r.joined), out1d: num(r.out1d),
      out7d: num(r.out7d), out14d: num(r.out14d), out30d: num(r.out30d),
    }));
  }

  async funnel(campaignId: number, since: number, until: number) {
    const rows = await this.pg.all(`SELECT variant, band, sum(starts) AS starts, sum(joins) AS joins FROM funnel_counts
      WHERE campaign_id = $1 AND bucket >= $2 AND bucket < $3 GROUP BY variant, band ORDER BY variant COLLATE "C", band COLLATE "C"`, [campaignId, since, until]);
    return rows.map((r) => ({ variant: r.variant as string, band: r.band as string, starts: num(r.starts), joins: num(r.joins) }));
  }

  async firstBucket(campaignId: number): Promise<number | null> {
    return numOrNull((await this.pg.one(`SELECT min(bucket) AS first FROM retention_counts WHERE campaign_id = $1`, [campaignId]))?.first);
  }

  add(r: CohortCounterAdd): Promise<void> {
    return later(this.late, LATE.retention, [r.campaignId, r.bucket, r.variant, r.band], async () => void await this.pg.run(`INSERT INTO retention_counts (campaign_id, bucket, variant, band, joined, out_1d, out_7d, out_14d, out_30d)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (campaign_id, bucket, variant, band) DO UPDATE SET joined = retention_counts.joined + excluded.joined,
        out_1d = retention_counts.out_1d + excluded.out_1d, out_7d = retention_counts.out_7d + excluded.out_7d,
        out_14d = retention_counts.out_14d + excluded.out_14d, out_30d = retention_counts.out_30d + excluded.out_30d`,
    [r.campaignId, r.bucket, r.variant, r.band, r.joined, r.out1d, r.out7d, r.out14d, r.out30d]));
  }

  addFunnel(r: FunnelAdd): Promise<void> {
    return later(this.late, LATE.funnel, [r.campaignId, r.bucket, r.variant, r.band], async () => void await this.pg.run(`INSERT INTO funnel_counts (campaign_id, bucket, variant, band, starts, joins) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (campaign_id, bucket, variant, band) DO UPDATE SET starts = funnel_counts.starts + excluded.starts, joins = funnel_counts.joins + excluded.joins`,
    [r.campaignId, r.bucket, r.variant, r.band, r.starts, r.joins]));
  }
}

export class PgMoney implements MoneyReads, MoneyWrites {
  constructor(private readonly pg: Pg, private readonly late?: LateWrites) {}

  async revenuePerDay(campaignId: number, days: readonly (readonly [number, number])[]) {
    const rows = await this.pg.all(`SELECT (d.ord - 1)::int AS day, rc.currency, sum(rc.amount_micros) AS "amountMicros", sum(rc.events) AS events
      FROM unnest($2::int8[], $3::int8[]) WITH ORDINALITY AS d(s, e, ord) CROSS JOIN revenue_counts rc
      WHERE rc.campaign_id = $1 AND rc.bucket >= d.s AND rc.bucket < d.e
      GROUP BY d.ord, rc.currency ORDER BY d.ord, rc.currency COLLATE "C"`, [campaignId, ...daysOf(days)]);
    return rows.map((r) => ({ day: r.day as number, currency: r.currency as string, amountMicros: num(r.amountMicros), events: num(r.events) }));
  }

  async costs(campaignId: number, since: string, until: string): Promise<CostRow[]> {
    return (await this.pg.all(`SELECT ${COST.columns()} FROM campaign_costs WHERE campaign_id = $1 AND day >= $2 AND day <= $3 ORDER BY day COLLATE "C"`,
      [campaignId, since, until])).map(COST.map);
  }

  addRevenue(r: RevenueAdd): Promise<void> {
    return later(this.late, LATE.revenue, [r.campaignId, r.bucket, r.currency], async () => void await this.pg.run(`INSERT INTO revenue_counts (campaign_id, bucket, currency, amount_micros, events) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (campaign_id, bucket, currency) DO UPDATE SET amount_micros = revenue_counts.amount_micros + excluded.amount_micros,
        events = revenue_counts.events + excluded.events`, [r.campaignId, r.bucket, r.currency, r.amountMicros, r.events]));
  }

  async putCost(r: CostRow): Promise<void> {
    await this.pg.run(`INSERT INTO campaign_costs (campaign_id, day, currency, amount_micros, source, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (campaign_id, day) DO UPDATE SET currency = excluded.currency, amount_micros = excluded.amount_micros,
        source = excluded.source, updated_at = excluded.updated_at`, [r.campaignId, r.day, r.currency, r.amountMicros, r.source, r.updatedAt]);
  }
}
