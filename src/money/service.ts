// GET /api/money: revenue, cost and cost per subscriber per campaign and local day — from the
// revenue counters, the cohort counters (subscribers: first joins; retained on day 7) and the
// entered costs (over the config's). Amounts are decimal strings; currencies are never added together.
import { retentionFigures } from "../domain/cohorts.ts";
import { formatAmount, perHead } from "../domain/money.ts";
import type { CampaignConfig } from "../config/model.ts";
import { retentionPeriod } from "../retention/service.ts";
import type { Reads } from "../storage/port.ts";

export interface MoneyRequest {
  timeZone: string;
  since?: number;
  until?: number;
  campaigns: readonly { id: number; code: string; inConfig: boolean; config?: Pick<CampaignConfig, "costs"> }[];
}

interface Day {
  day: string;
  subscribers: number;
  /** null until day 7 has come for every subscriber of the day. */
  retained7: number | null;
  revenue: Map<string, { micros: number; events: number }>;
  cost: { currency: string; micros: number; source: string } | null;
}

const money = (micros: number | null) => (micros === null ? null : formatAmount(micros));

function dayJson(d: Day) {
  const difference = d.cost ? (d.revenue.get(d.cost.currency)?.micros ?? 0) - d.cost.micros : null;
  return {
    day: d.day,
    subscribers: d.subscribers,
    retained_7: d.retained7,
    revenue: [...d.revenue].sort(([a], [b]) => a.localeCompare(b)).map(([currency, r]) => ({ currency, amount: formatAmount(r.micros), events: r.events })),
    cost: d.cost && { currency: d.cost.currency, amount: formatAmount(d.cost.micros), source: d.cost.source },
    cost_per_subscriber: d.cost ? money(perHead(d.cost.micros, d.subscribers)) : null,
    cost_per_retained_7: d.cost ? money(perHead(d.cost.micros, d.retained7)) : null,
    difference: money(difference),
  };
}

/** Per currency over the period: revenue, cost, their difference, and the cost per subscriber (days with a cost in it). */
function totalsOf(days: readonly Day[]) {
  const currencies = new Set(days.flatMap((d) => [...d.revenue.keys(), ...(d.cost ? [d.cost.currency] : [])]));
  return [...currencies].sort().map((currency) => {
    let revenue = 0;
    let cost = 0;
    let costed = false;
    let subscribers = 0;
    let matureCost = 0;
    let retained = 0;
    let matured = false;
    for (const d of days) {
      revenue += d.revenue.get(currency)?.micros ?? 0;
      if (d.cost?.currency !== currency) continue;
      costed = true;
      cost += d.cost.micros;
      subscribers += d.subscribers;
      if (d.retained7 !== null) {
        matured = true;
        matureCost += d.cost.micros;
        retained += d.retained7;
      }
    }
    return {
      currency, revenue: formatAmount(revenue), cost: costed ? formatAmount(cost) : null, difference: costed ? formatAmount(revenue - cost) : null,
      subscribers: costed ? subscribers : null, cost_per_subscriber: costed ? money(perHead(cost, subscribers)) : null,
      retained_7: matured ? retained : null, cost_per_retained_7: matured ? money(perHead(matureCost, retained)) : null,
    };
  });
}

export async function moneyReport(read: Pick<Reads, "money" | "cohorts">, req: MoneyRequest, now: number) {
  const { since, until, days, bounds } = await retentionPeriod(req, now, (id) => read.cohorts.firstBucket(id));
  const campaigns = [];
  for (const c of req.campaigns) {
    const perDay: Day[] = days.map((d) => ({ day: d.date, subscribers: 0, retained7: null, revenue: new Map(), cost: null }));
    const cohorts = new Map<number, { joined: number; out: Record<1 | 7 | 14 | 30, number> }>();
    for (const r of await read.cohorts.sumsPerDay(c.id, bounds)) {
      const s = cohorts.get(r.day) ?? { joined: 0, out: { 1: 0, 7: 0, 14: 0, 30: 0 } };
      s.joined += r.joined;
      s.out[1] += r.out1d;
      s.out[7] += r.out7d;
      s.out[14] += r.out14d;
      s.out[30] += r.out30d;
      cohorts.set(r.day, s);
    }
    for (const [i, s] of cohorts) {
      perDay[i]!.subscribers = s.joined;
      perDay[i]!.retained7 = retentionFigures(s, days[i]!.end, now)[1]!.retained;
    }
    for (const r of await read.money.revenuePerDay(c.id, bounds)) perDay[r.day]!.revenue.set(r.currency, { micros: r.amountMicros, events: r.events });
    const index = new Map(days.map((d, i) => [d.date, i]));
    for (const cost of c.config?.costs ?? []) {
      const i = index.get(cost.day);
      if (i !== undefined) perDay[i]!.cost = { currency: cost.currency, micros: cost.micros, source: "config" };
    }
    if (days.length) {
      for (const cost of await read.money.costs(c.id, days[0]!.date, days.at(-1)!.date)) {
        const i = index.get(cost.day);
        if (i !== undefined) perDay[i]!.cost = { currency: cost.currency, micros: cost.amountMicros, source: cost.source };
      }
    }
    const active = perDay.filter((d) => d.subscribers > 0 || d.revenue.size > 0 || d.cost !== null);
    if (!c.inConfig && active.length === 0) continue;
    campaigns.push({ campaign: c.code, in_config: c.inConfig, days: active.map(dayJson), totals: totalsOf(active) });
  }
  return { timezone: req.timeZone, since: new Date(since).toISOString(), until: new Date(until).toISOString(), campaigns };
}
