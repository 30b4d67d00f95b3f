// The bulk re-send of the outbox on PostgreSQL: the same plan as SQLite's (src/storage/sqlite/
// outbox-resend.ts, the rule of domain/supersede.ts): a row keeps a lead status when it is channel
// http and its verdict names no ad platform (no "@"); the same destination is the same host;
// later is a greater event_id of the same lead.
import type { PostbackFilter } from "../port.ts";
import type { ResendCounts, ResendRequest } from "../outbox-types.ts";
import { named, num, type Pg } from "./query.ts";

function filterOn(a: string, f: PostbackFilter): string {
  const w: string[] = [];
  if (f.state) w.push(`${a}.state = $state`);
  if (f.status) w.push(`${a}.status = $status`);
  if (f.campaignId !== undefined) w.push(`${a}.campaign_id = $campaignId`);
  if (f.host) w.push(`${a}.host = $host`);
  if (f.leadId !== undefined) w.push(`${a}.lead_id = $leadId`);
  if (f.since !== undefined) w.push(`${a}.created_at >= $since`);
  if (f.until !== undefined) w.push(`${a}.created_at < $until`);
  return w.length ? w.join(" AND ") : "true";
}

function bindings(f: PostbackFilter, req: ResendRequest): Record<string, unknown> {
  const b: Record<string, unknown> = { now: req.now, andLater: req.andLater };
  if (f.state) b.state = f.state;
  if (f.status) b.status = f.status;
  if (f.campaignId !== undefined) b.campaignId = f.campaignId;
  if (f.host) b.host = f.host.toLowerCase();
  if (f.leadId !== undefined) b.leadId = f.leadId;
  if (f.since !== undefined) b.since = f.since;
  if (f.until !== undefined) b.until = f.until;
  return b;
}

const keeps = (a: string) => `(${a}.channel = 'http' AND (${a}.verdict IS NULL OR strpos(${a}.verdict, '@') = 0))`;
const resendable = (a: string) => `(${a}.state <> 'pending' AND NOT (${a}.state = 'skipped' AND coalesce(${a}.reason, '') = 'no_click'))`;
const laterExists = (cond: string) => `EXISTS (SELECT 1 FROM postbacks l
  WHERE l.lead_id = p.lead_id AND l.host = p.host AND l.event_id > p.event_id AND ${keeps("l")} AND ${cond})`;
const IN_FLIGHT = "l.state = 'pending' AND l.lease_expires_at > $now::int8";

const plan = (f: PostbackFilter) => `
  WITH m AS (
    SELECT p.id, p.lead_id, p.host, p.event_id, ${keeps("p")} AS keeps,
      (${keeps("p")} AND ${laterExists(`(l.state = 'delivered' OR (${IN_FLIGHT}))`)}) AS superseded,
      (${keeps("p")} AND ${laterExists(IN_FLIGHT)}) AS held
    FROM postbacks p WHERE ${filterOn("p", f)} AND ${resendable("p")}
  ),
  later AS (
    SELECT DISTINCT l.id FROM m JOIN postbacks l ON l.lead_id = m.lead_id AND l.host = m.host
    WHERE $andLater::boolean AND m.keeps AND NOT m.held AND l.event_id > m.event_id AND l.state IN ('delivered', 'failed', 'rejected')
      AND ${keeps("l")} AND NOT (${filterOn("l", f)})
  )`;

export async function resendCounts(pg: Pg, f: PostbackFilter, req: ResendRequest): Promise<ResendCounts> {
  const [text, params] = named(`${plan(f)}
    SELECT count(*) AS matched, count(*) FILTER (WHERE superseded) AS superseded, count(*) FILTER (WHERE held) AS "heldBack",
      (SELECT count(*) FROM later) AS later FROM m`)(bindings(f, req));
  const r = (await pg.one<Record<string, string>>(text, params))!;
  return { matched: num(r.matched), superseded: num(r.superseded), heldBack: num(r.heldBack), later: num(r.later) };
}

export function requeueResendable(pg: Pg, f: PostbackFilter, req: ResendRequest): Promise<number> {
  const [text, params] = named(`${plan(f)}
    UPDATE postbacks SET state = 'pending', reason = NULL, attempts = 0, earlier_attempts = earlier_attempts + attempts, next_attempt_at = $now::int8, lease_expires_at = NULL,
      lease_token = lease_token + 1, finished_at = NULL, updated_at = $now::int8
    WHERE id IN (SELECT id FROM m WHERE CASE WHEN $andLater::boolean THEN NOT held ELSE NOT superseded END UNION SELECT id FROM later)`)(bindings(f, req));
  return pg.run(text, params);
}
