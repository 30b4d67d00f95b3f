import type { ClickGroupAdd, ClickRange, ClickReads, ClickWrites } from "../port.ts";
import type { ClickGroupSums, ClickRow, NewClick } from "../rows.ts";
import type { Db } from "./client.ts";
import { statement } from "./prepared.ts";

const COLUMNS = `id, token, campaign_id AS campaignId, params, fbc, fbp, ip, user_agent AS userAgent, referrer,
  landing_url AS landingUrl, cut, created_at AS createdAt`;

// Without RETURNING (SQLite materialises it; the row is known here anyway): the click link's one write.
const INSERT = `INSERT INTO clicks (token, campaign_id, params, fbc, fbp, ip, user_agent, referrer, landing_url, cut, created_at)
  VALUES ($token, $campaignId, $params, $fbc, $fbp, $ip, $userAgent, $referrer, $landingUrl, $cut, $createdAt)`;

const BY_TOKEN = `SELECT ${COLUMNS} FROM clicks WHERE token = $token`;
const BY_ID = `SELECT ${COLUMNS} FROM clicks WHERE id = $id`;
// An export's window of leads: their clicks by primary key, the ids as one JSON parameter.
const BY_IDS = `SELECT ${COLUMNS} FROM clicks WHERE id IN (SELECT value FROM json_each($ids))`;

const ADD = `INSERT INTO click_stats (campaign_id, param, span, bucket, value, status, events, leads)
  VALUES ($campaignId, $param, $span, $bucket, $value, $status, $events, $leads)
  ON CONFLICT (campaign_id, param, span, bucket, value, status) DO UPDATE SET
    events = events + excluded.events, leads = leads + excluded.leads`;

// Each range is one range of the primary key (campaign_id, param, span, bucket, …); the ranges come
// as one JSON parameter [[span, from, to], …], summed together per value and status.
const GROUP_SUMS = `WITH ranges AS (SELECT json_extract(value, '$[0]') AS span, json_extract(value, '$[1]') AS s, json_extract(value, '$[2]') AS e FROM json_each($ranges))
  SELECT cs.value AS value, cs.status AS status, sum(cs.events) AS events, sum(cs.leads) AS leads
  FROM ranges CROSS JOIN click_stats cs
  WHERE cs.campaign_id = $campaignId AND cs.param = $param AND cs.span = ranges.span AND cs.bucket >= ranges.s AND cs.bucket < ranges.e
  GROUP BY cs.value, cs.status`;

// Old clicks that no lead came from (leads_click_id answers whether one did).
const PRUNE_UNUSED = `DELETE FROM clicks WHERE id IN (
  SELECT c.id FROM clicks c INDEXED BY clicks_created WHERE c.created_at < $before
    AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.click_id = c.id) LIMIT $limit)`;

type StoredClick = Omit<ClickRow, "params"> & { params: string };

const parsed = (row: StoredClick | null): ClickRow | null => (row ? { ...row, params: JSON.parse(row.params) as Record<string, string> } : null);

/** The click link's clicks and the funnel per click parameter (click_stats). */
export class SqliteClicks implements ClickReads, ClickWrites {
  constructor(private readonly db: Db) {}

  byToken(token: string): ClickRow | null {
    return parsed(statement<StoredClick>(this.db, BY_TOKEN).get({ token }));
  }

  get(id: number): ClickRow | null {
    return parsed(statement<StoredClick>(this.db, BY_ID).get({ id }));
  }

  getMany(ids: readonly number[]): ClickRow[] {
    if (ids.length === 0) return [];
    return statement<StoredClick>(this.db, BY_IDS).all({ ids: JSON.stringify(ids) }).map((r) => parsed(r)!);
  }

  groupSums(campaignId: number, param: string, ranges: readonly ClickRange[]): ClickGroupSums[] {
    if (ranges.length === 0) return [];
    return statement<ClickGroupSums>(this.db, GROUP_SUMS).all({ campaignId, param, ranges: JSON.stringify(ranges.map((r) => [r.span, r.from, r.to])) });
  }

  insert(row: NewClick): ClickRow {
    const { lastInsertRowid } = statement(this.db, INSERT).run({ ...row, params: JSON.stringify(row.params) });
    return { id: Number(lastInsertRowid), ...row };
  }

  addGroupCounts(counts: readonly ClickGroupAdd[]) {
    const add = statement(this.db, ADD);
    for (const c of counts) add.run({ ...c });
  }

  pruneUnused(before: number, limit: number): number {
    return statement(this.db, PRUNE_UNUSED).run({ before, limit: Math.trunc(limit) }).changes;
  }
}
