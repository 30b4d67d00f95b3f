// Two full tgcpa processes on one PostgreSQL database, events sent to them alternately: every
// postback is delivered exactly once (each outbox row claimed by one instance at a time) and each
// lead's postbacks arrive in event order though its events went to different instances; then one
// of them is killed (-9) under load: nothing it acknowledged is lost, and only what it had in flight
// reaches the tracker twice.
import { expect, test } from "bun:test";
import { RecordingTracker, ok, type Received } from "../helpers/fake-trackers/index.ts";
import { describePostgres, useTestDatabase } from "../helpers/postgres.ts";
import { eventually } from "../helpers/eventually.ts";
import { spawnInstances } from "../helpers/service/instances.ts";
import { processTestDir, withServices, type ServiceProcess } from "../helpers/service/subprocess.ts";

let tracker: RecordingTracker | undefined;
const dir = processTestDir("two-instances", () => tracker?.close());
const PER_HOST = 8;

const config = (t: RecordingTracker) => ({
  postbacks: {
    wait: `${t.base}/pb?lead={lead}&s={status}&e={event}`,
    approve: `${t.base}/pb?lead={lead}&s={status}&e={event}`,
  },
  campaigns: [{ code: "c1" }],
  log: { level: "warn" },
  delivery: { per_host_in_flight: PER_HOST, max_in_flight: 64, lease_ms: 4000, timeout_ms: 2000 },
});

/** POSTs one event; the lead id on 200, null when the instance did not acknowledge it (down, 503). */
async function post(s: ServiceProcess, subscriber: number, status: "wait" | "approve"): Promise<number | null> {
  try {
    const res = await s.api("POST", "/api/events", { campaign: "c1", subscriber, status, click: `k${subscriber}` });
    return res.status === 200 ? (res.body.lead.id as number) : null;
  } catch {
    return null;
  }
}

/** The index of the first arrival of each lead's postback of each status ("lead:status"). */
const firstArrivals = (received: Received[]) => {
  const first = new Map<string, number>();
  received.forEach((r, i) => {
    const key = `${r.query.lead}:${r.query.s}`;
    if (!first.has(key)) first.set(key, i);
  });
  return first;
};

describePostgres("two instances on one database", () => {
  const db = useTestDatabase();

  test("2,000 events sent alternately: each postback delivered exactly once, each lead's in order", async () => {
    tracker = await RecordingTracker.start(() => ok());
    const t = tracker;
    await withServices("two instances", async () => {
      const [a, b] = await spawnInstances(2, { dir: `${dir}/order`, db: db(), config: config(t) });
      const LEADS = 1000;
      const queue = Array.from({ length: LEADS }, (_, i) => i + 1);
      const leads = new Map<number, number>();
      // Each lead's wait to one instance and its approve to the other, right after it.
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
          const [first, second] = s % 2 ? [a!, b!] : [b!, a!];
          const lead = await post(first, s, "wait");
          expect(lead).not.toBeNull();
          expect(await post(second, s, "approve")).toBe(lead);
          leads.set(s, lead!);
        }
      }));
      await t.waitUntil((r) => r.length >= 2 * LEADS, 60_000, "every postback");
      await t.waitQuiet(500);
      const counts = Map.groupBy(t.received, (r) => r.url);
      expect(counts.size).toBe(2 * LEADS);
      expect([...counts].filter(([, rs]) => rs.length !== 1).map(([u]) => u)).toEqual([]); // exactly once each
      const first = firstArrivals(t.received);
      const late = [...leads.values()].filter((lead) => first.get(`${lead}:wait`)! > first.get(`${lead}:approve`)!);
      expect(late).toEqual([]);
      // Both instances delivered: the rows were shared between them, never claimed by both.
      for (const s of [a!, b!]) {
        const metrics = (await s.api("GET", "/metrics")).body as string;
        const delivered = metrics.split("\n").filter((l) => l.startsWith("tgcpa_postback_outcomes_total") && l.includes('outcome="delivered"'))
          .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
        expect(delivered).toBeGreaterThan(0);
      }
    });
  }, 120_000);

  test("kill -9 of one instance under load: nothing acknowledged is lost; duplicates at most what it had in flight", async () => {
    // 30-80 ms per answer: the instances have postbacks in flight when one of them dies.
    tracker = await RecordingTracker.start(() => ok(), { delayMs: (_, i) => 30 + ((i * 37) % 51) });
    const t = tracker;
    await withServices("kill -9 of one instance", async () => {
      const [a, b] = await spawnInstances(2, { dir: `${dir}/kill`, db: db(), config: config(t) });
      const acknowledged: { subscriber: number; status: string; lead: number }[] = [];
      let next = 20_000;
      let killed = false;
      const client = async (k: number) => {
        while (next < 20_600) {
          const s = next++;
          // Alternately; once a is dead its events go to b (a client fails over to the instance that answers).
          const target = !killed && (s + k) % 2 ? a! : b!;
          for (const status of ["wait", "approve"] as const) {
            let lead = await post(target, s, status);
            if (lead === null && target === a) lead = await post(b!, s, status);
            if (lead !== null) acknowledged.push({ subscriber: s, status, lead });
          }
        }
      };
      const clients = Array.from({ length: 8 }, (_, k) => client(k));
      await t.waitUntil((r) => r.length >= 300, 60_000, "300 postbacks before the kill");
      killed = true;
      await a!.kill();
      await Promise.all(clients);

      await t.waitUntil((r) => {
        const arrived = firstArrivals(r);
        return acknowledged.every((x) => arrived.has(`${x.lead}:${x.status}`));
      }, 60_000, "every acknowledged event's postback");
      await t.waitQuiet(500);
      const counts = Map.groupBy(t.received, (r) => r.url);
      const duplicates = [...counts].filter(([, rs]) => rs.length > 1);
      // The dead instance's rows in flight came back when their lease ran out (4 s) and were sent again.
      expect(duplicates.length).toBeLessThanOrEqual(PER_HOST);
      for (const [, rs] of duplicates) expect(rs[1]!.at - rs[0]!.at).toBeGreaterThanOrEqual(1000);
      const first = firstArrivals(t.received);
      const byLead = Map.groupBy(acknowledged, (x) => x.lead);
      const late = [...byLead.keys()].filter((lead) => first.get(`${lead}:wait`)! > first.get(`${lead}:approve`)!);
      expect(late).toEqual([]);
      // Rows of events the dead one committed but could not answer go out too, once their lease ends.
      await eventually(async () => (await b!.api("GET", "/api/postbacks?state=pending&limit=500")).body.items.length === 0, 20_000, "nothing pending");
      console.log(`two-instances kill -9: ${acknowledged.length} events acknowledged, ${t.received.length} tracker requests, ${duplicates.length} duplicates (cap in flight ${PER_HOST})`);
    });
  }, 120_000);
});
