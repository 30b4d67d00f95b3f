// approve_after across a restart: the approve waits in the outbox as a row due in the future; a
// service stopped before then and started again sends it when it falls due, not before.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { testConfig } from "../helpers/service/config.ts";
import { processTestDir, spawnService, withServices } from "../helpers/service/subprocess.ts";

// Long enough that the first run is stopped before it on a loaded machine (its stop takes about 0.5 s).
const STAY_MS = 8000;
let tracker: RecordingTracker | undefined;
const dir = processTestDir("approve-after", () => tracker?.close());

describe("approve_after (subprocess)", () => {
  test("a scheduled approve survives a restart and leaves once the stay is over", async () => {
    tracker = await RecordingTracker.start();
    const t = tracker;
    const pb = `${t.base}/pb?s={status}&sub={subscriber}`;
    const config = testConfig(dir, {
      log: { level: "warn" },
      storage: { path: join(dir, "tgcpa.db") },
      postbacks: { wait: pb, approve: pb },
      campaigns: [{ code: "stay", approve_after: `${STAY_MS}ms` }],
    });
    await withServices("approve-after", async () => {
      const first = await spawnService({ dir, config });
      expect((await first.api("POST", "/api/events", { campaign: "stay", subscriber: 4_318_000_001, status: "wait", click: "k1" })).status).toBe(200);
      const joined = await first.api("POST", "/api/events", { campaign: "stay", subscriber: 4_318_000_001, status: "approve" });
      const joinedAt = Date.now();
      expect(joined.body.postbacks).toEqual([expect.objectContaining({ state: "pending" })]);
      await t.waitUntil(() => t.received.length === 1, 5000, "the wait postback");
      expect(await first.stop()).toBe(0);
      expect(Date.now() - joinedAt).toBeLessThan(STAY_MS); // stopped before the approve was due
      expect(t.received.map((r) => r.query.s)).toEqual(["wait"]);

      const second = await spawnService({ dir, config, port: first.port });
      await t.waitUntil(() => t.received.length === 2, STAY_MS + 10_000, "the approve after the restart");
      const approve = t.received[1]!;
      expect(approve.query.s).toBe("approve");
      expect(approve.at).toBeGreaterThanOrEqual(joinedAt + STAY_MS - 50);
      // The tracker has answered; the outcome is written just after: wait for it, not for the request.
      const stored = async () => (await second.api("GET", `/api/postbacks?status=approve`)).body.items.map((r: any) => [r.state, r.attempts]);
      await eventually(async () => (await stored())[0]?.[0] === "delivered", 5000, "the approve's outcome stored");
      expect(await stored()).toEqual([["delivered", 1]]);
      await second.stop();
    });
  }, 40_000);
});
