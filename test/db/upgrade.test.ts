import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/storage/sqlite/client.ts";
import { OutboxClaims } from "../../src/storage/sqlite/outbox-claims.ts";
import { migrationJournal, migrationSql } from "../../src/storage/sqlite/migrations.generated.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database file as a release with the migrations before `tag` left it (as drizzle records them). */
function databaseBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-upgrade-"));
  dirs.push(dir);
  const path = join(dir, "old.db");
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)");
  for (const entry of migrationJournal.entries) {
    if (entry.tag === tag) break;
    const text = migrationSql[entry.tag]!;
    for (const stmt of text.split("--> statement-breakpoint")) db.run(stmt);
    db.run("INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)", [new Bun.CryptoHasher("sha256").update(text).digest("hex"), entry.when]);
  }
  db.close();
  return path;
}

test("upgrading a database with postbacks leased by the old process: they are claimed again when their lease expires, not before", () => {
  const path = databaseBefore("0004_lease_in_due_index");
  const old = new Database(path);
  old.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('c', 'c', 0, 0)");
  const insert = old.prepare(`INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, attempts,
    next_attempt_at, lease_token, lease_expires_at, created_at, updated_at) VALUES (?, 1, 1, 'wait', 't', 'GET', ?, 'h.example', 'pending', ?, 1000, ?, ?, 0, 0)`);
  insert.run(1, "http://h.example/leased", 1, 1, 60_000); // in flight in the old process, lease until t=60 s
  insert.run(2, "http://h.example/due", 0, 0, null);
  old.close();

  const db = openDatabase({ path, synchronous: "FULL" });
  const outbox = new OutboxClaims(db);
  expect(outbox.nextDueAt([])).toBe(1000);
  const claim = (now: number) => db.$client.transaction(() => outbox.claimDue({ now, limit: 10, leaseMs: 100_000, blocked: [], allowance: () => 10, inFlight: () => false }).map((r) => r.url))();
  expect(claim(2000)).toEqual(["http://h.example/due"]);
  expect(outbox.nextDueAt([])).toBe(60_000); // the old process's lease
  expect(claim(59_999)).toEqual([]);
  expect(claim(60_000)).toEqual(["http://h.example/leased"]);
  expect(outbox.nextDueAt([])).toBe(102_000); // the first row claimed here, at its own lease's expiry
  db.$client.close();
});

test("upgrading to the dashboard counters counts the events and postbacks already in the database", () => {
  const path = databaseBefore("0007_dashboard");
  const old = new Database(path);
  old.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('c', 'c', 0, 0)");
  old.run("INSERT INTO leads (campaign_id, subscriber, status, created_at, updated_at) VALUES (1, 1, 'approve', 0, 0), (1, 2, 'approve', 0, 0)");
  const at = Date.UTC(2024, 4, 1, 10, 7); // bucket 10:00
  const ev = old.prepare("INSERT INTO lead_events (lead_id, campaign_id, status, source, occurred_at, created_at) VALUES (?, 1, ?, 'api', ?, 0)");
  ev.run(1, "wait", at);
  ev.run(1, "approve", at + 60_000);
  ev.run(1, "cancel", at + 120_000);
  ev.run(1, "approve", at + 20 * 60_000); // a re-join, next bucket: an event, not a new lead
  ev.run(2, "wait", at + 20 * 60_000);
  const pb = old.prepare(`INSERT INTO postbacks (channel, lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, created_at, updated_at)
    VALUES (?, 1, 1, 1, 'wait', 't', 'GET', 'http://h/', 'h', ?, 0, ?, 0)`);
  pb.run("http", "delivered", at);
  pb.run("http", "failed", at);
  pb.run("telegram", "delivered", at); // a welcome message, not a postback to a tracker
  old.close();

  const db = openDatabase({ path, synchronous: "FULL" });
  const rows = db.$client.query("SELECT bucket, status, events, leads, postbacks FROM lead_stats ORDER BY bucket, status").all();
  const b0 = Date.UTC(2024, 4, 1, 10, 0);
  const b1 = Date.UTC(2024, 4, 1, 10, 15);
  expect(rows).toEqual([
    { bucket: -1, status: "approve", events: 2, leads: 1, postbacks: 0 }, // all-time totals
    { bucket: -1, status: "cancel", events: 1, leads: 1, postbacks: 0 },
    { bucket: -1, status: "wait", events: 2, leads: 2, postbacks: 2 },
    { bucket: b0, status: "approve", events: 1, leads: 1, postbacks: 0 },
    { bucket: b0, status: "cancel", events: 1, leads: 1, postbacks: 0 },
    { bucket: b0, status: "wait", events: 1, leads: 1, postbacks: 2 },
    { bucket: b1, status: "approve", events: 1, leads: 0, postbacks: 0 },
    { bucket: b1, status: "wait", events: 1, leads: 1, postbacks: 0 },
  ]);
  db.$client.close();
});
