// The server cuts the instances' connections under load (pg_terminate_backend of every connection
// to this test's database, as a failover or an operator would; the shared server itself is never
// restarted): meanwhile requests are answered 503 storage_unavailable (nothing else), then the
// instances heal by themselves — new connections, /health 200 — and every event answered 200 has
// its postback delivered, none pending.
import { expect, test } from "bun:test";
import { RecordingTracker, ok } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { describePostgres, useTestDatabase } from "../helpers/postgres.ts";
import { adminSql, spawnInstances, terminateConnections } from "../helpers/service/instances.ts";
import { processTestDir, withServices, type ServiceProcess } from "../helpers/service/subprocess.ts";

let tracker: RecordingTracker | undefined;
const dir = processTestDir("pg-terminate", () => tracker?.close());

describePostgres("PostgreSQL connections cut under load", () => {
  const db = useTestDatabase();

  test("pg_terminate_backend of every connection, again and again for 2 s: 503 meanwhile, then healed; nothing acknowledged lost", async () => {
    tracker = await RecordingTracker.start(() => ok());
    const t = tracker;
    const admin = adminSql();
    try {
      await withServices("connections cut", async () => {
        const [a, b] = await spawnInstances(2, {
          dir, db: db(),
          config: { log: { level: "warn" }, postbacks: { wait: `${t.base}/pb?l={lead}&n={subscriber}` }, campaigns: [{ code: "c1" }] },
        });
        const statuses = new Map<number, number>();
        const acknowledged: number[] = [];
        const unexpected: unknown[] = [];
        let next = 1;
        let stop = false;
        const client = async (s: ServiceProcess) => {
          while (!stop) {
            const subscriber = next++;
            const res = await s.api("POST", "/api/events", { campaign: "c1", subscriber, status: "wait", click: `k${subscriber}` })
              .catch((err: Error) => ({ status: 0, body: { error: { code: err.message } } }));
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 200) acknowledged.push(subscriber);
            else if (res.status !== 503 || res.body.error?.code !== "storage_unavailable") unexpected.push({ status: res.status, body: res.body });
          }
        };
        const clients = [a!, b!, a!, b!, a!, b!].map(client);
        await t.waitUntil((r) => r.length >= 200, 30_000, "200 postbacks before the cut");
        // The storm: every connection cut, every 20 ms, for 2 s.
        let cut = 0;
        const stormEnds = Date.now() + 2000;
        while (Date.now() < stormEnds) {
          cut += await terminateConnections(admin, db());
          await Bun.sleep(20);
        }
        const refusedDuringStorm = statuses.get(503) ?? 0;
        // Healed by themselves: requests answered 200 again, /health 200 on both.
        const before = acknowledged.length;
        await eventually(() => acknowledged.length >= before + 100, 20_000, "100 more events answered 200 after the cut");
        stop = true;
        await Promise.all(clients);
        for (const s of [a!, b!]) await eventually(async () => (await s.api("GET", "/health")).status === 200, 20_000, "/health 200");
        expect(unexpected).toEqual([]); // every refusal a 503 storage_unavailable
        expect(cut).toBeGreaterThan(10);
        expect(refusedDuringStorm).toBeGreaterThan(0);
        expect([...statuses.keys()].sort()).toEqual([200, 503]);
        // Every acknowledged event's postback reached the tracker; nothing is left pending.
        await t.waitUntil((r) => {
          const got = new Set(r.map((x) => Number(x.query.n)));
          return acknowledged.every((n) => got.has(n));
        }, 60_000, "every acknowledged event's postback");
        await eventually(async () => (await a!.api("GET", "/api/postbacks?state=pending&limit=500")).body.items.length === 0, 30_000, "nothing pending");
        console.log(`pg-terminate: ${cut} connections cut in 2 s; answers ${JSON.stringify(Object.fromEntries(statuses))}; ${acknowledged.length} acknowledged, ${t.received.length} tracker requests`);
      });
    } finally {
      await admin.close();
    }
  }, 120_000);
});
