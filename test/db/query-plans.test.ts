// Every dashboard view answers from an index: the query plans of the searches, the stats and the
// writes on the event path, captured from the SQLite stores' methods themselves, scan no big table.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/storage/sqlite/client.ts";
import { clickGroupAdds, counterAdds } from "../../src/stats/counters.ts";
import { clickRanges } from "../../src/stats/click-groups.ts";
import { sqliteStores } from "../../src/storage/sqlite/store.ts";

const dir = mkdtempSync(join(tmpdir(), "tgcpa-plans-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = openDatabase({ path: join(dir, "t.db"), synchronous: "OFF" });
const s = sqliteStores(db);

/** Runs `fn` and returns the plan of every statement it ran, as "detail | detail" lines. */
function plansOf(fn: () => unknown): string[] {
  const client = db.$client;
  const seen: [string, unknown[]][] = [];
  const prepare = client.prepare.bind(client);
  const query = client.query.bind(client);
  const wrap = (sqlText: string, stmt: any) => new Proxy(stmt, {
    get(target, prop) {
      const v = target[prop];
      if (typeof v === "function" && ["all", "get", "run", "values"].includes(String(prop))) {
        return (...params: unknown[]) => {
          seen.push([sqlText, params]);
          return v.apply(target, params);
        };
      }
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  (client as any).prepare = (s: string, ...rest: unknown[]) => wrap(s, (prepare as any)(s, ...rest));
  (client as any).query = (s: string, ...rest: unknown[]) => wrap(s, (query as any)(s, ...rest));
  try {
    fn();
  } finally {
    (client as any).prepare = prepare;
    (client as any).query = query;
  }
  // Each EXPLAIN statement is finalized: a cached one of a WITH … UPDATE stays "in progress" and fails the next commit.
  return seen.map(([s, params]) => {
    const explain = (prepare as any)(`EXPLAIN QUERY PLAN ${s}`);
    const plan = explain.all(...(params as [])).map((r: any) => r.detail).join(" | ");
    explain.finalize();
    return `${s.replace(/\s+/g, " ").slice(0, 60)} → ${plan}`;
  });
}

const PROFILE = {
  leadId: 1, campaignId: 1, premium: null, language: null, hasUsername: null, startedAt: null, startToJoinMs: null, fastLeave: false, quality: 50,
  qualityReasons: [], welcomeVariant: null, firstJoinedAt: null, cohortBand: null, updatedAt: 0,
};

// A scan of postbacks_open is allowed: it holds only the rows not delivered (the all-time outcomes).
const BIG = /\bSCAN (leads|lead_events|postbacks(?! USING COVERING INDEX postbacks_open)|lead_stats|delivery_attempts|journal|inbound_log|dashboard_sessions|idempotency_keys|lead_profiles|retention_counts|funnel_counts|revenue_counts|campaign_costs|clicks|click_stats)\b/;

test.each([
  ["leads by subscriber in every campaign", () => s.leads.list({ campaignIds: [1, 2, 3], subscriber: 5, limit: 50 })],
  ["leads by click in every campaign", () => s.leads.list({ campaignIds: [1, 2, 3], click: "abc", limit: 50 })],
  ["leads by username", () => s.leads.list({ username: "Alice", limit: 50 })],
  ["a lead's events and postbacks", () => [s.leads.events(1), s.outbox.ofLead(1)]],
  ["postbacks by state", () => s.outbox.list({ state: "failed", limit: 50, beforeId: 1000 })],
  ["postbacks by campaign", () => s.outbox.list({ campaignId: 1, limit: 50 })],
  ["postbacks by host", () => s.outbox.list({ host: "trk.example.com", limit: 50 })],
  ["postbacks of a day", () => s.outbox.list({ since: 86_400_000, until: 172_800_000, limit: 50 })],
  ["failed postbacks of a day", () => s.outbox.list({ state: "failed", since: 86_400_000, until: 172_800_000, limit: 50 })],
  ["a postback's attempts", () => s.outbox.attempts(1)],
  ["a bulk re-send's counts", () => s.outbox.resendCounts({ state: "failed", since: 0 }, { andLater: true, now: 0 })],
  ["a bulk re-send", () => db.$client.transaction(() => s.outbox.requeueResendable({ state: "failed", campaignId: 1 }, { andLater: true, now: 0 }))()],
  ["stats per day", () => s.stats.sumsPerDay(1, [[0, 86_400_000], [86_400_000, 172_800_000]])],
  ["stats: the first bucket", () => s.stats.firstBucket(1)],
  ["join requests approved in a period", () => s.stats.approvedJoinRequests(1, 0, 86_400_000)],
  ["stats: postbacks not delivered", () => s.outbox.undeliveredOf(1, 0, 86_400_000)],
  ["all-time counters", () => [s.stats.totals([1, 2]), s.outbox.undelivered()]],
  ["the counter of an event", () => db.$client.transaction(() => {
    s.leads.hasEarlierEvent(1, 9, "approve");
    s.stats.add(counterAdds({ campaignId: 1, status: "approve", occurredAt: 0 }, false, 1, 0));
  })()],
  ["a session", () => s.sessions.find("a".repeat(64))],
  ["retention cohorts per day", () => [s.cohorts.sumsPerDay(1, [[0, 86_400_000], [86_400_000, 172_800_000]]), s.cohorts.firstBucket(1)]],
  ["the funnel per variant and band", () => s.cohorts.funnel(1, 0, 86_400_000)],
  ["money per day", () => [s.money.revenuePerDay(1, [[0, 86_400_000]]), s.money.costs(1, "2025-01-01", "2025-01-31")]],
  ["a lead's profile written", () => s.profiles.save(PROFILE)],
  ["an event's cohort counters", () => s.cohorts.add({ campaignId: 1, bucket: 0, variant: "", band: "medium", joined: 1, out1d: 0, out7d: 0, out14d: 0, out30d: 0 })],
  ["an event's funnel counters", () => s.cohorts.addFunnel({ campaignId: 1, bucket: 0, variant: "", band: "medium", starts: 1, joins: 0 })],
  ["an event's revenue", () => s.money.addRevenue({ campaignId: 1, bucket: 0, currency: "USD", amountMicros: 1, events: 1 })],
  ["a lead's profile", () => s.profiles.ofLead(1)],
  ["a leave skips the approve waiting for its stay", () => s.outbox.skipWaiting(1, "approve", 0, "left_before_approve_after")],
  ["a Start's click token, a lead's click", () => [s.clicks.byToken("Xk3vQ9aLm2Tb"), s.clicks.get(1)]],
  ["the funnel per click parameter's value in a period", () => s.clicks.groupSums(1, "utm_source", clickRanges(3 * 900_000, 30 * 86_400_000 + 900_000))],
  ["the counters of a click's parameters", () => s.clicks.addGroupCounts(clickGroupAdds({ campaignId: 1, status: "wait", occurredAt: 0 }, true, { utm_source: "fb" }, ["utm_source"]))],
  ["retention of clicks no lead came from", () => s.clicks.pruneUnused(86_400_000, 5000)],
  ["an Idempotency-Key: its answer, its client's running total, the client's oldest beyond the budget", () => db.$client.transaction(() => {
    s.leads.idempotentAnswer("k-1");
    s.leads.idempotencySpent("0123456789abcdef");
    s.leads.dropIdempotentAnswers("0123456789abcdef", 1000);
  })()],
  ["leads of a period", () => s.leads.list({ since: 86_400_000, until: 172_800_000, limit: 50 })],
  ["a campaign's leads of a period", () => s.leads.list({ campaignIds: [1], since: 86_400_000, until: 172_800_000, limit: 50 })],
  ["an export's window of leads, with its events", () => [s.leads.inIdRange({ campaignIds: [1], status: "approve", since: 0 }, 1, 2001), s.leads.eventsOf([1, 2, 3])]],
  ["an export's window of postbacks and its leads' clicks", () => [s.outbox.inIdRange({ state: "delivered", host: "trk.example.com" }, 1, 2001), s.leads.getMany([1, 2])]],
  ["the newest ids", () => [s.leads.maxId(), s.outbox.maxId()]],
  ["a campaign's last Start (the no_starts alert)", () => s.leads.lastEventAt(1, "wait")],
  ["a trace: a subscriber's journal, the rejected Starts carrying a click", () => [s.journal.ofSubscriber(5, ["organic_join", "start_rejected"], 100), s.journal.startsCarrying("abc", 100)]],
  ["the alerts' state", () => s.alerts.current()],
  ["an export's window of leads: their clicks", () => s.clicks.getMany([1, 2, 3])],
] as const)("%s: no scan of a big table", (_name, fn) => {
  const plans = plansOf(fn);
  expect(plans.length).toBeGreaterThan(0);
  expect(plans.filter((p) => BIG.test(p.split(" → ")[1]!))).toEqual([]);
});
