import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../../src/db/client.ts";
import { OutboxRepository } from "../../src/outbox/claims.ts";

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.$client.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** SQLite's query plan of a statement, its steps joined. */
function plan(db: Db, sqlText: string) {
  return db.$client.query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${sqlText}`).all().map((r) => r.detail).join(" | ");
}

test("a claim reads only the hosts it may take rows from: a blocked host's backlog is never walked", () => {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-hostdue-"));
  dirs.push(dir);
  const db = openDatabase({ path: join(dir, "t.db"), synchronous: "OFF" });
  dbs.push(db);
  db.$client.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('c', 'c', 0, 0)");
  const insert = db.$client.prepare(`INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, created_at, updated_at)
    VALUES (?, 1, 1, 'wait', 't', 'GET', ?, ?, 'pending', ?, 0, 0)`);
  // A paced bot with 20,000 welcomes due first, and a tracker's 10 rows behind them.
  db.$client.transaction(() => {
    for (let i = 0; i < 20_000; i++) insert.run(i, `tg://main/welcome`, "telegram:main", i);
    for (let i = 0; i < 10; i++) insert.run(100_000 + i, `http://trk.example/${i}`, "trk.example", 30_000 + i);
  })();
  const outbox = new OutboxRepository(db);
  const claimed = db.$client.transaction(() => outbox.claimDue(1_000_000, 5, 60_000, ["telegram:main"], () => 100))();
  expect(claimed.map((r) => r.host)).toEqual(Array(5).fill("trk.example"));
  expect(claimed.map((r) => r.url)).toEqual([0, 1, 2, 3, 4].map((i) => `http://trk.example/${i}`));
  // Each host's due rows are one index range: the query plan searches by host, it does not scan.
  expect(plan(db, "SELECT id FROM postbacks INDEXED BY postbacks_host_due WHERE host = 'x' AND state = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at, id")).toContain("SEARCH");
  // and the next wake-up ignores the blocked host too
  expect(outbox.nextDueAt(["telegram:main"])).toBe(30_005);
  expect(outbox.nextDueAt([])).toBe(0);
});
