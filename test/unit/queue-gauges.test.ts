import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../../src/storage/sqlite/client.ts";
import { SqliteOutbox } from "../../src/storage/sqlite/outbox.ts";

const queueGauges = (db: Db, now: number) => new SqliteOutbox(db).queueGauges(now);

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.$client.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A real database file holding a backlog: `due` rows waiting since 1-`due` s before NOW, plus rows that are not due. */
function backlog(due: number) {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-gauges-"));
  dirs.push(dir);
  const db = openDatabase({ path: join(dir, "t.db"), synchronous: "NORMAL" });
  dbs.push(db);
  db.$client.run("INSERT INTO campaigns (code, name, created_at, updated_at) VALUES ('c', 'c', 0, 0)");
  const insert = db.$client.prepare(`INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, lease_expires_at, created_at, updated_at)
    VALUES (?, 1, 1, 'wait', 't', 'GET', 'http://trk.example/pb', 'trk.example', ?, ?, ?, 0, 0)`);
  db.$client.transaction(() => {
    for (let i = 1; i <= due; i++) insert.run(i, "pending", NOW - i * 1000, null);
    insert.run(due + 1, "pending", NOW + 60_000, null); // a retry later: not due
    insert.run(due + 2, "pending", NOW + 30_000, NOW + 30_000); // in flight: its lease ends in 30 s
    insert.run(due + 3, "failed", NOW - 10 * 86_400_000, null); // finished rows never count
    insert.run(due + 4, "delivered", NOW - 10 * 86_400_000, null);
  })();
  return db;
}

test("under a backlog: depth counts the due rows, oldest is the earliest due time", () => {
  const db = backlog(5000);
  expect(queueGauges(db, NOW)).toEqual({ depth: 5000, oldest: NOW - 5000 * 1000 });
});

test("an empty queue: depth 0, no oldest", () => {
  const db = backlog(0);
  expect(queueGauges(db, NOW)).toEqual({ depth: 0, oldest: null });
});
