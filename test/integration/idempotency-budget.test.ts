/**
 * Idempotency-Key storage is bounded per client (issue 24, item 6): an authenticated client grew
 * the database by 4.5 KB per key (75,719 keys in 8 s → +343 MB). Now each API key's stored answers
 * take at most storage.idempotency_mib_per_api_key, the oldest going first, and each answer is
 * stored without what the database keeps anyway (the lead's click, its events) — while a replay
 * still answers byte for byte what the first request got. Sizes are SQLite's own (dbstat).
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { outboxSettled } from "../helpers/service/api-client.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { queryDb, sqliteOnly } from "../helpers/service/database.ts";

const cleanup = cleanupAfterEach();
const OTHER_KEY = "other-key-0123456789abcdef0123456789abcd";
const MIB = 1024 * 1024;
// A 4 KiB click (the longest the API takes), as in the run, and 200-character keys.
const CLICK = Array.from({ length: 4096 }, (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7919 + (i >> 5)) % 36]).join("");
const key = (n: number) => `flood-${String(n).padStart(6, "0")}-${"k".repeat(187)}`;

async function service(extra: Record<string, unknown> = {}) {
  const svc = await startTestService({ api_keys: [API_KEY, OTHER_KEY], campaigns: [{ code: "c1" }], log: { level: "warn" }, ...extra });
  cleanup.push(() => svc.stop());
  return svc;
}

/** POST /api/events with a key, the answer's raw text. */
async function post(svc: TestService, body: Record<string, unknown>, idempotencyKey: string, apiKey = API_KEY) {
  const res = await fetch(`${svc.url}/api/events`, {
    method: "POST", body: JSON.stringify({ campaign: "c1", ...body }),
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "idempotency-key": idempotencyKey },
  });
  return { status: res.status, replayed: res.headers.get("idempotent-replayed") === "true", text: await res.text() };
}

/** Bytes of the database's pages holding idempotency_keys and its indexes (its key's and idempotency_keys_client). */
const storedBytes = (svc: TestService) =>
  (svc.sqlite().query("SELECT sum(pgsize) AS n FROM dbstat WHERE name LIKE '%idempotency_keys%'").get() as { n: number }).n;

const keysOf = (svc: TestService) => (svc.sqlite().query("SELECT count(*) AS n FROM idempotency_keys").get() as { n: number }).n;

describe("Idempotency-Key storage per client", () => {
  sqliteOnly("the bytes are SQLite's pages of the table (dbstat)")("4,000 keys from one API key stay within its 1 MiB; the newest replay their answers; another API key's keys are kept", async () => {
    const svc = await service({ storage: { idempotency_mib_per_api_key: 1 } });
    const mine = await post(svc, { subscriber: 9, status: "wait", click: "other-client" }, "other-client-key", OTHER_KEY);
    expect(mine.status).toBe(200);
    const first = await post(svc, { subscriber: 1, status: "wait", click: CLICK }, key(0));
    expect(JSON.parse(first.text).applied).toBe(true);
    const answers = new Map<number, string>();
    for (let n = 1; n < 4000; n += 50) {
      const batch = Array.from({ length: Math.min(50, 4000 - n) }, (_, i) => n + i);
      // The flood: the same lead's event again under a new key each time (a duplicate: nothing but the key is written).
      const got = await Promise.all(batch.map((i) => post(svc, { subscriber: 1, status: "wait", click: CLICK }, key(i))));
      batch.forEach((i, j) => answers.set(i, got[j]!.text));
    }
    expect([...answers.values()].every((t) => JSON.parse(t).reason === "duplicate")).toBe(true);

    const bytes = storedBytes(svc);
    const kept = keysOf(svc);
    // Stored whole, as before, they took 5,005 bytes each (20 MB for these); now within the budget, page slack included.
    expect(bytes).toBeLessThanOrEqual(1.3 * MIB);
    expect(kept).toBeGreaterThan(800); // ~1.08 KB each: the budget holds what it says, not a fraction of it
    expect(kept).toBeLessThan(4001);
    // The newest keys replay the very answer they got; the other API key's key is untouched.
    for (const i of [3999, 3998, 3900, 4000 - Math.floor(kept / 2)]) {
      const again = await post(svc, { subscriber: 1, status: "wait", click: CLICK }, key(i));
      expect({ i, replayed: again.replayed, same: again.text === answers.get(i) }).toEqual({ i, replayed: true, same: true });
    }
    const theirs = await post(svc, { subscriber: 9, status: "wait", click: "other-client" }, "other-client-key", OTHER_KEY);
    expect(theirs).toEqual({ status: 200, replayed: true, text: mine.text });
    // The oldest went first: key 1 is gone (and answered afresh), the API key itself is in no row.
    const oldest = await post(svc, { subscriber: 1, status: "wait", click: CLICK }, key(1));
    expect(oldest.replayed).toBe(false);
    const rows = svc.sqlite().query("SELECT * FROM idempotency_keys").all();
    expect(JSON.stringify(rows)).not.toContain(API_KEY);
    expect(new Set(rows.map((r: any) => r.client)).size).toBe(2);
  }, 60_000);

  test("a replay answers byte for byte the first answer after the lead, its username and its postbacks have moved on", async () => {
    const tracker = await cleanup.closing(RecordingTracker.start());
    const svc = await service({ postbacks: { wait: `${tracker.base}/pb?c={click}&s={status}`, approve: `${tracker.base}/pb?c={click}&s={status}` } });
    const wait = await post(svc, { subscriber: 3, status: "wait", click: CLICK, username: "first_name" }, "evt-wait");
    const approve = await post(svc, { subscriber: 3, status: "approve" }, "evt-approve");
    expect(JSON.parse(wait.text).postbacks[0].state).toBe("pending");
    await tracker.waitForCount(2);
    await outboxSettled(svc);
    expect((await post(svc, { subscriber: 3, status: "cancel", username: "renamed" }, "evt-cancel")).status).toBe(200);
    for (const [k, body, answer] of [["evt-wait", { subscriber: 3, status: "wait", click: CLICK, username: "first_name" }, wait], ["evt-approve", { subscriber: 3, status: "approve" }, approve]] as const) {
      const again = await post(svc, body, k);
      expect({ k, replayed: again.replayed, same: again.text === answer.text }).toEqual({ k, replayed: true, same: true });
    }
    // Stored without the lead's click (the lead keeps it) and the events' text (kept as ids); the postbacks as they were then.
    const [stored] = await queryDb<{ response: string; answer_hash: string }>(`${svc.dir}/tgcpa.db`, "SELECT response, answer_hash FROM idempotency_keys WHERE key = 'evt-wait'");
    expect(JSON.parse(stored!.response)).toMatchObject({ lead: { click: null, username: "first_name", status: "wait" }, events: [1], postbacks: [{ state: "pending" }] });
    expect(stored!.answer_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored!.response.length).toBeLessThan(wait.text.length - 4096);
  });

  test("an answer stored whole by an earlier version still replays", async () => {
    const svc = await service();
    const body = { subscriber: 4, status: "wait", click: "k4" };
    const first = await post(svc, body, "old-key");
    // As an earlier version wrote it: the answer itself, no client, no hash.
    const db = await svc.db();
    await db.run("UPDATE idempotency_keys SET response = ?, answer_hash = NULL, client = '', spent = 0 WHERE key = 'old-key'", [first.text]);
    await db.close();
    const again = await post(svc, body, "old-key");
    expect(again).toEqual({ status: 200, replayed: true, text: first.text });
  });
});
