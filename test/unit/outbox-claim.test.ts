import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../../src/storage/sqlite/client.ts";
import { OutboxClaims } from "../../src/storage/sqlite/outbox-claims.ts";

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.$client.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A real database file with one pending postback per [lead, host, due] (ids in that order). */
function outboxWith(rows: [lead: number, host: string, due: number][]) {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-claim-"));
  dirs.push(dir);
  const db = openDatabase({ path: join(dir, "t.db"), synchronous: "FULL" });
  dbs.push(db);
  db.$client.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('c', 'c', 0, 0)");
  const insert = db.$client.prepare(`INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, created_at, updated_at)
    VALUES (?, 1, 1, 'wait', 't', 'GET', ?, ?, 'pending', ?, 0, 0)`);
  db.$client.transaction(() => rows.forEach(([lead, host, due], i) => insert.run(lead, `http://${host}/${i + 1}`, host, due)))();
  const outbox = new OutboxClaims(db);
  const claim = (now: number, limit: number, allowance: Record<string, number>, blocked: string[] = []) =>
    db.$client.transaction(() => outbox.claimDue({ now, limit, leaseMs: 60_000, blocked, allowance: (h) => allowance[h] ?? 0, inFlight: () => false }).map((r) => r.url))();
  return { db, outbox, claim };
}

test("rows skipped for their host's allowance are replaced by later due rows, in due order", () => {
  const { claim } = outboxWith([[1, "a.example", 10], [2, "a.example", 11], [3, "a.example", 12], [4, "a.example", 13], [5, "b.example", 14], [6, "b.example", 14], [7, "b.example", 15]]);
  expect(claim(100, 4, { "a.example": 1, "b.example": 10 })).toEqual(["http://a.example/1", "http://b.example/5", "http://b.example/6", "http://b.example/7"]);
  // Claimed rows are leased: the next claim takes what is left, within the allowance.
  expect(claim(100, 4, { "a.example": 2, "b.example": 10 })).toEqual(["http://a.example/2", "http://a.example/3"]);
});

test("a claim takes only due rows at the head of their lead's line, oldest first", () => {
  const { claim } = outboxWith([[1, "a.example", 30], [1, "a.example", 10], [2, "a.example", 20], [3, "a.example", 200]]);
  // Lead 1's second row is due first but waits for its first (same host, lower id).
  expect(claim(100, 10, { "a.example": 10 })).toEqual(["http://a.example/3", "http://a.example/1"]);
});

test("a claim reads only the hosts it may take rows from: a blocked host's backlog is never walked", () => {
  // A paced bot with 20,000 welcomes due first, and a tracker's 10 rows behind them.
  const rows: [number, string, number][] = [];
  for (let i = 0; i < 20_000; i++) rows.push([i, "telegram.bot", i]);
  for (let i = 0; i < 10; i++) rows.push([100_000 + i, "trk.example", 30_000 + i]);
  const { db, outbox, claim } = outboxWith(rows);
  expect(claim(1_000_000, 5, { "trk.example": 100 }, ["telegram.bot"])).toEqual([20_001, 20_002, 20_003, 20_004, 20_005].map((id) => `http://trk.example/${id}`));
  // Each host's due rows are one index range: the plan searches by host, it does not scan.
  const plan = db.$client.query<{ detail: string }, []>(`EXPLAIN QUERY PLAN SELECT id FROM postbacks INDEXED BY postbacks_host_due
    WHERE host = 'x' AND state = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at, id`).all().map((r) => r.detail).join(" | ");
  expect(plan).toContain("SEARCH");
  expect(plan).not.toContain("SCAN");
  // The next wake-up ignores the blocked host too.
  expect(outbox.nextDueAt(["telegram.bot"])).toBe(30_005);
  expect(outbox.nextDueAt([])).toBe(0);
});
