// The funnel of a period per welcome variant and per quality band (issue 22): Start → join from
// the funnel counters, and day-7 retention of the period's cohorts whose day 7 has come.
import { t } from "elysia";
import { QUALITY_BANDS } from "../domain/quality.ts";
import { Int } from "../http/schema.ts";
import { Nullable } from "../http/openapi.ts";
import type { LocalDay } from "../lib/time-zones.ts";
import type { Reads } from "../storage/port.ts";

const DAY_MS = 86_400_000;
const ratio = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

interface Acc { starts: number; joins: number; joined7: number; retained7: number }

function rows(groups: Map<string, Acc>, order: (g: string) => number) {
  return [...groups].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b)).map(([group, g]) => ({
    group, starts: g.starts, joins: g.joins, joins_per_start: ratio(g.joins, g.starts),
    day7_cohort: g.joined7, day7_retained: g.joined7 > 0 ? g.retained7 : null, day7_retention: ratio(g.retained7, g.joined7),
  }));
}

/** One campaign's funnel per variant and per band over [since, until) (`days`/`bounds`: its local days). */
export async function segments(
  read: Pick<Reads, "cohorts">, campaignId: number, since: number, until: number, days: readonly LocalDay[], bounds: readonly (readonly [number, number])[], now: number,
) {
  const byVariant = new Map<string, Acc>();
  const byBand = new Map<string, Acc>();
  const acc = (m: Map<string, Acc>, k: string) => m.get(k) ?? m.set(k, { starts: 0, joins: 0, joined7: 0, retained7: 0 }).get(k)!;
  for (const r of await read.cohorts.funnel(campaignId, since, until)) {
    for (const [m, k] of [[byVariant, r.variant], [byBand, r.band]] as const) {
      const a = acc(m, k);
      a.starts += r.starts;
      a.joins += r.joins;
    }
  }
  for (const r of await read.cohorts.sumsPerDay(campaignId, bounds)) {
    if (days[r.day]!.end + 7 * DAY_MS > now) continue; // day 7 still to come for some of that day's cohort
    for (const [m, k] of [[byVariant, r.variant], [byBand, r.band]] as const) {
      const a = acc(m, k);
      a.joined7 += r.joined;
      a.retained7 += r.joined - r.out7d;
    }
  }
  return { by_variant: rows(byVariant, () => 0), by_quality: rows(byBand, (b) => QUALITY_BANDS.indexOf(b as never)) };
}

const Segment = t.Object({
  group: t.String({ description: "the welcome variant ('' for a plain welcome), or the quality band (low, medium, high)" }),
  starts: Int({ description: "new leads (Starts) in the period; a band is the one at the Start" }),
  joins: Int({ description: "first joins in the period; a band is the one at the join" }),
  joins_per_start: Nullable(t.Number()),
  day7_cohort: Int({ description: "subscribers who first joined in the period on a day whose day 7 has come" }),
  day7_retained: Nullable(Int({ description: "of them, in the chat 7 days after their first join" })),
  day7_retention: Nullable(t.Number()),
});
export const SegmentsSchema = {
  by_variant: t.Array(Segment, { description: "Start → join and day-7 retention per welcome variant" }),
  by_quality: t.Array(Segment, { description: "the same per quality band" }),
};
export const segmentsExample = {
  by_variant: [{ group: "ru", starts: 70, joins: 50, joins_per_start: 0.7143, day7_cohort: 40, day7_retained: 31, day7_retention: 0.775 }],
  by_quality: [{ group: "high", starts: 60, joins: 48, joins_per_start: 0.8, day7_cohort: 38, day7_retained: 33, day7_retention: 0.8684 }],
};
