// GET /api/retention: cohorts per campaign and local day, from the cohort counters
// (retention_counts) — one index range per day and campaign, whatever the number of leads.
import { RETENTION_DAYS, retentionFigures, type CohortSums, type RetentionDay } from "../domain/cohorts.ts";
import { QUALITY_BANDS } from "../domain/quality.ts";
import { invalid } from "../lib/errors.ts";
import { BUCKET_MS, MAX_DAYS, bucketCeil, bucketOf, dayStart, localDate, localDays, nextDate, type LocalDay } from "../lib/time-zones.ts";
import type { Awaitable, Reads } from "../storage/port.ts";
import type { CohortSumRow } from "../storage/rows.ts";

export const RETENTION_GROUPINGS = ["none", "variant", "quality"] as const;
export type RetentionGrouping = (typeof RETENTION_GROUPINGS)[number];

export interface RetentionRequest {
  timeZone: string;
  /** First-join days from the one holding `since` (default: the first with cohorts) to the one before `until` (default: today's end). */
  since?: number;
  until?: number;
  by: RetentionGrouping;
  campaigns: readonly { id: number; code: string; inConfig: boolean }[];
}

const empty = (): CohortSums => ({ joined: 0, out: { 1: 0, 7: 0, 14: 0, 30: 0 } });
const addInto = (into: CohortSums, r: Pick<CohortSumRow, "joined" | "out1d" | "out7d" | "out14d" | "out30d">) => {
  into.joined += r.joined;
  into.out[1] += r.out1d;
  into.out[7] += r.out7d;
  into.out[14] += r.out14d;
  into.out[30] += r.out30d;
};

const groupOf = (by: RetentionGrouping, r: CohortSumRow) => (by === "variant" ? r.variant : by === "quality" ? r.band : "all");

/**
 * A group's cohorts, one per local day with first joins, and its total per reported day: the
 * cohorts whose day N has come for every member, added up (a younger cohort is left out of that
 * day's total, not counted as 0 %).
 */
function groupFigures(days: readonly LocalDay[], perDay: Map<number, CohortSums>, now: number) {
  const cohorts = [...perDay].sort((a, b) => a[0] - b[0]).map(([i, sums]) => ({
    day: days[i]!.date, joined: sums.joined, retention: retentionFigures(sums, days[i]!.end, now),
  }));
  const total = RETENTION_DAYS.map((n: RetentionDay) => {
    let joined = 0;
    let retained = 0;
    for (const [i, sums] of perDay) {
      if (days[i]!.end + n * 86_400_000 > now) continue;
      joined += sums.joined;
      retained += sums.joined - sums.out[n];
    }
    return { day: n, joined, retained: joined > 0 ? retained : null, share: joined > 0 ? Math.round((retained / joined) * 10_000) / 10_000 : null };
  });
  return { cohorts, total };
}

/** The period's local days: since rounded down to its day's start, until up to its day's end. */
export async function retentionPeriod(
  req: Pick<RetentionRequest, "timeZone" | "since" | "until" | "campaigns">, now: number, first: (campaignId: number) => Awaitable<number | null>,
) {
  const tz = req.timeZone;
  const until = bucketCeil(req.until ?? dayStart(tz, nextDate(localDate(tz, now))));
  let since: number;
  if (req.since !== undefined) since = bucketOf(req.since);
  else {
    const firsts = (await Promise.all(req.campaigns.map((c) => first(c.id)))).filter((b): b is number => b !== null);
    since = dayStart(tz, localDate(tz, firsts.length ? Math.min(...firsts) : Math.min(now, until - BUCKET_MS)));
  }
  if (until - since > MAX_DAYS * 86_400_000) throw invalid(req.since === undefined ? "query.until" : "query.since", `the period is longer than ${MAX_DAYS} days`);
  const days = localDays(tz, since, until);
  return { since, until, days, bounds: days.map((d) => [Math.max(d.start, since), Math.min(d.end, until)] as const) };
}

export async function retention(read: Pick<Reads, "cohorts">, req: RetentionRequest, now: number) {
  const { since, until, days, bounds } = await retentionPeriod(req, now, (id) => read.cohorts.firstBucket(id));
  const campaigns = [];
  for (const c of req.campaigns) {
    const groups = new Map<string, Map<number, CohortSums>>();
    for (const row of await read.cohorts.sumsPerDay(c.id, bounds)) {
      const name = groupOf(req.by, row);
      const perDay = groups.get(name) ?? new Map<number, CohortSums>();
      const sums = perDay.get(row.day) ?? empty();
      addInto(sums, row);
      perDay.set(row.day, sums);
      groups.set(name, perDay);
    }
    if (!c.inConfig && groups.size === 0) continue;
    // Bands in their order; variants by name ('' = the campaign's one plain welcome).
    const order = (name: string) => (req.by === "quality" ? QUALITY_BANDS.indexOf(name as never) : 0);
    const names = [...groups.keys()].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
    campaigns.push({
      campaign: c.code, in_config: c.inConfig,
      groups: names.map((name) => ({ group: name, ...groupFigures(days, groups.get(name)!, now) })),
    });
  }
  return {
    timezone: req.timeZone, since: new Date(since).toISOString(), until: new Date(until).toISOString(), by: req.by,
    days_after: [...RETENTION_DAYS], campaigns,
  };
}
