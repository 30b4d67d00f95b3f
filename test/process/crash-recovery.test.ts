// SPEC §4 under a real crash: the service runs as a subprocess on a real SQLite file (or, with
// TGCPA_TEST_STORAGE=postgres, a PostgreSQL database of its own), takes 500
// events from concurrent clients while a slow tracker receives their postbacks, and is killed
// with SIGKILL mid-delivery. A second process on the same config and database must deliver every
// committed postback, re-send only what was in flight at the kill, keep each lead's order, and
// leave a sound database.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RecordingTracker, ok, type Received } from "../helpers/fake-trackers/index.ts";
import { crashState, integrityOf } from "../helpers/db-inspect.ts";
import { openTestDb } from "../helpers/service/database.ts";
import { testConfig } from "../helpers/service/config.ts";
import { processTestDir, spawnService, withServices, type ServiceProcess } from "../helpers/service/subprocess.ts";

const LEADS = 250; // × (wait, approve) = 500 events, one postback each
const CLIENTS = 8;
const PER_HOST = 16; // the dispatcher's cap on requests to the tracker at once
const KILL_AT = 150; // tracker requests received when the process is killed
const MAX_AHEAD = 150; // clients stay at most this many committed events ahead of the tracker: posting is still going on at the kill
/** 30-80 ms per answer, the same for every run. */
const slowAnswer = (_r: Received, index: number) => 30 + ((index * 37) % 51);

type Status = "wait" | "approve";

interface Answer {
  leadId: number;
  eventId: number;
  replayed: boolean;
}

interface Ev {
  lead: number;
  status: Status;
  key: string;
  body: { campaign: string; subscriber: number; status: Status; click: string };
  /** The service's 200 answer: the event is committed. */
  answer?: Answer;
  /** Which run's answer that was. */
  answeredBy?: "first" | "second";
}

interface SnapRow {
  id: number;
  lead_id: number;
  event_id: number;
  status: string;
  url: string;
  state: string;
  lease_expires_at: number | null;
}

let tracker: RecordingTracker | undefined;
const dir = processTestDir("crash", () => tracker?.close());

describe("crash recovery (subprocess, kill -9)", () => {
  test("a SIGKILL during delivery loses nothing, re-sends only what was in flight, keeps per-lead order", async () => {
    tracker = await RecordingTracker.start(() => ok(), { delayMs: slowAnswer });
    const t = tracker;
    const dbPath = join(dir, "tgcpa.db");
    const pbUrl = `${t.base}/pb?click={click}&status={status}&lead={lead}&event={event}`;
    const config = testConfig(dir, {
      log: { level: "warn" },
      storage: { path: dbPath },
      delivery: {
        timeout_ms: 3000, lease_ms: 4000, max_in_flight: 64, per_host_in_flight: PER_HOST,
        retry_ladder: ["0s", "250ms", "500ms", "1s", "2s"], shutdown_grace_ms: 5000,
      },
      postbacks: { wait: pbUrl, approve: pbUrl },
      campaigns: [{ code: "crash", name: "crash test" }],
    });
    const pathOf = (ev: Ev, a: Answer) => `/pb?click=${ev.body.click}&status=${ev.status}&lead=${a.leadId}&event=${a.eventId}`;

    const leads = Array.from({ length: LEADS }, (_, i) =>
      (["wait", "approve"] as const).map((status): Ev => ({
        lead: i, status, key: `crash-${i}-${status}`,
        body: { campaign: "crash", subscriber: 700_000 + i, status, click: `c${i}` },
      })));
    const events = leads.flat();

    let killed = false;
    let committed = 0;
    let postsInAir = 0;

    /** Posts one event; false when the process was killed before it answered. */
    async function post(s: ServiceProcess, ev: Ev, run: "first" | "second"): Promise<boolean> {
      let res;
      postsInAir++;
      try {
        res = await s.api("POST", "/api/events", ev.body, { "idempotency-key": ev.key });
      } catch (err) {
        if (killed && run === "first") return false; // no answer: maybe committed, maybe not
        throw err;
      } finally {
        postsInAir--;
      }
      if (res.status !== 200) throw new Error(`POST ${ev.key}: ${res.status} ${JSON.stringify(res.body)}`);
      const b = res.body;
      expect(b.applied).toBe(true);
      expect(b.events).toHaveLength(1);
      expect(b.postbacks).toHaveLength(1);
      const answer: Answer = { leadId: b.lead.id, eventId: b.events[0].id, replayed: res.headers.get("idempotent-replayed") === "true" };
      expect(b.events[0].status).toBe(ev.status);
      expect(b.postbacks[0]).toMatchObject({ state: "pending", url: `${t.base}${pathOf(ev, answer)}` });
      if (!ev.answer) committed++;
      ev.answer = answer;
      ev.answeredBy = run;
      return true;
    }

    await withServices("crash-recovery", async () => {
      // ---- first run: post with concurrent clients, kill -9 while deliveries are in flight ----
      const first = await spawnService({ dir, config });
      const queue = leads.map((_, i) => i);
      const client = async () => {
        for (let i = queue.shift(); i !== undefined && !killed; i = queue.shift()) {
          for (const ev of leads[i]!) {
            while (!killed && committed - t.received.length >= MAX_AHEAD) await Bun.sleep(5);
            if (killed || !(await post(first, ev, "first"))) return;
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, client);

      await t.waitUntil((r) => r.length >= KILL_AT, 60_000, `${KILL_AT} postbacks before the kill`);
      killed = true;
      const killAt = Date.now();
      const gone = first.kill(); // SIGKILL now; resolves once the process is gone
      const committedAtKill = committed;
      const postsInAirAtKill = postsInAir;
      await gone;
      await Promise.all(clients);

      // Requests the dead process had already written may still be read by the tracker: wait
      // until it is quiet. Everything on a connection accepted until then came from the first run.
      await t.waitQuiet(300);
      const firstRunConnections = t.connections;
      const firstRun = [...t.received];

      // ---- the database as the crash left it (a copy: the original stays untouched for the restart) ----
      const snap = await crashState(dbPath, join(dir, "snapshot"));
      expect(await integrityOf(snap)).toBe("ok");
      const snapPostbacks = await snap.all<SnapRow>("SELECT id, lead_id, event_id, status, url, state, lease_expires_at FROM postbacks");
      const snapEvents = await snap.all<{ id: number; lead_id: number; status: string }>("SELECT id, lead_id, status FROM lead_events");
      const snapKeys = await snap.all<{ key: string; response: string }>("SELECT key, response FROM idempotency_keys");
      await snap.close();

      // One transaction per event: every event has exactly its one postback row and its stored
      // answer, and every event answered 200 before the kill is there.
      const rowsByEvent = Map.groupBy(snapPostbacks, (p) => p.event_id);
      expect(snapEvents.filter((e) => rowsByEvent.get(e.id)?.length !== 1)).toEqual([]);
      expect(snapPostbacks.length).toBe(snapEvents.length);
      expect(snapKeys.length).toBe(snapEvents.length);
      const snapAnswer = new Map(snapKeys.map((k) => {
        const body = JSON.parse(k.response);
        // Stored as what rebuilds the answer: its events by id (leads/idempotent-answer.ts).
        return [k.key, { leadId: body.lead.id as number, eventId: body.events[0] as number }];
      }));
      const confirmedBeforeKill = events.filter((e) => e.answer);
      expect(confirmedBeforeKill.length).toBe(committed);
      for (const ev of confirmedBeforeKill) {
        expect(snapAnswer.get(ev.key)).toEqual({ leadId: ev.answer!.leadId, eventId: ev.answer!.eventId });
        expect(rowsByEvent.get(ev.answer!.eventId)?.[0]?.url).toBe(`${t.base}${pathOf(ev, ev.answer!)}`);
      }

      // In flight at the kill: a first-run request the tracker had not answered when the kill was
      // sent (or read only after it), or one it had answered but whose completion was not yet
      // committed (its row is still pending in the crash state). No other may arrive twice.
      const rowByUrl = new Map(snapPostbacks.map((p) => [p.url.slice(t.base.length), p]));
      const openAtKill = firstRun.filter((r) => r.answeredAt === undefined || r.answeredAt > killAt);
      for (const r of firstRun) expect(rowByUrl.has(r.url)).toBe(true); // nothing is sent before it is committed
      for (const r of openAtKill) expect(rowByUrl.get(r.url)!.state).toBe("pending");
      const inFlight = firstRun.filter((r) => rowByUrl.get(r.url)!.state !== "delivered");
      for (const r of inFlight) {
        const row = rowByUrl.get(r.url)!;
        expect(row.state).toBe("pending");
        expect(row.lease_expires_at).not.toBeNull(); // claimed by the dead process
      }
      const uncommitted = inFlight.filter((r) => !openAtKill.includes(r));
      // The dispatcher holds a row until its completion commits, so at most PER_HOST can be in between.
      expect(inFlight.length).toBeGreaterThan(0);
      expect(inFlight.length).toBeLessThanOrEqual(PER_HOST);
      // Every row the crash state calls delivered was received from the first run.
      const firstRunUrls = new Set(firstRun.map((r) => r.url));
      expect(snapPostbacks.filter((p) => p.state === "delivered" && !firstRunUrls.has(p.url.slice(t.base.length)))).toEqual([]);
      const inFlightUrls = new Set(inFlight.map((r) => r.url));

      // ---- second run on the same config and database ----
      const second = await spawnService({ dir, config, port: first.port });
      const unanswered = leads.map((evs) => evs.filter((e) => !e.answer)).filter((evs) => evs.length > 0);
      const resent = unanswered.flat();
      const queue2 = [...unanswered];
      await Promise.all(Array.from({ length: 4 }, async () => {
        for (let evs = queue2.shift(); evs; evs = queue2.shift()) {
          for (const ev of evs) expect(await post(second, ev, "second")).toBe(true);
        }
      }));
      expect(events.every((e) => e.answer)).toBe(true);
      // A re-sent event that the first run had committed is answered from the idempotency store
      // with the same ids; one it had not is written now, once.
      for (const ev of resent) {
        const before = snapAnswer.get(ev.key);
        expect({ key: ev.key, replayed: ev.answer!.replayed }).toEqual({ key: ev.key, replayed: before !== undefined });
        if (before) expect({ leadId: ev.answer!.leadId, eventId: ev.answer!.eventId }).toEqual(before);
      }

      const expected = new Map(events.map((ev) => [pathOf(ev, ev.answer!), ev]));
      expect(expected.size).toBe(events.length);
      await t.waitUntil((r) => {
        const urls = new Set(r.map((x) => x.url));
        return [...urls].some((u) => !expected.has(u)) || urls.size === expected.size;
      }, 60_000, "every committed postback at the tracker");
      const drained = Date.now() + 30_000;
      let pending: { status: number; body: any };
      while ((pending = await second.api("GET", "/api/postbacks?state=pending&limit=500")).body.items?.length !== 0 && Date.now() < drained) {
        await Bun.sleep(50);
      }
      expect(pending.status).toBe(200);
      expect(pending.body.items).toEqual([]);
      for (const state of ["failed", "rejected", "skipped"]) {
        expect((await second.api("GET", `/api/postbacks?state=${state}&limit=500`)).body.items).toEqual([]);
      }
      expect(await second.stop()).toBe(0); // a clean SIGTERM stop

      // ---- what the tracker saw ----
      const arrivals = Map.groupBy(t.received, (r) => r.url);
      expect(t.received.filter((r) => !expected.has(r.url)).map((r) => r.url)).toEqual([]); // nothing unexpected
      expect([...expected.keys()].filter((u) => !arrivals.has(u))).toEqual([]); // every committed event's postback
      const duplicates = [...arrivals].filter(([, rs]) => rs.length > 1);
      expect(duplicates.map(([u]) => u).filter((u) => !inFlightUrls.has(u))).toEqual([]); // only what was in flight
      for (const [url, rs] of duplicates) {
        // once from the dead process, once from the new one, after the dead one's lease ran out
        expect({ url, runs: rs.map((r) => (r.connection <= firstRunConnections ? "first" : "second")) }).toEqual({ url, runs: ["first", "second"] });
        expect(rs[1]!.at).toBeGreaterThanOrEqual(rowByUrl.get(url)!.lease_expires_at!);
      }
      // per-lead order by first arrival: wait before approve
      const firstIndex = new Map<string, number>();
      t.received.forEach((r, i) => { if (!firstIndex.has(r.url)) firstIndex.set(r.url, i); });
      const outOfOrder = leads.filter(([wait, approve]) =>
        firstIndex.get(pathOf(wait!, wait!.answer!))! > firstIndex.get(pathOf(approve!, approve!.answer!))!);
      expect(outOfOrder.map(([w]) => w!.body.click)).toEqual([]);

      // ---- the database after a clean stop ----
      const db = await openTestDb(dbPath, { readonly: true });
      try {
        expect(await integrityOf(db)).toBe("ok");
        expect(await db.all("SELECT state, count(*) AS n FROM postbacks GROUP BY state")).toEqual([{ state: "delivered", n: events.length }]);
        expect(await db.get("SELECT count(*) AS n FROM lead_events")).toEqual({ n: events.length });
        expect(await db.all("SELECT status, count(*) AS n FROM leads GROUP BY status")).toEqual([{ status: "approve", n: LEADS }]);
        // exactly one successful attempt per postback
        expect(await db.get("SELECT count(*) AS n FROM postbacks p WHERE (SELECT count(*) FROM delivery_attempts a WHERE a.postback_id = p.id AND a.outcome = 'delivered') != 1")).toEqual({ n: 0 });
      } finally {
        await db.close();
      }

      const gaps = uncommitted.map((r) => killAt - r.answeredAt!);
      console.log(
        `crash-recovery: killed after ${firstRun.length} first-run requests (${committedAtKill}/${events.length} events committed, ${postsInAirAtKill} posts unanswered, ` +
        `${resent.length} posted again, ${resent.filter((e) => e.answer!.replayed).length} of them replayed); in flight at the kill: ` +
        `${inFlight.length} (${openAtKill.length} unanswered, ${uncommitted.length} answered ${gaps.length ? `${Math.min(...gaps)}-${Math.max(...gaps)} ms` : "-"} before the kill but not committed); ` +
        `duplicates: ${duplicates.length}; tracker requests: ${t.received.length}`,
      );
    });
  }, 120_000);
});
