import type { CounterAdd, StatsReads, StatsWrites } from "../port.ts";
import type { StatusSums } from "../rows.ts";
import { num, numOrNull, type Pg } from "./query.ts";

const sums = (r: Record<string, unknown>): StatusSums => ({ status: r.status as string, events: num(r.events), leads: num(r.leads), postbacks: num(r.postbacks) });

/**
 * Adds counters in one statement, rows in key order. Every lead event of a campaign adds to the
 * same few rows (its 15-minute bucket, the all-time totals), which stay locked until the adding
 * transaction commits: the engine runs this last, right before COMMIT, so concurrent writers
 * queue on those rows only for the commit itself — and always lock them in the same order.
 */
export async function addCounters(pg: Pg, counts: readonly CounterAdd[]): Promise<void> {
  const merged = new Map<string, CounterAdd>();
  for (const c of counts) {
    const key = `${c.campaignId}\n${c.bucket}\n${c.status}`;
    const m = merged.get(key);
    if (m) merged.set(key, { ...m, events: m.events + c.events, leads: m.leads + c.leads, postbacks: m.postbacks + c.postbacks });
    else merged.set(key, { ...c });
  }
  if (merged.size === 0) return;
  const rows = [...merged.values()].sort((a, b) => a.campaignId - b.campaignId || a.bucket - b.bucket || (a.status < b.status ? -1 : a.status > b.status ? 1 : 0));
  await pg.run(`INSERT INTO lead_stats (campaign_id, bucket, status, events, leads, postbacks)
    SELECT c, b, s, e, l, p FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int4[], $5::int4[], $6::int4[]) WITH ORDINALITY AS t(c, b, s, e, l, p, ord)
    ORDER BY ord
    ON CONFLICT (campaign_id, bucket, status) DO UPDATE SET
      events = lead_stats.events + excluded.events, leads = lead_stats.leads + excluded.leads, postbacks = lead_stats.postbacks + excluded.postbacks`,
  [rows.map((r) => r.campaignId), rows.map((r) => r.bucket), rows.map((r) => r.status), rows.map((r) => r.events), rows.map((r) => r.leads), rows.map((r) => r.postbacks)]);
}

/**
 * The per-period counters (lead_stats). In a write transaction `add` only collects (`defer`): the
 * engine writes them with addCounters when the transaction's work is done.
 */
export class PgStats implements StatsReads, StatsWrites {
  constructor(private readonly pg: Pg, private readonly defer: ((counts: readonly CounterAdd[]) => void) | null = null) {}

  async sumsPerDay(campaignId: number, days: readonly (readonly [number, number])[]) {
    const rows = await this.pg.all(`SELECT (d.ord - 1)::int AS day, ls.status, sum(ls.events) AS events, sum(ls.leads) AS leads, sum(ls.postbacks) AS postbacks
      FROM unnest($2::int8[], $3::int8[]) WITH ORDINALITY AS d(s, e, ord)
      CROSS JOIN lead_stats ls
      WHERE ls.campaign_id = $1 AND ls.bucket >= d.s AND ls.bucket < d.e
      GROUP BY d.ord, ls.status ORDER BY d.ord, ls.status COLLATE "C"`, [campaignId, days.map((d) => d[0]), days.map((d) => d[1])]);
    return rows.map((r) => ({ day: r.day as number, ...sums(r) }));
  }

  async firstBucket(campaignId: number): Promise<number | null> {
    return numOrNull((await this.pg.one(`SELECT min(bucket) AS first FROM lead_stats WHERE campaign_id = $1 AND bucket >= 0`, [campaignId]))?.first);
  }

  /** As SQLite answers them: campaign by campaign in the order given, each one's statuses in key order. */
  async totals(campaignIds: readonly number[]) {
    if (campaignIds.length === 0) return [];
    const rows = await this.pg.all(`SELECT ls.campaign_id AS "campaignId", ls.status, ls.events, ls.leads, ls.postbacks
      FROM unnest($1::int8[]) WITH ORDINALITY AS c(id, ord) JOIN lead_stats ls ON ls.campaign_id = c.id AND ls.bucket = -1
      ORDER BY c.ord, ls.status COLLATE "C"`, [[...campaignIds]]);
    return rows.map((r) => ({ campaignId: num(r.campaignId), ...sums(r) }));
  }

  async approvedJoinRequests(campaignId: number, since: number, until: number): Promise<number> {
    const row = await this.pg.one(`SELECT count(DISTINCT lead_id) AS n FROM lead_events
      WHERE campaign_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND status = 'approve' AND prev_status = 'hold'`, [campaignId, since, until]);
    return num(row?.n ?? 0);
  }

  async add(counts: readonly CounterAdd[]): Promise<void> {
    if (this.defer) this.defer(counts);
    else await addCounters(this.pg, counts);
  }
}
