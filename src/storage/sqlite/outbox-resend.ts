// The bulk re-send of the outbox (POST /api/postbacks/retry): the rows of a filter, without those a
// later delivered row of their lead supersedes — or, with and_later, each followed by its lead's
// later rows. The rule is domain/supersede.ts (planResend) applied to many leads in SQL: a row
// keeps a lead status when it is channel http and its verdict names no ad platform (no "@"); the
// same destination is the same host; later is a greater event_id of the same lead.
import type { PostbackFilter } from "../port.ts";
import type { ResendCounts, ResendRequest } from "../outbox-types.ts";
import type { Db } from "./client.ts";
import { statement, type Bindings } from "./prepared.ts";

/** The filter on rows of alias `a` (named parameters as in `bindings`). */
function filterOn(a: string, f: PostbackFilter): string {
  const w: string[] = [];
  if (f.state) w.push(`${a}.state = $state`);
  if (f.status) w.push(`${a}.status = $status`);
  if (f.campaignId !== undefined) w.push(`${a}.campaign_id = $campaignId`);
  if (f.host) w.push(`${a}.host = $host`);
  if (f.leadId !== undefined) w.push(`${a}.lead_id = $leadId`);
  if (f.since !== undefined) w.push(`${a}.created_at >= $since`);
  if (f.until !== undefined) w.push(`${a}.created_at < $until`);
  return w.length ? w.join(" AND ") : "1";
}

function bindings(f: PostbackFilter, req: ResendRequest): Bindings {
  const b: Bindings = { now: req.now, andLater: req.andLater ? 1 : 0 };
  if (f.state) b.state = f.state;
  if (f.status) b.status = f.status;
  if (f.campaignId !== undefined) b.campaignId = f.campaignId;
  if (f.host) b.host = f.host.toLowerCase();
  if (f.leadId !== undefined) b.leadId = f.leadId;
  if (f.since !== undefined) b.since = f.since;
  if (f.until !== undefined) b.until = f.until;
  return b;
}

const keeps = (a: string) => `(${a}.channel = 'http' AND (${a}.verdict IS NULL OR instr(${a}.verdict, '@') = 0))`;
const resendable = (a: string) => `(${a}.state <> 'pending' AND NOT (${a}.state = 'skipped' AND coalesce(${a}.reason, '') = 'no_click'))`;
/** A later row of p's lead to p's host, of a later event, that keeps a lead status, and `cond`; one index range of postbacks_lead. */
const laterExists = (cond: string) => `EXISTS (SELECT 1 FROM postbacks l INDEXED BY postbacks_lead
  WHERE l.lead_id = p.lead_id AND l.host = p.host AND l.event_id > p.event_id AND ${keeps("l")} AND ${cond})`;
const IN_FLIGHT = "l.state = 'pending' AND l.lease_expires_at > $now";

/**
 * m: the matched rows, each marked superseded (a later row delivered, or being sent) and held (a
 * later row being sent: it cannot go now even with and_later). later: with and_later, the rows
 * that follow a matched row that can go — sent before (delivered, failed, rejected), not matched themselves.
 */
const plan = (f: PostbackFilter) => `
  WITH m AS (
    SELECT p.id, p.lead_id, p.host, p.event_id, ${keeps("p")} AS keeps,
      (${keeps("p")} AND ${laterExists(`(l.state = 'delivered' OR (${IN_FLIGHT}))`)}) AS superseded,
      (${keeps("p")} AND ${laterExists(IN_FLIGHT)}) AS held
    FROM postbacks p WHERE ${filterOn("p", f)} AND ${resendable("p")}
  ),
  later AS (
    SELECT DISTINCT l.id FROM m JOIN postbacks l INDEXED BY postbacks_lead ON l.lead_id = m.lead_id AND l.host = m.host
    WHERE $andLater AND m.keeps AND NOT m.held AND l.event_id > m.event_id AND l.state IN ('delivered', 'failed', 'rejected')
      AND ${keeps("l")} AND NOT (${filterOn("l", f)})
  )`;

export function resendCounts(db: Db, f: PostbackFilter, req: ResendRequest): ResendCounts {
  const text = `${plan(f)}
    SELECT count(*) AS matched, coalesce(sum(superseded), 0) AS superseded, coalesce(sum(held), 0) AS heldBack,
      (SELECT count(*) FROM later) AS later FROM m`;
  return statement<ResendCounts>(db, text).get(bindings(f, req))!;
}

/** Queues again what resendCounts counts as queued, due now with a fresh ladder (the attempts so far move to earlier_attempts, as requeue does); how many. */
export function requeueResendable(db: Db, f: PostbackFilter, req: ResendRequest): number {
  const text = `${plan(f)}
    UPDATE postbacks SET state = 'pending', reason = NULL, attempts = 0, earlier_attempts = earlier_attempts + attempts, next_attempt_at = $now, lease_expires_at = NULL,
      lease_token = lease_token + 1, finished_at = NULL, updated_at = $now
    WHERE id IN (SELECT id FROM m WHERE CASE WHEN $andLater THEN NOT held ELSE NOT superseded END UNION SELECT id FROM later)`;
  return statement(db, text).run(bindings(f, req)).changes;
}
