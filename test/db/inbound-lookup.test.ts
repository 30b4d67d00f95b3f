// An inbound postback finds its lead by click, with or without a campaign, through an index: the
// plan SQLite chooses for the repository's own query (no scan of leads, no sort), and the lookup
// still returns the newest lead with that click.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../../src/storage/sqlite/client.ts";
import { SqliteLeads, leadByClickQuery } from "../../src/storage/sqlite/leads.ts";

const leadByClick = (db: Db, click: string, campaignId?: number) => new SqliteLeads(db).byClick(click, campaignId);

let dir: string;
let db: Db;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tgcpa-lookup-"));
  db = openDatabase({ path: join(dir, "tgcpa.db"), synchronous: "NORMAL" });
  const sqlite = db.$client;
  sqlite.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('a', 'a', 0, 0), ('b', 'b', 0, 0)");
  const insert = sqlite.prepare("INSERT INTO leads (campaign_id, subscriber, click, status, created_at, updated_at) VALUES (?, ?, ?, 'wait', 0, 0)");
  sqlite.transaction(() => {
    for (let i = 0; i < 20_000; i++) insert.run(1 + (i % 2), i, `clk-${i % 5000}`);
  })();
  sqlite.run("ANALYZE");
});

afterAll(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** EXPLAIN QUERY PLAN of the repository's query, one line per step. */
function plan(campaignId?: number): string[] {
  const { sql, params } = leadByClickQuery(db, "clk-7", campaignId).toSQL();
  return (db.$client.query(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as never[])) as { detail: string }[]).map((r) => r.detail);
}

test("by click without a campaign: an index search on leads_click, no scan, no sort", () => {
  const steps = plan();
  expect(steps).toEqual([expect.stringMatching(/^SEARCH leads USING INDEX leads_click \(click=\?\)$/)]);
});

test("by click with a campaign: an index search (leads_campaign_click), no scan, no sort", () => {
  const steps = plan(1);
  expect(steps).toEqual([expect.stringMatching(/^SEARCH leads USING INDEX leads_campaign_click \(campaign_id=\? AND click=\?\)$/)]);
});

test("the lookup returns the newest lead with the click", () => {
  // clk-7 belongs to subscribers 7, 5007, 10007, 15007 (campaigns b, b, b, b: i odd → campaign 2)
  expect(leadByClick(db, "clk-7")?.subscriber).toBe(15_007);
  expect(leadByClick(db, "clk-8")?.subscriber).toBe(15_008);
  expect(leadByClick(db, "clk-8", 1)?.subscriber).toBe(15_008);
  expect(leadByClick(db, "clk-8", 2)).toBeNull();
});
