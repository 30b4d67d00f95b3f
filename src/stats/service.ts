import { STATUSES, type Status } from "../domain/status.ts";
import type { Reads } from "../storage/port.ts";
import type { StatusSums } from "../storage/rows.ts";
import { invalid } from "../lib/errors.ts";
import { segments } from "./segments.ts";
import { clickRanges, groupOf } from "./click-groups.ts";
import { BUCKET_MS, MAX_DAYS, bucketCeil, bucketOf, dayStart, localDate, localDays, nextDate } from "../lib/time-zones.ts";

export type PerStatus = Record<Status, number>;

const zeroes = (): PerStatus => ({ wait: 0, hold: 0, approve: 0, cancel: 0, trash: 0 });

const ratio = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

/**
 * Conversion rates between the funnel steps, from unique leads of one period (not a cohort: a lead
 * that started last week and joined this week counts in this week's joins only). null when the
 * step before has no leads. joins_per_join_request (every join ÷ requests) can exceed 1 when the
 * chat also lets people in without a request; join_requests_approved_per_join_request counts only
 * the joins that came through a request (`approvedRequests`: leads that went hold → approve).
 */
export function conversionRates(leads: PerStatus, approvedRequests: number) {
  return {
    join_requests_per_start: ratio(leads.hold, leads.wait),
    joins_per_start: ratio(leads.approve, leads.wait),
    joins_per_join_request: ratio(leads.approve, leads.hold),
    join_requests_approved_per_join_request: ratio(approvedRequests, leads.hold),
    leaves_per_join: ratio(leads.cancel, leads.approve),
    bans_per_join: ratio(leads.trash, leads.approve),
  };
}

export interface PostbackOutcomes {
  total: number;
  delivered: number;
  pending: number;
  failed: number;
  rejected: number;
  skipped: number;
}

/**
 * Outcomes of the postbacks created in a period: `total` is counted when they are written, the
 * rows not delivered are counted by state; the rest were delivered (also those since pruned by
 * the retention).
 */
export function postbackOutcomes(total: number, open: readonly { state: string; n: number }[]): PostbackOutcomes {
  const out: PostbackOutcomes = { total, delivered: 0, pending: 0, failed: 0, rejected: 0, skipped: 0 };
  for (const { state, n } of open) if (state === "pending" || state === "failed" || state === "rejected" || state === "skipped") out[state] += n;
  out.delivered = Math.max(0, total - out.pending - out.failed - out.rejected - out.skipped);
  return out;
}

export interface StatsRequest {
  timeZone: string;
  /** epoch ms; rounded down to a 15-minute bucket. Default: the first day with counters. */
  since?: number;
  /** epoch ms, exclusive; rounded up to a 15-minute bucket. Default: the end of today in the zone. */
  until?: number;
  campaigns: readonly { id: number; code: string; inConfig: boolean }[];
  /** A click parameter (dashboard.click_groups) to group the funnel by. */
  group?: string;
}

interface CampaignTotals {
  events: PerStatus;
  leads: PerStatus;
  /** Leads whose join request was approved in the period (hold → approve). */
  approvedRequests: number;
  postbacks: number;
  open: { state: string; n: number }[];
}

/**
 * Funnel counts per campaign and per local day of a period, from the 15-minute counters (one
 * index range per day and campaign) and the index of postbacks not delivered.
 */
export async function periodStats(read: Pick<Reads, "stats" | "outbox" | "cohorts" | "clicks">, req: StatsRequest, now: number) {
  const tz = req.timeZone;
  const until = bucketCeil(req.until ?? dayStart(tz, nextDate(localDate(tz, now))));
  let since: number;
  if (req.since !== undefined) since = bucketOf(req.since);
  else {
    const firsts = (await Promise.all(req.campaigns.map((c) => read.stats.firstBucket(c.id)))).filter((b): b is number => b !== null);
    since = dayStart(tz, localDate(tz, firsts.length ? Math.min(...firsts) : Math.min(now, until - BUCKET_MS)));
  }
  if (until - since > MAX_DAYS * 86_400_000) throw invalid(req.since === undefined ? "query.until" : "query.since", `the period is longer than ${MAX_DAYS} days`);
  const days = localDays(tz, since, until);
  const bounds = days.map((d) => [Math.max(d.start, since), Math.min(d.end, until)] as const);

  const items: Record<string, unknown>[] = [];
  const perCampaign: (CampaignTotals & { code: string; inConfig: boolean; segments: Awaited<ReturnType<typeof segments>> })[] = [];
  for (const c of req.campaigns) {
    const totals: CampaignTotals = {
      events: zeroes(), leads: zeroes(), approvedRequests: await read.stats.approvedJoinRequests(c.id, since, until), postbacks: 0,
      open: await read.outbox.undeliveredOf(c.id, since, until),
    };
    const byDay = new Map<number, StatusSums[]>();
    for (const row of await read.stats.sumsPerDay(c.id, bounds)) {
      const list = byDay.get(row.day) ?? [];
      list.push(row);
      byDay.set(row.day, list);
    }
    for (const [day, rows] of [...byDay].sort((a, b) => a[0] - b[0])) {
      const events = zeroes();
      const leads = zeroes();
      for (const r of rows) {
        if (!(STATUSES as readonly string[]).includes(r.status)) continue;
        const s = r.status as Status;
        events[s] += r.events;
        leads[s] += r.leads;
        totals.events[s] += r.events;
        totals.leads[s] += r.leads;
        totals.postbacks += r.postbacks;
      }
      if (STATUSES.some((s) => events[s] > 0)) items.push({ day: days[day]!.date, campaign: c.code, ...events, leads });
    }
    const active = totals.approvedRequests > 0 || totals.postbacks > 0 || totals.open.length > 0 || STATUSES.some((s) => totals.events[s] > 0);
    if (c.inConfig || active) perCampaign.push({ ...totals, code: c.code, inConfig: c.inConfig, segments: await segments(read, c.id, since, until, days, bounds, now) });
  }

  const sum = { events: zeroes(), leads: zeroes(), approvedRequests: 0, postbacks: 0, open: new Map<string, number>() };
  for (const c of perCampaign) {
    for (const s of STATUSES) {
      sum.events[s] += c.events[s];
      sum.leads[s] += c.leads[s];
    }
    sum.approvedRequests += c.approvedRequests;
    sum.postbacks += c.postbacks;
    for (const o of c.open) sum.open.set(o.state, (sum.open.get(o.state) ?? 0) + o.n);
  }
  const summary = (t: { events: PerStatus; leads: PerStatus; approvedRequests: number; postbacks: number }, open: { state: string; n: number }[]) => ({
    events: t.events,
    leads: t.leads,
    join_requests_approved: t.approvedRequests,
    rates: conversionRates(t.leads, t.approvedRequests),
    postbacks: postbackOutcomes(t.postbacks, open),
  });
  return {
    timezone: tz,
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    bucket_minutes: BUCKET_MS / 60_000,
    days: days.map((d) => d.date),
    items,
    campaigns: perCampaign.map((c) => ({ campaign: c.code, in_config: c.inConfig, ...summary(c, c.open), ...c.segments })),
    totals: summary(sum, [...sum.open].map(([state, n]) => ({ state, n }))),
    ...(req.group === undefined ? {} : {
      group: groupOf(req.group, await Promise.all(req.campaigns.map((c) => read.clicks.groupSums(c.id, req.group!, clickRanges(since, until)))), sum),
    }),
  };
}
