// What one inbound log row may keep (src/inbound/log-row.ts): a request without a valid key keeps
// only its time, address and result; any other keeps its parameters capped, with the cut marked.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_LIMITS, boundedLogRow, capParams, capText } from "../../src/inbound/log-row.ts";
import { PRUNE_BATCH, pruneInBatches } from "../../src/ops/retention.ts";
import type { NewInboundLog } from "../../src/storage/rows.ts";
import { openSqliteStorage, type SqliteStorage } from "../../src/storage/sqlite/store.ts";

const bytes = (s: string) => Buffer.byteLength(s);

describe("capText", () => {
  const cases: { name: string; text: string; max: number; expected: string }[] = [
    { name: "short text is kept as it is", text: "approve", max: 256, expected: "approve" },
    { name: "exactly the limit is kept", text: "x".repeat(256), max: 256, expected: "x".repeat(256) },
    { name: "one byte over is cut and marked", text: "x".repeat(257), max: 256, expected: `${"x".repeat(256)}…[+1 bytes]` },
    { name: "a 2-byte character is not split", text: `${"x".repeat(255)}é`, max: 256, expected: `${"x".repeat(255)}…[+2 bytes]` },
    { name: "a 4-byte emoji is not split", text: `ab😀cd`, max: 4, expected: "ab…[+6 bytes]" },
    { name: "a lone surrogate becomes U+FFFD", text: "a\ud800b", max: 256, expected: "a\ufffdb" },
    { name: "a 3-byte character cut after its first byte", text: "ab日", max: 3, expected: "ab…[+3 bytes]" },
    { name: "16 MB are cut without encoding them", text: "é".repeat(8 * 1024 * 1024), max: 5, expected: "éé…[+16777212 bytes]" },
  ];
  test.each(cases)("$name", ({ text, max, expected }) => {
    expect(capText(text, max)).toBe(expected);
  });
});

describe("capParams", () => {
  test("each value at most 256 bytes, each name at most 64, marked when cut", () => {
    const out = capParams({ click: "c".repeat(1000), ["n".repeat(100)]: "v", status: "ok" });
    expect(out).toEqual({ click: `${"c".repeat(256)}…[+744 bytes]`, [`${"n".repeat(64)}…[+36 bytes]`]: "v", status: "ok" });
  });

  test("all together at most 4 KiB: the parameters past it are left out and counted", () => {
    const params = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${String(i).padStart(2, "0")}`, "v".repeat(300)]));
    const out = capParams(params);
    const kept = Object.entries(out).filter(([k]) => k !== "…");
    const keptBytes = kept.reduce((n, [k, v]) => n + bytes(k) + Math.min(bytes(v), LOG_LIMITS.valueBytes + 3), 0);
    expect(kept.length).toBe(15); // 15 × (3 + 256) = 3885 bytes; a 16th would pass 4096
    expect(keptBytes).toBeLessThanOrEqual(LOG_LIMITS.totalBytes);
    expect(out["…"]).toBe("+25 more parameters not kept");
    expect(bytes(JSON.stringify(out))).toBeLessThan(LOG_LIMITS.totalBytes + 1024); // with the marks
  });

  test("small parameters are kept whole", () => {
    expect(capParams({ lead: "7", status: "approve", payout: "1.5" })).toEqual({ lead: "7", status: "approve", payout: "1.5" });
  });
});

describe("boundedLogRow", () => {
  const row = { result: "access", leadId: 5, status: "approve", params: { click: "x".repeat(9000), status: "approve" }, ip: "203.0.113.7", createdAt: 1000 };
  test("a request without a valid key keeps only its time, address and result", () => {
    expect(boundedLogRow(row)).toEqual({ result: "access", leadId: null, status: null, params: {}, ip: "203.0.113.7", createdAt: 1000 });
  });
  test("a request with a valid key keeps its parameters and status word, capped", () => {
    const out = boundedLogRow({ ...row, result: "bad-status", status: "s".repeat(300) });
    expect(out).toMatchObject({ result: "bad-status", leadId: 5, ip: "203.0.113.7", createdAt: 1000 });
    expect(out.status).toBe(`${"s".repeat(256)}…[+44 bytes]`);
    expect(out.params).toEqual({ click: `${"x".repeat(256)}…[+8744 bytes]`, status: "approve" });
  });
});

describe("retention of the inbound log and the journal (real SQLite file)", () => {
  let dir: string;
  let storage: SqliteStorage;
  afterEach(async () => {
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    dir = mkdtempSync(join(tmpdir(), "tgcpa-inbound-log-"));
    storage = openSqliteStorage({ path: join(dir, "tgcpa.db"), synchronous: "NORMAL" });
    return storage;
  };
  const count = (sql: string) => (storage.db.$client.query(sql).get() as { n: number }).n;
  /** Logs rows as the inbound service does: each bounded first. */
  const log = (rows: NewInboundLog[]) => storage.write(async (tx) => {
    for (const row of rows) await tx.inbound.log(boundedLogRow(row));
  });

  test("a 16 MB request without a key stores a row of a few bytes", async () => {
    open();
    await log([{ result: "access", leadId: null, status: null, params: { click: "x".repeat(16 * 1024 * 1024) }, ip: "203.0.113.7", createdAt: 1 }]);
    const stored = storage.db.$client.query("SELECT length(params) + length(ip) + length(result) AS n FROM inbound_log").get() as { n: number };
    expect(stored.n).toBeLessThan(40);
  });

  test("rows older than the retention go, newer stay; key-less rows beyond the newest N go whatever their age", async () => {
    open();
    await log(Array.from({ length: 12_000 }, (_, i) => ({ result: i % 2 ? "access" : "ok", leadId: null, status: null, params: {}, ip: "x", createdAt: i })));
    const pruned = (await pruneInBatches(storage, (tx) => tx.inbound.prune(2000, PRUNE_BATCH)))
      + (await storage.write(async (tx) => tx.inbound.pruneAccessRows(3000)));
    // below 2000: 2000 rows gone; of the 5000 key-less rows left, the oldest 2000 go
    expect(pruned).toBe(4000);
    expect(count("SELECT count(*) AS n FROM inbound_log WHERE result = 'access'")).toBe(3000);
    expect(count("SELECT count(*) AS n FROM inbound_log WHERE result = 'ok'")).toBe(5000);
    expect(count("SELECT min(created_at) AS n FROM inbound_log WHERE result = 'access'")).toBe(12_000 - 2 * 3000 + 1);
    expect(count("SELECT min(created_at) AS n FROM inbound_log")).toBe(2000);
  });

  test("journal entries older than the retention go, in batches past 5000", async () => {
    open();
    await storage.write(async (tx) => {
      for (let i = 0; i < 7000; i++) await tx.journal.insert({ kind: "organic_join", subscriber: i, createdAt: i });
    });
    expect(await pruneInBatches(storage, (tx) => tx.journal.prune(6000, PRUNE_BATCH))).toBe(6000);
    expect(count("SELECT count(*) AS n FROM journal")).toBe(1000);
  });

  test("pruning by time uses the created_at indexes", () => {
    open();
    const plan = (sql: string) => (storage.db.$client.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join("; ");
    expect(plan("SELECT rowid FROM inbound_log WHERE created_at < 5 LIMIT 5000")).toContain("USING COVERING INDEX inbound_log_created");
    expect(plan("SELECT rowid FROM journal WHERE created_at < 5 LIMIT 5000")).toContain("USING COVERING INDEX journal_created");
    expect(plan("SELECT id FROM inbound_log WHERE result = 'access' ORDER BY id DESC LIMIT 1 OFFSET 9999")).toContain("USING COVERING INDEX inbound_log_result");
  });
});
