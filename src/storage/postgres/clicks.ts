// The click link's clicks and the funnel per click parameter (click_stats) on PostgreSQL, answering
// as src/storage/sqlite/clicks.ts.
import type { ClickGroupAdd, ClickRange, ClickReads, ClickWrites } from "../port.ts";
import type { ClickGroupSums, ClickRow, NewClick } from "../rows.ts";
import { num, type Pg } from "./query.ts";
import { LATE } from "./insights.ts";
import { CLICK } from "./rows.ts";
import type { LateWrites } from "./stores.ts";

export class PgClicks implements ClickReads, ClickWrites {
  constructor(private readonly pg: Pg, private readonly late?: LateWrites) {}

  async byToken(token: string): Promise<ClickRow | null> {
    const row = await this.pg.one(`SELECT ${CLICK.columns()} FROM clicks WHERE token = $1`, [token]);
    return row && CLICK.map(row);
  }

  async get(id: number): Promise<ClickRow | null> {
    const row = await this.pg.one(`SELECT ${CLICK.columns()} FROM clicks WHERE id = $1`, [id]);
    return row && CLICK.map(row);
  }

  async getMany(ids: readonly number[]): Promise<ClickRow[]> {
    if (ids.length === 0) return [];
    return (await this.pg.all(`SELECT ${CLICK.columns()} FROM clicks WHERE id = ANY($1::int8[]) ORDER BY id`, [[...ids]])).map(CLICK.map);
  }

  async groupSums(campaignId: number, param: string, ranges: readonly ClickRange[]): Promise<ClickGroupSums[]> {
    if (ranges.length === 0) return [];
    const rows = await this.pg.all(`SELECT cs.value, cs.status, sum(cs.events) AS events, sum(cs.leads) AS leads
      FROM unnest($3::int4[], $4::int8[], $5::int8[]) AS r(span, s, e) CROSS JOIN click_stats cs
      WHERE cs.campaign_id = $1 AND cs.param = $2 AND cs.span = r.span AND cs.bucket >= r.s AND cs.bucket < r.e
      GROUP BY cs.value, cs.status ORDER BY cs.value COLLATE "C", cs.status COLLATE "C"`,
    [campaignId, param, ranges.map((r) => r.span), ranges.map((r) => r.from), ranges.map((r) => r.to)]);
    return rows.map((r) => ({ value: r.value as string, status: r.status as string, events: num(r.events), leads: num(r.leads) }));
  }

  async insert(row: NewClick): Promise<ClickRow> {
    const [{ id }] = await this.pg.all<{ id: string }>(`INSERT INTO clicks (token, campaign_id, params, fbc, fbp, ip, user_agent, referrer, landing_url, cut, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [row.token, row.campaignId, row.params, row.fbc, row.fbp, row.ip, row.userAgent, row.referrer, row.landingUrl, row.cut, row.createdAt]) as [{ id: string }];
    return { id: num(id), ...row };
  }

  /** One statement, rows in key order (the same rows of every event of a campaign: locked in one order by all writers). */
  async addGroupCounts(counts: readonly ClickGroupAdd[]): Promise<void> {
    if (counts.length === 0) return;
    if (this.late) return this.late(LATE.clicks, JSON.stringify([counts[0]!.campaignId, counts[0]!.param]), () => this.upsertGroupCounts(counts));
    return this.upsertGroupCounts(counts);
  }

  private async upsertGroupCounts(counts: readonly ClickGroupAdd[]): Promise<void> {
    const merged = new Map<string, ClickGroupAdd>();
    for (const c of counts) {
      const key = JSON.stringify([c.campaignId, c.param, c.span, c.bucket, c.value, c.status]);
      const m = merged.get(key);
      merged.set(key, m ? { ...m, events: m.events + c.events, leads: m.leads + c.leads } : { ...c });
    }
    const rows = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    await this.pg.run(`INSERT INTO click_stats (campaign_id, param, span, bucket, value, status, events, leads)
      SELECT c, p, sp, b, v, s, e, l FROM unnest($1::int8[], $2::text[], $3::int4[], $4::int8[], $5::text[], $6::text[], $7::int4[], $8::int4[])
        WITH ORDINALITY AS t(c, p, sp, b, v, s, e, l, ord) ORDER BY ord
      ON CONFLICT (campaign_id, param, span, bucket, value, status) DO UPDATE SET
        events = click_stats.events + excluded.events, leads = click_stats.leads + excluded.leads`,
    [rows.map((r) => r.campaignId), rows.map((r) => r.param), rows.map((r) => r.span), rows.map((r) => r.bucket), rows.map((r) => r.value),
      rows.map((r) => r.status), rows.map((r) => r.events), rows.map((r) => r.leads)]);
  }

  pruneUnused(before: number, limit: number): Promise<number> {
    return this.pg.run(`DELETE FROM clicks WHERE id IN (
      SELECT c.id FROM clicks c WHERE c.created_at < $1 AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.click_id = c.id) LIMIT ${Math.trunc(limit)})`, [before]);
  }
}
