// SPEC §4 under repeated crashes: 20 rounds of `kill -9` at seeded moments while events arrive
// (each with its own Idempotency-Key, posted again after a restart when it got no 200), deliveries
// are in flight (a slow tracker) and retries are due (the tracker answers 503 to a seeded fraction
// of first attempts; the ladder is compressed). Each restart must deliver every event committed
// before it; the database must pass integrity_check after every kill (on a copy of db + wal) and
// at the end; a postback may reach the tracker twice only if it was in flight at a kill, in the
// sense of test/process/crash-recovery.test.ts, accumulated over the rounds.
//
// One round: start the service on the same database; clients post again what got no answer, then
// new leads (wait, then approve), staying at most MAX_AHEAD events ahead of the tracker; wait until
// every postback committed in earlier rounds is delivered (the API no longer lists it as pending);
// sleep a seeded 50-750 ms; kill -9 at the first moment after that with a POST in the air. Then
// copy db + wal, check integrity and the crash state. A 21st run finishes every lead, drains and
// stops with SIGTERM. TGCPA_FAULT_SEED picks another seed (event ids, and so URLs, still depend on
// how the clients interleave).
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { crashState, integrityOf } from "../helpers/db-inspect.ts";
import { openTestDb } from "../helpers/service/database.ts";
import { eventually } from "../helpers/eventually.ts";
import { leadEvents, postEvent, type Ev } from "../helpers/idempotent-events.ts";
import { SEED, hash01, rng } from "../helpers/seeded-random.ts";
import { listPostbacks } from "../helpers/service/api-client.ts";
import { testConfig } from "../helpers/service/config.ts";
import { processTestDir, spawnService, withServices, type ServiceProcess } from "../helpers/service/subprocess.ts";

const ROUNDS = 20;
const CLIENTS = 3;
const PER_HOST = 8;
/** Clients stay at most this many committed events ahead of the tracker: posting goes on at every kill. */
const MAX_AHEAD = 40;
/** Share of URLs whose first attempt is answered 503 (then retried along the compressed ladder). */
const FAIL_FIRST = 0.25;

interface Row {
  id: number;
  event_id: number;
  url: string;
  state: string;
  lease_expires_at: number | null;
}

let tracker: RecordingTracker | undefined;
const dir = processTestDir("crashloop", () => tracker?.close());

describe("crash loop (subprocess, 20 × kill -9)", () => {
  test("every committed event is delivered after each restart; duplicates only for requests in flight at a kill; integrity ok", async () => {
    const random = rng(SEED);
    const decided: number[] = []; // status the tracker chose for request #i
    const seenUrls = new Set<string>();
    const acceptedUrls = new Set<string>(); // URLs answered (or about to be answered) 200
    tracker = await RecordingTracker.start((req, index) => {
      const first = !seenUrls.has(req.url);
      seenUrls.add(req.url);
      const status = first && hash01(req.url) < FAIL_FIRST ? 503 : 200;
      decided[index] = status;
      if (status === 200) acceptedUrls.add(req.url);
      return { status, body: status === 200 ? "OK" : "busy" };
    }, { delayMs: (_r, index) => 20 + Math.floor(hash01(`delay-${index}`) * 100) });
    const t = tracker;
    const dbPath = join(dir, "tgcpa.db");
    const pbUrl = `${t.base}/pb?click={click}&status={status}&lead={lead}&event={event}`;
    const config = testConfig(dir, {
      log: { level: "warn" },
      storage: { path: dbPath },
      delivery: {
        timeout_ms: 1500, lease_ms: 2000, max_in_flight: 32, per_host_in_flight: PER_HOST,
        retry_ladder: ["0s", "200ms", "500ms", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s"],
        circuit_failures: 10, circuit_cooldown: "300ms", shutdown_grace_ms: 3000,
      },
      postbacks: { wait: pbUrl, approve: pbUrl },
      campaigns: [{ code: "loop", name: "crash loop" }],
    });
    const pathOf = (url: string) => url.slice(t.base.length);

    const leads: [Ev, Ev][] = [];
    const events = () => leads.flat();
    let committed = 0;
    let postsInAir = 0;
    let stopped = false;
    const runOf: number[] = []; // request index → service run
    const inFlight = new Set<number>(); // request indices in flight at a kill (all rounds)
    const leaseOf = new Map<number, number>(); // in-flight request index → lease expiry in the crash state
    const clientErrors: unknown[] = [];
    const figures = { unansweredAtKills: 0, openAtKills: 0, uncommittedAtKills: 0, retriesWaitingAtKills: 0, inFlightPerRound: [] as number[] };
    let work: number[] = [];

    async function client(s: ServiceProcess, run: number, c: number) {
      const pace = rng(SEED + run * 100 + c);
      while (!stopped) {
        let i = work.shift();
        if (i === undefined) {
          i = leads.length;
          leads.push(leadEvents("cl", "loop", i, 900_000));
        }
        for (const ev of leads[i]!) {
          if (ev.answer) continue;
          while (!stopped && committed - acceptedUrls.size >= MAX_AHEAD) await Bun.sleep(5);
          if (stopped) return;
          postsInAir++;
          const answered = await postEvent(s, ev, run, () => stopped).finally(() => postsInAir--);
          if (!answered) {
            figures.unansweredAtKills++;
            return;
          }
          committed++;
          await Bun.sleep(Math.floor(pace() * 20));
        }
      }
    }
    const incomplete = () => leads.map((_, i) => i).filter((i) => leads[i]!.some((e) => !e.answer));

    await withServices("crash-loop", async () => {
      let port: number | undefined;
      let runStart = 0;
      for (let round = 1; round <= ROUNDS + 1; round++) {
        const last = round === ROUNDS + 1;
        const s = await spawnService({ dir, config, port });
        port = s.port;
        const backlog = new Set(events().filter((e) => e.answer).flatMap((e) => e.answer!.postbackIds));
        stopped = false;
        work = incomplete();
        let clients: Promise<void>[];
        if (!last) {
          clients = Array.from({ length: CLIENTS }, (_, c) => client(s, round, c).catch((err) => { clientErrors.push(err); }));
        } else {
          // the final run only finishes what is left: every lead gets both its events committed
          clients = [(async () => {
            for (const i of work) for (const ev of leads[i]!) {
              if (ev.answer) continue;
              expect(await postEvent(s, ev, round, () => false)).toBe(true);
              committed++;
            }
          })()];
          await Promise.all(clients);
        }

        // every event committed before this restart is delivered by this run
        await eventually(async () => !(await listPostbacks(s, "&state=pending")).some((p) => backlog.has(p.id)), 90_000, `round ${round}: the backlog of ${backlog.size} postbacks delivered`, 25);
        if (last) {
          await eventually(async () => (await listPostbacks(s, "&state=pending")).length === 0, 90_000, "everything delivered", 25);
          expect(await s.stop()).toBe(0);
          await t.waitQuiet(200);
          for (let i = runStart; i < t.received.length; i++) runOf[i] = round;
          break;
        }

        // ---- kill -9 at a seeded moment, the first one after it with a post in the air ----
        await Bun.sleep(50 + Math.floor(random() * 700));
        await eventually(() => postsInAir > 0, 30_000, "a post in the air", 1);
        stopped = true;
        const answeredBeforeKill = new Set(t.received.flatMap((r, i) => (r.answeredAt !== undefined ? [i] : [])));
        const gone = s.kill();
        await gone;
        await Promise.all(clients);
        expect(clientErrors).toEqual([]);
        await t.waitQuiet();
        const runEnd = t.received.length;
        for (let i = runStart; i < runEnd; i++) runOf[i] = round;

        // ---- the database as this crash left it (a copy of db + wal) ----
        const snapDir = join(dir, `snap-${round}`);
        const snap = await crashState(dbPath, snapDir);
        let rows: Row[];
        let retriesWaiting: number;
        let eventIds: Set<number>;
        let keys: number;
        try {
          expect({ round, integrity: (await integrityOf(snap)) }).toEqual({ round, integrity: "ok" });
          rows = (await snap.all("SELECT id, event_id, url, state, lease_expires_at FROM postbacks")) as Row[];
          eventIds = new Set((await snap.all<any>("SELECT id FROM lead_events") as { id: number }[]).map((r) => r.id));
          keys = ((await snap.get("SELECT count(*) AS n FROM idempotency_keys")) as { n: number }).n;
          // rows that failed an attempt and wait for their next step of the ladder
          retriesWaiting = ((await snap.get("SELECT count(*) AS n FROM postbacks WHERE state = 'pending' AND attempts > 0 AND lease_expires_at IS NULL")) as { n: number }).n;
        } finally {
          await snap.close();
          rmSync(snapDir, { recursive: true, force: true });
        }
        // one transaction per event: its one postback row and its stored answer
        const rowsByEvent = Map.groupBy(rows, (r) => r.event_id);
        expect([...eventIds].filter((id) => rowsByEvent.get(id)?.length !== 1)).toEqual([]);
        expect({ round, rows: rows.length, keys }).toEqual({ round, rows: eventIds.size, keys: eventIds.size });
        // every event answered 200 so far is there, as answered
        for (const ev of events().filter((e) => e.answer)) {
          const row = rowsByEvent.get(ev.answer!.eventId)?.[0];
          expect({ key: ev.key, row: row && { id: row.id, url: row.url } }).toEqual({ key: ev.key, row: { id: ev.answer!.postbackIds[0]!, url: ev.answer!.urls[0]! } });
        }
        // what this run had to deliver from earlier rounds is delivered in the crash state
        expect(rows.filter((r) => backlog.has(r.id) && r.state !== "delivered").map((r) => r.id)).toEqual([]);
        // nothing is sent before it is committed
        const rowByPath = new Map(rows.map((r) => [pathOf(r.url), r]));
        const runRequests = t.received.slice(runStart, runEnd).map((r, k) => ({ r, i: runStart + k }));
        expect(runRequests.filter(({ r }) => !rowByPath.has(r.url)).map(({ r }) => r.url)).toEqual([]);
        // In flight at the kill: a request the tracker accepted (200) whose row the crash left
        // undelivered — unanswered when the kill was sent, or answered but not yet committed.
        const accepted = runRequests.filter(({ i }) => decided[i] === 200);
        const open = accepted.filter(({ i }) => !answeredBeforeKill.has(i));
        for (const { r } of open) expect({ url: r.url, state: rowByPath.get(r.url)!.state }).toEqual({ url: r.url, state: "pending" });
        const roundInFlight = accepted.filter(({ r }) => rowByPath.get(r.url)!.state !== "delivered");
        for (const { r, i } of roundInFlight) {
          const row = rowByPath.get(r.url)!;
          expect({ url: r.url, state: row.state, leased: row.lease_expires_at !== null }).toEqual({ url: r.url, state: "pending", leased: true });
          inFlight.add(i);
          leaseOf.set(i, row.lease_expires_at!);
        }
        expect(roundInFlight.length).toBeLessThanOrEqual(PER_HOST);
        figures.openAtKills += open.length;
        figures.uncommittedAtKills += roundInFlight.length - open.length;
        figures.inFlightPerRound.push(roundInFlight.length);
        figures.retriesWaitingAtKills += retriesWaiting;
        runStart = runEnd;
      }

      // ---- the end: every event committed, every postback delivered once (plus the in-flight ones) ----
      const all = events();
      expect(all.every((e) => e.answer)).toBe(true);
      const expected = new Map(all.map((e) => [pathOf(e.answer!.urls[0]!), e]));
      expect(expected.size).toBe(all.length);
      expect(t.received.filter((r) => !expected.has(r.url)).map((r) => r.url)).toEqual([]);
      const acceptedByUrl = new Map<string, number[]>();
      t.received.forEach((r, i) => {
        if (decided[i] === 200) acceptedByUrl.set(r.url, [...(acceptedByUrl.get(r.url) ?? []), i]);
      });
      expect([...expected.keys()].filter((u) => !acceptedByUrl.get(u)?.some((i) => t.received[i]!.answeredAt !== undefined))).toEqual([]);
      // duplicates: every accepted request but the last of its URL was in flight at a kill, and
      // the next one came from a later run, after the dead run's lease ran out
      const extra: number[] = [];
      for (const [url, idx] of acceptedByUrl) {
        for (let k = 0; k < idx.length - 1; k++) {
          const i = idx[k]!;
          const next = idx[k + 1]!;
          expect({ url, request: i, inFlightAtKill: inFlight.has(i) }).toEqual({ url, request: i, inFlightAtKill: true });
          expect(runOf[next]!).toBeGreaterThan(runOf[i]!);
          expect(t.received[next]!.at).toBeGreaterThanOrEqual(leaseOf.get(i)!);
          extra.push(i);
        }
        expect({ url, lastInFlight: inFlight.has(idx.at(-1)!) }).toEqual({ url, lastInFlight: false });
      }
      expect(extra.length).toBe(inFlight.size); // each in-flight request was sent once more, no other
      // per-lead order: approve is first sent after wait was accepted
      const firstArrival = new Map<string, number>();
      t.received.forEach((r, i) => { if (!firstArrival.has(r.url)) firstArrival.set(r.url, i); });
      const outOfOrder = leads.filter(([w, a]) => firstArrival.get(pathOf(a.answer!.urls[0]!))! < acceptedByUrl.get(pathOf(w.answer!.urls[0]!))![0]!);
      expect(outOfOrder.map(([w]) => w.key)).toEqual([]);

      const db = await openTestDb(dbPath, { readonly: true });
      try {
        expect((await integrityOf(db))).toBe("ok");
        expect((await db.all("SELECT state, count(*) AS n FROM postbacks GROUP BY state"))).toEqual([{ state: "delivered", n: all.length }]);
        expect((await db.get("SELECT count(*) AS n FROM lead_events"))).toEqual({ n: all.length });
        expect((await db.all("SELECT status, count(*) AS n FROM leads GROUP BY status"))).toEqual([{ status: "approve", n: leads.length }]);
        expect(await db.get("SELECT count(*) AS n FROM postbacks p WHERE (SELECT count(*) FROM delivery_attempts a WHERE a.postback_id = p.id AND a.outcome = 'delivered') != 1")).toEqual({ n: 0 });
        const stored = new Map((await db.all<any>("SELECT id, url FROM postbacks") as { id: number; url: string }[]).map((r) => [r.id, r.url]));
        expect(all.filter((e) => stored.get(e.answer!.postbackIds[0]!) !== e.answer!.urls[0])).toEqual([]);
      } finally {
        await db.close();
      }

      const replayed = all.filter((e) => e.answer!.replayed).length;
      console.log(
        `crash-loop (seed ${SEED}): ${ROUNDS} kill -9 rounds; ${leads.length} leads, ${all.length} events committed ` +
        `(${figures.unansweredAtKills} posts unanswered at a kill, ${replayed} of the re-posts replayed); tracker requests ${t.received.length} ` +
        `(${decided.filter((s) => s === 503).length} answered 503); in flight at the kills: ${inFlight.size} ` +
        `(${figures.openAtKills} unanswered, ${figures.uncommittedAtKills} answered but not committed; per round ${figures.inFlightPerRound.join(",")}); ` +
        `retries waiting at the kills: ${figures.retriesWaitingAtKills}; ` +
        `duplicates at the tracker: ${extra.length} (all of them in flight at a kill)`,
      );
    });
  }, 170_000);
});
