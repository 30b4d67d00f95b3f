/**
 * The backlog gauges of /metrics under a seeded backlog (issue 12: they read 0 with 166,877 rows
 * due). The rows are written straight into the service's database, as a backlog left by a
 * tracker outage or a restart would be; the tracker hangs, so the dispatcher holds exactly its
 * caps (1 in flight + 1 claimed ahead) and the rest stays due.
 */
import { expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();

const BACKLOG = 20_000;

test("queue depth and oldest-due age are right under a seeded backlog", async () => {
  const clock = new FakeClock();
  const tracker = await RecordingTracker.start(() => "hang");
  cleanup.push(() => tracker.close());
  const svc = await startTestService({
    postbacks: { wait: `${tracker.base}/pb?c={click}` },
    campaigns: [{ code: "c1" }],
    // a hanging request holds its slot for timeout_ms of real time: long enough for the reads below
    delivery: { max_in_flight: 1, per_host_in_flight: 1, timeout_ms: 60_000, lease_ms: 120_000 },
  }, { clock });
  cleanup.push(() => svc.stop());

  const now = clock.now();
  const db = await svc.db();
  // row i has been due for i seconds (leads 1_000_000 + i: every row heads its own line); one
  // statement in words both engines share
  await db.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BACKLOG})
    INSERT INTO postbacks (lead_id, event_id, campaign_id, status, template, method, url, host, state, next_attempt_at, created_at, updated_at)
    SELECT 1000000 + i, 0, 1, 'wait', 'postbacks.wait', 'GET', ? || i, ?, 'pending', CAST(? AS BIGINT) - i * 1000, CAST(? AS BIGINT) - i * 1000, CAST(? AS BIGINT) - i * 1000
    FROM n`, [`${tracker.base}/pb?c=seed`, tracker.host, now, now, now]);
  await db.close();

  // One event through the API wakes the dispatcher; it claims the two oldest rows and sends one.
  expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "fresh" })).status).toBe(200);
  await tracker.waitForCount(1);
  expect(tracker.received[0]!.url).toBe(`/pb?c=seed${BACKLOG}`);

  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  const value = (name: string) => Number(metrics.split("\n").find((l) => l.startsWith(`${name} `))?.split(" ")[1]);
  expect(value("tgcpa_queue_depth")).toBe(BACKLOG + 1 - 2); // the fresh row is due too; two are leased
  expect(value("tgcpa_oldest_due_age_seconds")).toBe(BACKLOG - 2); // the oldest row not leased
  expect(value("tgcpa_in_flight")).toBe(1);
});
