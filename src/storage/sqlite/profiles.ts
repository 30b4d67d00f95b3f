import type { CohortReads, CohortWrites, ProfileReads, ProfileWrites } from "../port-insights.ts";
import type { CohortCounterAdd, CohortSumRow, FunnelAdd, LeadProfileRow } from "../rows.ts";
import type { Db } from "./client.ts";
import { statement } from "./prepared.ts";

const PROFILE = `SELECT lead_id AS leadId, campaign_id AS campaignId, premium, language, has_username AS hasUsername,
  started_at AS startedAt, start_to_join_ms AS startToJoinMs, fast_leave AS fastLeave, quality, quality_reasons AS qualityReasons,
  welcome_variant AS welcomeVariant, first_joined_at AS firstJoinedAt, cohort_band AS cohortBand, updated_at AS updatedAt
  FROM lead_profiles WHERE lead_id = $leadId`;

const SAVE = `INSERT OR REPLACE INTO lead_profiles (lead_id, campaign_id, premium, language, has_username, started_at, start_to_join_ms,
  fast_leave, quality, quality_reasons, welcome_variant, first_joined_at, cohort_band, updated_at)
  VALUES ($leadId, $campaignId, $premium, $language, $hasUsername, $startedAt, $startToJoinMs, $fastLeave, $quality, $qualityReasons,
  $welcomeVariant, $firstJoinedAt, $cohortBand, $updatedAt)`;

type StoredProfile = Omit<LeadProfileRow, "premium" | "hasUsername" | "fastLeave" | "qualityReasons"> & {
  premium: number | null; hasUsername: number | null; fastLeave: number; qualityReasons: string;
};

const bool = (v: number | null) => (v === null ? null : v !== 0);
const bit = (v: boolean | null) => (v === null ? null : v ? 1 : 0);

/** Lead profiles (lead_profiles): one row per lead, rewritten with each of its events. */
export class SqliteProfiles implements ProfileReads, ProfileWrites {
  constructor(private readonly db: Db) {}

  ofLead(leadId: number): LeadProfileRow | null {
    const r = statement<StoredProfile>(this.db, PROFILE).get({ leadId });
    if (!r) return null;
    return { ...r, premium: bool(r.premium), hasUsername: bool(r.hasUsername), fastLeave: r.fastLeave !== 0, qualityReasons: JSON.parse(r.qualityReasons) };
  }

  save(row: LeadProfileRow) {
    statement(this.db, SAVE).run({
      ...row, premium: bit(row.premium), hasUsername: bit(row.hasUsername), fastLeave: row.fastLeave ? 1 : 0, qualityReasons: JSON.stringify(row.qualityReasons),
    });
  }
}

const ADD = `INSERT INTO retention_counts (campaign_id, bucket, variant, band, joined, out_1d, out_7d, out_14d, out_30d)
  VALUES ($campaignId, $bucket, $variant, $band, $joined, $out1d, $out7d, $out14d, $out30d)
  ON CONFLICT (campaign_id, bucket, variant, band) DO UPDATE SET joined = joined + excluded.joined,
    out_1d = out_1d + excluded.out_1d, out_7d = out_7d + excluded.out_7d, out_14d = out_14d + excluded.out_14d, out_30d = out_30d + excluded.out_30d`;

// As lead_stats' PER_DAY: the day bounds as one JSON parameter; the primary key (campaign_id, bucket, …) gives each day's range.
const PER_DAY = `WITH days AS (SELECT CAST(key AS INTEGER) AS day, json_extract(value, '$[0]') AS s, json_extract(value, '$[1]') AS e FROM json_each($days))
  SELECT days.day AS day, rc.variant AS variant, rc.band AS band, sum(rc.joined) AS joined, sum(rc.out_1d) AS out1d,
    sum(rc.out_7d) AS out7d, sum(rc.out_14d) AS out14d, sum(rc.out_30d) AS out30d
  FROM days CROSS JOIN retention_counts rc
  WHERE rc.campaign_id = $campaignId AND rc.bucket >= days.s AND rc.bucket < days.e
  GROUP BY days.day, rc.variant, rc.band`;

const FIRST_BUCKET = `SELECT min(bucket) AS first FROM retention_counts WHERE campaign_id = $campaignId`;

const ADD_FUNNEL = `INSERT INTO funnel_counts (campaign_id, bucket, variant, band, starts, joins) VALUES ($campaignId, $bucket, $variant, $band, $starts, $joins)
  ON CONFLICT (campaign_id, bucket, variant, band) DO UPDATE SET starts = starts + excluded.starts, joins = joins + excluded.joins`;

const FUNNEL = `SELECT variant, band, sum(starts) AS starts, sum(joins) AS joins FROM funnel_counts
  WHERE campaign_id = $campaignId AND bucket >= $since AND bucket < $until GROUP BY variant, band`;

/** Retention cohort counters (retention_counts), written in the transaction of each join and leave. */
export class SqliteCohorts implements CohortReads, CohortWrites {
  constructor(private readonly db: Db) {}

  sumsPerDay(campaignId: number, days: readonly (readonly [number, number])[]): CohortSumRow[] {
    return statement<CohortSumRow>(this.db, PER_DAY).all({ campaignId, days: JSON.stringify(days) });
  }

  firstBucket(campaignId: number): number | null {
    return statement<{ first: number | null }>(this.db, FIRST_BUCKET).get({ campaignId })?.first ?? null;
  }

  add(row: CohortCounterAdd) {
    statement(this.db, ADD).run({ ...row });
  }

  funnel(campaignId: number, since: number, until: number) {
    return statement<{ variant: string; band: string; starts: number; joins: number }>(this.db, FUNNEL).all({ campaignId, since, until });
  }

  addFunnel(row: FunnelAdd) {
    statement(this.db, ADD_FUNNEL).run({ ...row });
  }
}
