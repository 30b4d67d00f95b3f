// The funnel per value of a click parameter (GET /api/stats?group=): which counter rows a period
// reads, and the answer they make. Pure: the storage answers the sums of the ranges.
import { STATUSES, type Status } from "../domain/status.ts";
import type { ClickRange } from "../storage/port.ts";

import { conversionRates, type PerStatus } from "./service.ts";

const DAY_MS = 86_400_000;

/**
 * The counter ranges of a period [since, until) (both on 15-minute bounds): its whole UTC days from
 * the day rows, the parts before the first and after the last whole day from the 15-minute rows.
 * 30 days of a value-rich parameter: 30 day rows and at most 2 × 96 quarter rows per value and status.
 */
export function clickRanges(since: number, until: number): ClickRange[] {
  if (until <= since) return [];
  const firstDay = Math.ceil(since / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(until / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return [{ span: 15, from: since, to: until }];
  const ranges: ClickRange[] = [];
  if (since < firstDay) ranges.push({ span: 15, from: since, to: firstDay });
  ranges.push({ span: 1440, from: firstDay, to: lastDay });
  if (lastDay < until) ranges.push({ span: 15, from: lastDay, to: until });
  return ranges;
}

/** Values shown one by one; the rest are summed as `others`. */
export const MAX_GROUP_VALUES = 100;

type GroupRow = { value: string; status: string; events: number; leads: number };

const zeroes = (): PerStatus => ({ wait: 0, hold: 0, approve: 0, cancel: 0, trash: 0 });

const rates = (leads: PerStatus) => {
  const { join_requests_approved_per_join_request: _, ...rest } = conversionRates(leads, 0); // not counted per value
  return rest;
};

const sumOf = (list: readonly { events: PerStatus; leads: PerStatus }[]) => {
  const out = { events: zeroes(), leads: zeroes() };
  for (const v of list) for (const s of STATUSES) {
    out.events[s] += v.events[s];
    out.leads[s] += v.leads[s];
  }
  return out;
};

/**
 * The funnel per value of one click parameter, summed over the campaigns, the values with the most
 * unique Starts first; `without`: the leads of the period whose click did not carry the parameter,
 * or who had no click (the campaign totals less every value).
 */
export function groupOf(param: string, perCampaign: readonly (readonly GroupRow[])[], totals: { events: PerStatus; leads: PerStatus }) {
  const byValue = new Map<string, { events: PerStatus; leads: PerStatus }>();
  for (const rows of perCampaign) {
    for (const r of rows) {
      if (!(STATUSES as readonly string[]).includes(r.status)) continue;
      const s = r.status as Status;
      const g = byValue.get(r.value) ?? { events: zeroes(), leads: zeroes() };
      g.events[s] += r.events;
      g.leads[s] += r.leads;
      byValue.set(r.value, g);
    }
  }
  const values = [...byValue].map(([value, g]) => ({ value, ...g }))
    .sort((a, b) => b.leads.wait - a.leads.wait || b.leads.approve - a.leads.approve || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const all = sumOf(values);
  const rest = values.slice(MAX_GROUP_VALUES);
  const others = sumOf(rest);
  const without = { events: zeroes(), leads: zeroes() };
  for (const s of STATUSES) {
    without.events[s] = Math.max(0, totals.events[s] - all.events[s]);
    without.leads[s] = Math.max(0, totals.leads[s] - all.leads[s]);
  }
  return {
    param,
    values: values.slice(0, MAX_GROUP_VALUES).map((v) => ({ ...v, rates: rates(v.leads) })),
    others: rest.length ? { values: rest.length, ...others, rates: rates(others.leads) } : null,
    without: { ...without, rates: rates(without.leads) },
  };
}


