// The bulk re-send's SQL (storage/sqlite/outbox-resend.ts) applies domain/supersede.ts's rule to
// many leads at once: on a seeded outbox of awkward lead histories (two hosts, ad-platform and Bot
// API rows, rows in flight, leases run out, two templates of one event, no_click rows), its counts
// and the rows it queues are exactly what planResend says row by row, for every filter tried.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AND_LATER_STATES, isResendable, planResend } from "../../src/domain/supersede.ts";
import { POSTBACK_STATES, STATUSES } from "../../src/domain/status.ts";
import type { PostbackFilter } from "../../src/storage/port.ts";
import type { PostbackRow } from "../../src/storage/rows.ts";
import { openDatabase } from "../../src/storage/sqlite/client.ts";
import { SqliteOutbox } from "../../src/storage/sqlite/outbox.ts";
import { rng } from "../helpers/seeded-random.ts";

const dir = mkdtempSync(join(tmpdir(), "tgcpa-resend-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = openDatabase({ path: join(dir, "t.db"), synchronous: "OFF" });
const outbox = new SqliteOutbox(db);
const NOW = 5_000_000;

// ---- a seeded outbox ----
const random = rng(24_7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const insert = db.$client.prepare(`INSERT INTO postbacks (channel, lead_id, event_id, campaign_id, status, template, method, url, verdict, host,
  state, reason, attempts, next_attempt_at, lease_token, lease_expires_at, created_at, updated_at, finished_at)
  VALUES ($channel, $lead, $event, $campaign, $status, 't', 'GET', 'http://x/', $verdict, $host, $state, $reason, 1, 0, 0, $lease, $created, 0, NULL)`);
let event = 0;
for (let lead = 1; lead <= 150; lead++) {
  const campaign = 1 + (lead % 2);
  for (let n = 1 + Math.floor(random() * 6); n > 0; n--) {
    if (random() > 0.15) event++; // now and then a second template of the same event
    const state = pick(POSTBACK_STATES);
    const lease = state === "pending" ? pick([null, NOW + 60_000, NOW - 1]) : null; // queued, in flight, lease run out
    const reason = state === "skipped" ? pick(["no_click", "campaign_paused"]) : state === "failed" ? "gave up" : null;
    const channel = random() < 0.08 ? "telegram" : "http";
    insert.run({
      $channel: channel, $lead: lead, $event: event, $campaign: campaign, $status: pick(STATUSES), $verdict: pick(["keitaro", null, "meta-capi@fb"]),
      $host: pick(["a.example:8080", "b.example"]), $state: state, $reason: reason, $lease: lease, $created: event * 1000,
    });
  }
}
const all = db.$client.query("SELECT id FROM postbacks").all().map((r: any) => outbox.get(r.id)!) as PostbackRow[];
const byLead = Map.groupBy(all, (r) => r.leadId);

/** The filter in JS, as the store reads it. */
const matches = (r: PostbackRow, f: PostbackFilter) =>
  (!f.state || r.state === f.state) && (!f.status || r.status === f.status) && (f.campaignId === undefined || r.campaignId === f.campaignId)
  && (!f.host || r.host === f.host) && (f.since === undefined || r.createdAt >= f.since) && (f.until === undefined || r.createdAt < f.until);

/** What planResend says of a bulk re-send, row by row. */
function expected(f: PostbackFilter, andLater: boolean) {
  const matched = all.filter((r) => matches(r, f) && isResendable(r));
  const plans = matched.map((r) => ({ r, alone: planResend(r, byLead.get(r.leadId)!, false, NOW), withLater: planResend(r, byLead.get(r.leadId)!, true, NOW) }));
  const queued = new Set<number>();
  for (const p of plans) {
    const plan = andLater ? p.withLater : p.alone;
    if (plan.kind === "send") for (const r of plan.rows) queued.add(r.id);
  }
  const matchedIds = new Set(matched.map((r) => r.id));
  return {
    counts: {
      matched: matched.length,
      superseded: plans.filter((p) => p.alone.kind !== "send").length,
      heldBack: plans.filter((p) => p.withLater.kind === "later_in_flight").length,
      later: andLater ? [...queued].filter((id) => !matchedIds.has(id)).length : 0,
    },
    queued: [...queued].sort((a, b) => a - b),
  };
}

/** The ids requeueResendable changes, the change rolled back. */
function queuedBySql(f: PostbackFilter, andLater: boolean): number[] {
  db.$client.run("SAVEPOINT t");
  try {
    const n = outbox.requeueResendable(f, { andLater, now: NOW + 7 });
    const ids = db.$client.query("SELECT id FROM postbacks WHERE updated_at = ? ORDER BY id").all(NOW + 7).map((r: any) => r.id as number);
    expect(ids).toHaveLength(n);
    return ids;
  } finally {
    db.$client.run("ROLLBACK TO t");
    db.$client.run("RELEASE t");
  }
}

const FILTERS: [string, PostbackFilter][] = [
  ["failed", { state: "failed" }],
  ["delivered", { state: "delivered" }],
  ["rejected to one host", { state: "rejected", host: "a.example:8080" }],
  ["skipped", { state: "skipped" }],
  ["failed approves", { state: "failed", status: "approve" }],
  ["failed of campaign 2", { state: "failed", campaignId: 2 }],
  ["delivered in a period", { state: "delivered", since: 100_000, until: 400_000 }],
];

describe("the bulk re-send's SQL is planResend for every row", () => {
  test("the seeded outbox has every case", () => {
    expect(AND_LATER_STATES.every((st) => all.some((r) => r.state === st))).toBe(true);
    expect(expected({ state: "failed" }, false).counts.superseded).toBeGreaterThan(5);
    expect(expected({ state: "failed" }, true).counts.heldBack).toBeGreaterThan(0);
    expect(expected({ state: "failed" }, true).counts.later).toBeGreaterThan(5);
  });

  test.each(FILTERS.flatMap(([name, f]) => [[`${name}`, f, false], [`${name}, and_later`, f, true]] as const))("%s", (_name, f, andLater) => {
    const want = expected(f, andLater);
    expect(outbox.resendCounts(f, { andLater, now: NOW })).toEqual(want.counts);
    expect(queuedBySql(f, andLater)).toEqual(want.queued);
  });
});
