// README "Restarts and crashes", graceful half: SIGTERM while events arrive and deliveries are in
// flight — a slow tracker, and a seeded share of first attempts that hang far beyond
// shutdown_grace_ms. The process must exit 0; every event that got a 200 is in the database with
// its postback row; no row still holds a lease; and a restart delivers everything, with a second
// request only for the postbacks whose request was aborted at the grace deadline.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { RecordingTracker, type Behaviour } from "../helpers/fake-trackers/index.ts";
import { integrityOf } from "../helpers/db-inspect.ts";
import { openTestDb, sqliteOnly } from "../helpers/service/database.ts";
import { eventually } from "../helpers/eventually.ts";
import { leadEvents, postEvent, type Ev } from "../helpers/idempotent-events.ts";
import { SEED, hash01, rng } from "../helpers/seeded-random.ts";
import { listPostbacks } from "../helpers/service/api-client.ts";
import { testConfig } from "../helpers/service/config.ts";
import { killAllServices, processTestDir, spawnService, withServices } from "../helpers/service/subprocess.ts";

const CLIENTS = 4;
const PER_HOST = 8;
const MAX_AHEAD = 30;
const HANG_FIRST = 0.08;
const MAX_HANGS = 4;
const GRACE_MS = 1000;

interface Row {
  id: number;
  event_id: number;
  url: string;
  state: string;
  attempts: number;
  lease_expires_at: number | null;
  next_attempt_at: number;
}

let tracker: RecordingTracker | undefined;
const dir = processTestDir("shutdown", () => tracker?.close());

describe("graceful shutdown under load (subprocess, SIGTERM)", () => {
  test("exit 0, every answered event committed, no lease left; after a restart only the aborted requests are sent twice", async () => {
    const decided: ("ok" | "hang")[] = [];
    const seen = new Set<string>();
    let hangs = true; // only in the first run
    tracker = await RecordingTracker.start((req, index): Behaviour => {
      const first = !seen.has(req.url);
      seen.add(req.url);
      // at most MAX_HANGS, so that hung requests never take every per-host slot
      decided[index] = hangs && first && hash01(`hang ${req.url}`) < HANG_FIRST && decided.filter((d) => d === "hang").length < MAX_HANGS ? "hang" : "ok";
      return decided[index] === "hang" ? "hang" : { status: 200, body: "OK" };
    }, { delayMs: (_r, index) => 50 + Math.floor(hash01(`delay ${index}`) * 200) });
    const t = tracker;
    const dbPath = join(dir, "tgcpa.db");
    const pbUrl = `${t.base}/pb?click={click}&status={status}&lead={lead}&event={event}`;
    const config = testConfig(dir, {
      log: { level: "info" },
      storage: { path: dbPath },
      delivery: {
        // hung requests stay hung until the grace deadline aborts them (no timeout before it)
        timeout_ms: 20_000, lease_ms: 30_000, max_in_flight: 32, per_host_in_flight: PER_HOST,
        retry_ladder: ["0s", "200ms", "500ms", "1s"], shutdown_grace_ms: GRACE_MS,
      },
      postbacks: { wait: pbUrl, approve: pbUrl },
      campaigns: [{ code: "sd", name: "shutdown" }],
    });
    const pathOf = (url: string) => url.slice(t.base.length);

    const leads: [Ev, Ev][] = [];
    let committed = 0;
    let termSent = false;
    let unansweredAtStop = 0;
    const clientErrors: unknown[] = [];
    await withServices("shutdown", async () => {
      const s = await spawnService({ dir, config });
      const client = async (c: number) => {
        const pace = rng(SEED + c);
        // posts go on after the SIGTERM until the service stops answering
        while (true) {
          const i = leads.length;
          leads.push(leadEvents("sd", "sd", i, 950_000));
          for (const ev of leads[i]!) {
            while (!termSent && committed - t.received.length >= MAX_AHEAD) await Bun.sleep(5);
            if (!(await postEvent(s, ev, 1, () => termSent))) {
              unansweredAtStop++;
              return;
            }
            committed++;
            await Bun.sleep(Math.floor(pace() * 15));
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c).catch((err) => { clientErrors.push(err); }));

      // ---- SIGTERM with posts arriving, slow answers pending and requests hanging ----
      await t.waitUntil((r) => r.length >= 60 && t.open().filter((x) => decided[t.received.indexOf(x)] === "hang").length >= 2, 60_000, "load with hanging requests");
      const committedAtTerm = committed;
      const openAtTerm = t.open().length;
      const hungAtTerm = t.open().filter((x) => decided[t.received.indexOf(x)] === "hang").length;
      termSent = true;
      const code = await s.stop(30_000); // SIGTERM (SIGKILL only if it has not exited after 30 s)
      const exitedAt = Date.now();
      await Promise.all(clients);
      expect(clientErrors).toEqual([]);
      expect(code).toBe(0);
      expect(s.output()).toContain("shutdown: unfinished postbacks released");
      await t.waitQuiet();
      const runEnd = t.received.length;
      const firstRun = t.received.slice(0, runEnd);

      // ---- the database after the clean stop ----
      let rows: Row[];
      let attemptsByRow: Map<number, number>;
      const db = await openTestDb(dbPath, { readonly: true });
      try {
        expect((await integrityOf(db))).toBe("ok");
        rows = (await db.all("SELECT id, event_id, url, state, attempts, lease_expires_at, next_attempt_at FROM postbacks")) as Row[];
        const eventIds = new Set((await db.all<any>("SELECT id FROM lead_events") as { id: number }[]).map((r) => r.id));
        const keys = new Set((await db.all<any>("SELECT key FROM idempotency_keys") as { key: string }[]).map((r) => r.key));
        attemptsByRow = new Map((await db.all<any>("SELECT postback_id AS id, count(*) AS n FROM delivery_attempts GROUP BY postback_id") as { id: number; n: number }[]).map((r) => [r.id, r.n]));
        // every event that got a 200 is there with its postback row and its stored answer
        const answered = leads.flat().filter((e) => e.answer);
        expect(answered.length).toBe(committed);
        const rowsByEvent = Map.groupBy(rows, (r) => r.event_id);
        for (const ev of answered) {
          const row = rowsByEvent.get(ev.answer!.eventId);
          expect({ key: ev.key, event: eventIds.has(ev.answer!.eventId), stored: keys.has(ev.key), rows: row?.map((r) => [r.id, r.url]) })
            .toEqual({ key: ev.key, event: true, stored: true, rows: [[ev.answer!.postbackIds[0]!, ev.answer!.urls[0]!]] });
        }
        expect([...eventIds].filter((id) => rowsByEvent.get(id)?.length !== 1)).toEqual([]);
      } finally {
        await db.close();
      }
      // no row holds a lease
      expect(rows.filter((r) => r.state === "pending" && r.lease_expires_at !== null).map((r) => r.id)).toEqual([]);
      // Aborted at the grace deadline: a first-run request (answered later or hung) whose row is
      // still pending after the stop. Every hung request is one; its attempt was not counted, and
      // its row is due at once for the next start.
      const rowByPath = new Map(rows.map((r) => [pathOf(r.url), r]));
      expect(firstRun.filter((r) => !rowByPath.has(r.url)).map((r) => r.url)).toEqual([]);
      const aborted = new Set(firstRun.flatMap((r, i) => (rowByPath.get(r.url)!.state === "pending" ? [i] : [])));
      const hungFirstRun = firstRun.flatMap((_, i) => (decided[i] === "hang" ? [i] : []));
      expect(hungFirstRun.filter((i) => !aborted.has(i))).toEqual([]);
      for (const i of aborted) {
        const row = rowByPath.get(firstRun[i]!.url)!;
        expect({ url: row.url, attempts: row.attempts, due: row.next_attempt_at <= exitedAt }).toEqual({ url: row.url, attempts: attemptsByRow.get(row.id) ?? 0, due: true });
      }
      expect(rows.filter((r) => r.state !== "pending" && r.state !== "delivered")).toEqual([]);

      // ---- restart: post what got no answer, finish every lead, everything delivered ----
      hangs = false;
      const s2 = await spawnService({ dir, config });
      const reposted: Ev[] = [];
      for (const evs of leads) for (const ev of evs) {
        if (ev.answer) continue;
        expect(await postEvent(s2, ev, 2, () => false)).toBe(true);
        reposted.push(ev);
      }
      const lostAnswers = reposted.filter((e) => e.answer!.replayed).map((e) => e.key);
      const all = leads.flat();
      await eventually(async () => (await listPostbacks(s2, "&state=pending")).length === 0, 60_000, "everything delivered after the restart", 25);
      for (const state of ["failed", "rejected", "skipped"]) expect(await listPostbacks(s2, `&state=${state}`)).toEqual([]);
      expect(await s2.stop()).toBe(0);

      // ---- what the tracker saw ----
      const expected = new Set(all.map((e) => pathOf(e.answer!.urls[0]!)));
      expect(expected.size).toBe(all.length);
      expect(t.received.filter((r) => !expected.has(r.url)).map((r) => r.url)).toEqual([]);
      const byUrl = new Map<string, number[]>();
      t.received.forEach((r, i) => byUrl.set(r.url, [...(byUrl.get(r.url) ?? []), i]));
      expect([...expected].filter((u) => !byUrl.get(u)!.some((i) => decided[i] === "ok" && t.received[i]!.answeredAt !== undefined))).toEqual([]);
      // a URL is requested twice only when its first-run request was aborted at the deadline;
      // then exactly once more, by the second run
      const duplicates = [...byUrl].filter(([, idx]) => idx.length > 1);
      for (const [url, idx] of duplicates) {
        expect({ url, first: aborted.has(idx[0]!), count: idx.length, secondRun: idx[1]! >= runEnd }).toEqual({ url, first: true, count: 2, secondRun: true });
      }
      expect(duplicates.length).toBe(aborted.size);
      // per-lead order
      const first = new Map<string, number>();
      t.received.forEach((r, i) => { if (!first.has(r.url)) first.set(r.url, i); });
      const okAt = (url: string) => byUrl.get(pathOf(url))!.find((i) => decided[i] === "ok")!;
      expect(leads.filter(([w, a]) => first.get(pathOf(a.answer!.urls[0]!))! < okAt(w.answer!.urls[0]!)).map(([w]) => w.key)).toEqual([]);

      const final = await openTestDb(dbPath, { readonly: true });
      try {
        expect((await integrityOf(final))).toBe("ok");
        expect((await final.all("SELECT state, count(*) AS n FROM postbacks GROUP BY state"))).toEqual([{ state: "delivered", n: all.length }]);
        expect(await final.get("SELECT count(*) AS n FROM postbacks p WHERE (SELECT count(*) FROM delivery_attempts a WHERE a.postback_id = p.id AND a.outcome = 'delivered') != 1")).toEqual({ n: 0 });
      } finally {
        await final.close();
      }
      console.log(
        `shutdown: SIGTERM with ${committedAtTerm} events committed, ${openAtTerm} tracker requests open (${hungAtTerm} hanging); ` +
        `${committed} events answered by the first run, ${unansweredAtStop} posts got no answer; ${aborted.size} requests aborted at the ${GRACE_MS} ms grace deadline ` +
        `(${hungFirstRun.length} of them hung); duplicates after the restart: ${duplicates.length}; ` +
        `posts committed by the first run but never answered: ${lostAnswers.length} ${JSON.stringify(lostAnswers)}`,
      );
    });
  }, 120_000);

  sqliteOnly("another process holds the SQLite file's write lock")("SIGTERM while another process holds the write lock: the stop is not reported as a failed start", async () => {
    const lockedDir = join(dir, "locked");
    mkdirSync(lockedDir);
    const t = await RecordingTracker.start(() => "hang");
    const dbPath = join(lockedDir, "tgcpa.db");
    let locker: Database | undefined;
    try {
      const s = await spawnService({
        dir: lockedDir,
        config: testConfig(lockedDir, {
          log: { level: "info" }, storage: { path: dbPath, busy_timeout_ms: 200 },
          delivery: { timeout_ms: 10_000, lease_ms: 20_000, shutdown_grace_ms: 300 },
          postbacks: { wait: `${t.base}/pb?event={event}` }, campaigns: [{ code: "sdl", name: "locked stop" }],
        }),
      });
      const [ev] = leadEvents("sdl", "sdl", 0, 955_000);
      expect(await postEvent(s, ev, 1, () => false)).toBe(true);
      await t.waitForCount(1, 20_000); // a request hangs: the stop has a row to release
      locker = new Database(dbPath);
      locker.run("PRAGMA busy_timeout = 10000");
      locker.run("BEGIN IMMEDIATE");
      await s.stop(20_000);
      locker.run("COMMIT");
      expect(s.output()).toContain("shutting down");
      expect(s.output()).not.toContain("failed to start");
    } finally {
      locker?.close();
      await killAllServices();
      await t.close();
    }
  }, 60_000);
});
