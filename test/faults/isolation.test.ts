// SPEC §4 isolation: a hanging tracker does not hold up postbacks to another host. Every event
// sends one postback to host A (which never answers) and one to host B (which answers). With a
// small per-host cap, all of B's postbacks arrive — in per-lead order — while A holds exactly its
// cap of requests in flight and gets no more. The assertion is on delivery counts, not on time.
// Then a SIGTERM releases A's stuck rows, and a restart with A answering delivers them too.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RecordingTracker, ok } from "../helpers/fake-trackers/index.ts";
import { integrityOf } from "../helpers/db-inspect.ts";
import { openTestDb } from "../helpers/service/database.ts";
import { eventually } from "../helpers/eventually.ts";
import { leadEvents, postEvent } from "../helpers/idempotent-events.ts";
import { listPostbacks } from "../helpers/service/api-client.ts";
import { testConfig } from "../helpers/service/config.ts";
import { processTestDir, spawnService, withServices } from "../helpers/service/subprocess.ts";

const LEADS = 30;
const PER_HOST = 2;

const trackers: RecordingTracker[] = [];
const dir = processTestDir("isolation", () => Promise.all(trackers.map((t) => t.close())));

describe("isolation between tracker hosts (subprocess)", () => {
  test("host A hangs with its cap in flight; every postback to host B arrives", async () => {
    let aHangs = true;
    const a = await RecordingTracker.start(() => (aHangs ? "hang" : ok()));
    const b = await RecordingTracker.start(() => ok(), { delayMs: 20 });
    trackers.push(a, b);
    const dbPath = join(dir, "tgcpa.db");
    const tpl = (t: RecordingTracker) => `${t.base}/pb?click={click}&status={status}&event={event}`;
    const config = testConfig(dir, {
      log: { level: "warn" },
      storage: { path: dbPath },
      delivery: {
        // A's requests stay hung for the whole test: no timeout, no retry, no breaker
        timeout_ms: 60_000, lease_ms: 90_000, max_in_flight: 2 * PER_HOST, per_host_in_flight: PER_HOST,
        retry_ladder: ["0s", "100ms", "200ms", "500ms"], shutdown_grace_ms: 300,
      },
      postbacks: { wait: [tpl(a), tpl(b)], approve: [tpl(a), tpl(b)] },
      campaigns: [{ code: "iso", name: "isolation" }],
    });
    const leads = Array.from({ length: LEADS }, (_, i) => leadEvents("iso", "iso", i, 920_000));
    const all = leads.flat();
    const path = (url: string) => new URL(url).pathname + new URL(url).search;

    await withServices("isolation", async () => {
      const s = await spawnService({ dir, config });
      await Promise.all(leads.map(async (evs) => {
        for (const ev of evs) expect(await postEvent(s, ev, 1, () => false)).toBe(true);
      }));
      for (const ev of all) expect(ev.answer!.urls.map((u) => new URL(u).port)).toEqual([String(a.port), String(b.port)]);

      const bUrls = new Set(all.map((e) => path(e.answer!.urls[1]!)));
      await b.waitUntil((r) => new Set(r.filter((x) => x.answeredAt !== undefined).map((x) => x.url)).size === bUrls.size, 60_000, "all of B's postbacks");
      // B is complete while A has exactly its cap in flight, and no more requests
      await a.waitUntil((r) => r.length >= PER_HOST, 10_000, "A's cap in flight");
      expect({ aReceived: a.received.length, aOpen: a.open().length }).toEqual({ aReceived: PER_HOST, aOpen: PER_HOST });
      expect(b.received.map((r) => r.url).sort()).toEqual([...bUrls].sort()); // each B postback once
      // B's order per lead, although each lead's postbacks to A are stuck
      const bIndex = (url: string) => b.received.findIndex((r) => r.url === path(url));
      expect(leads.filter(([w, ap]) => bIndex(ap.answer!.urls[1]!) < bIndex(w.answer!.urls[1]!)).map(([w]) => w.key)).toEqual([]);
      // The tracker has answered every B postback; the service records each answer just after it
      // reads it, so wait for those records before counting what is still pending.
      await eventually(async () => (await listPostbacks(s, "&state=delivered")).length === 2 * LEADS, 10_000, "B's deliveries recorded", 25);
      const pendingA = await listPostbacks(s, "&state=pending");
      expect(pendingA.length).toBe(2 * LEADS);
      expect(pendingA.every((p) => p.host === `127.0.0.1:${a.port}`)).toBe(true);

      // ---- SIGTERM: A's hung requests are aborted at the grace deadline and their rows released ----
      expect(await s.stop()).toBe(0);
      const db = await openTestDb(dbPath, { readonly: true });
      try {
        expect((await db.get("SELECT count(*) AS n FROM postbacks WHERE state = 'pending' AND lease_expires_at IS NOT NULL"))).toEqual({ n: 0 });
        expect((await db.all("SELECT host, state, count(*) AS n FROM postbacks GROUP BY host, state ORDER BY host, state"))).toEqual(
          [{ host: `127.0.0.1:${a.port}`, state: "pending", n: 2 * LEADS }, { host: `127.0.0.1:${b.port}`, state: "delivered", n: 2 * LEADS }].sort((x, y) => x.host.localeCompare(y.host)),
        );
      } finally {
        await db.close();
      }

      // ---- A recovers: a restart delivers its rows, in per-lead order ----
      aHangs = false;
      const s2 = await spawnService({ dir, config });
      const aUrls = new Set(all.map((e) => path(e.answer!.urls[0]!)));
      await a.waitUntil((r) => new Set(r.filter((x) => x.answeredAt !== undefined).map((x) => x.url)).size === aUrls.size, 60_000, "all of A's postbacks");
      await eventually(async () => (await listPostbacks(s2, "&state=pending")).length === 0, 30_000, "no pending postbacks", 25);
      expect(await s2.stop()).toBe(0);
      const aAnswered = a.received.filter((r) => r.answeredAt !== undefined);
      expect(aAnswered.length).toBe(aUrls.size); // once each; the two aborted ones were never answered
      const aIndex = (url: string) => aAnswered.findIndex((r) => r.url === path(url));
      expect(leads.filter(([w, ap]) => aIndex(ap.answer!.urls[0]!) < aIndex(w.answer!.urls[0]!)).map(([w]) => w.key)).toEqual([]);
      const db2 = await openTestDb(dbPath, { readonly: true });
      try {
        expect((await integrityOf(db2))).toBe("ok");
        expect((await db2.all("SELECT state, count(*) AS n FROM postbacks GROUP BY state"))).toEqual([{ state: "delivered", n: 4 * LEADS }]);
      } finally {
        await db2.close();
      }
      console.log(`isolation: ${bUrls.size} postbacks to B delivered while A held ${PER_HOST} (its cap) hung requests and received no others; A's ${aUrls.size} delivered after it recovered`);
    });
  }, 90_000);
});
