// Two instances receiving the same request at once: the same Idempotency-Key writes once and every
// answer is the first one's; the same subscriber's Start and join posted to both at once make one
// lead and one postback per event, as one instance would (the lead's advisory lock).
import { expect, test } from "bun:test";
import { RecordingTracker, ok } from "../helpers/fake-trackers/index.ts";
import { describePostgres, useTestDatabase } from "../helpers/postgres.ts";
import { spawnInstances } from "../helpers/service/instances.ts";
import { processTestDir, withServices } from "../helpers/service/subprocess.ts";

let tracker: RecordingTracker | undefined;
const dir = processTestDir("same-lead", () => tracker?.close());

describePostgres("one lead across instances", () => {
  const db = useTestDatabase();

  test("the same Idempotency-Key and the same subscriber on two instances at once: one lead, one postback per event", async () => {
    tracker = await RecordingTracker.start(() => ok());
    const t = tracker;
    await withServices("same lead", async () => {
      const [a, b] = await spawnInstances(2, {
        dir, db: db(),
        config: {
          log: { level: "warn" },
          postbacks: { wait: `${t.base}/pb?l={lead}&s={status}`, approve: `${t.base}/pb?l={lead}&s={status}` },
          campaigns: [{ code: "c1" }],
        },
      });
      // 20 rounds: each the same keyed request 3 times to each instance, at once.
      for (let round = 0; round < 20; round++) {
        const body = { campaign: "c1", subscriber: 1000 + round, status: "wait", click: `k${round}` };
        const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a! : b!).api("POST", "/api/events", body, { "idempotency-key": `key-${round}` })));
        expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
        expect(new Set(answers.map((r) => JSON.stringify(r.body))).size).toBe(1); // every one the first one's answer
        expect(answers.filter((r) => r.headers.get("idempotent-replayed") === "true").length).toBe(5);
      }
      // The same subscriber without a key: a wait and an approve, each posted to both at once, 10 times over.
      for (let round = 0; round < 10; round++) {
        const subscriber = 5000 + round;
        for (const status of ["wait", "approve"]) {
          const answers = await Promise.all([a!, b!, a!, b!].map((s) => s.api("POST", "/api/events", { campaign: "c1", subscriber, status, click: `s${round}` })));
          expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
          expect(answers.filter((r) => r.body.applied).length).toBe(1); // the others found it done: duplicates
          expect(new Set(answers.map((r) => r.body.lead.id)).size).toBe(1);
        }
      }
      const leads = (await a!.api("GET", "/api/leads?limit=500")).body.items as { subscriber: number }[];
      expect(leads.length).toBe(30);
      expect(new Set(leads.map((l) => l.subscriber)).size).toBe(30);
      const postbacks = 20 + 10 * 2;
      await t.waitUntil((r) => r.length >= postbacks, 30_000, "every postback");
      await t.waitQuiet(500);
      expect(t.received.length).toBe(postbacks);
      expect(new Set(t.received.map((r) => r.url)).size).toBe(postbacks);
      expect((await b!.api("GET", "/api/postbacks?limit=500")).body.items.length).toBe(postbacks);
    });
  }, 120_000);
});
