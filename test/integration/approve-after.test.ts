// approve_after and min_quality on the fake clock: the approve postback waits for the stay; a
// leave before it skips the approve (and the leave, unless approve_after_leave: cancel); a join
// below min_quality reports trash, or nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const H = 3_600_000;
const clock = new FakeClock(Date.UTC(2025, 5, 1, 12));
let tracker: RecordingTracker;
let svc: TestService;

beforeAll(async () => {
  tracker = await RecordingTracker.start();
  const pb = `${tracker.base}/pb?c={campaign}&s={status}&sub={subscriber}&q={quality}`;
  svc = await startTestService({
    postbacks: { wait: pb, approve: pb, cancel: pb, trash: pb },
    campaigns: [
      { code: "stay", approve_after: "24h" },
      { code: "tell", approve_after: "24h", approve_after_leave: "cancel" },
      { code: "floor", min_quality: 60 },
      { code: "quiet", min_quality: 60, below_min_quality: "skip" },
    ],
  }, { clock });
});
afterAll(async () => {
  await svc.stop();
  await tracker.close();
});

const event = async (campaign: string, subscriber: number, status: string) => {
  const r = await svc.api("POST", "/api/events", { campaign, subscriber, status, click: `k${subscriber}` });
  expect(r.body.applied).toBe(true);
  return r.body;
};
const got = (campaign: string, sub: number) => tracker.received.filter((r) => r.query.c === campaign && r.query.sub === String(sub)).map((r) => r.query.s);
/** Every row due is sent: what stays pending is scheduled (approve_after) at least 2 minutes ahead; a row in flight is leased for 1 minute. */
const settle = () => eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.every((p: any) => Date.parse(p.next_attempt_at) > clock.now() + 120_000), 5000, "due rows sent");

describe("approve_after", () => {
  test("the approve leaves after the stay; a leave before it sends neither the approve nor (by default) the leave", async () => {
    const A = 4_318_000_001, B = 4_318_000_002, C = 4_318_000_003;
    for (const [campaign, s] of [["stay", A], ["stay", B], ["tell", C]] as const) {
      await event(campaign, s, "wait");
    }
    clock.advance(60_000);
    for (const [campaign, s] of [["stay", A], ["stay", B], ["tell", C]] as const) await event(campaign, s, "approve");
    await settle();
    expect([got("stay", A), got("stay", B), got("tell", C)]).toEqual([["wait"], ["wait"], ["wait"]]);

    clock.advance(H);
    const left = await event("stay", B, "cancel");
    expect(left.events[0].reason).toBe("left_before_approve_after");
    expect(left.postbacks).toEqual([expect.objectContaining({ state: "skipped", reason: "left_before_approve_after" })]);
    await event("tell", C, "cancel");
    await settle();
    expect(got("tell", C)).toEqual(["wait", "cancel"]);

    clock.advance(23 * H - 5 * 60_000); // 5 minutes short of A's 24 h
    await settle();
    expect(got("stay", A)).toEqual(["wait"]);
    clock.advance(5 * 60_000 + 1000);
    await tracker.waitUntil(() => got("stay", A).length === 2, 5000, "A's approve");
    expect(got("stay", A)).toEqual(["wait", "approve"]);
    await settle();
    expect(got("stay", B)).toEqual(["wait"]);
    expect(got("tell", C)).toEqual(["wait", "cancel"]);

    const lead = (await svc.api("GET", `/api/leads?subscriber=${B}&campaign=stay`)).body.items[0];
    const rows = (await svc.api("GET", `/api/leads/${lead.id}`)).body.postbacks;
    expect(rows.map((p: any) => [p.status, p.state, p.reason])).toEqual([
      ["wait", "delivered", null], ["approve", "skipped", "left_before_approve_after"], ["cancel", "skipped", "left_before_approve_after"],
    ]);
  });
});

describe("min_quality", () => {
  test("a join below it reports trash with the reason, or (by option) nothing; above it an approve", async () => {
    // Newest id range: 50 − 15 = 35; an old id: 50 + 15 = 65.
    const LOW = 7_000_000_001, HIGH = 200_000_001;
    for (const s of [LOW, HIGH]) for (const c of ["floor", "quiet"]) await event(c, s, "wait");
    clock.advance(60_000);
    const low = await event("floor", LOW, "approve");
    expect(low.events[0]).toMatchObject({ status: "approve", reason: "below_min_quality" });
    expect(low.lead.status).toBe("approve"); // a member all the same: only the report changes
    const quiet = await event("quiet", LOW, "approve");
    expect(quiet.postbacks).toEqual([expect.objectContaining({ state: "skipped", reason: "below_min_quality" })]);
    await event("floor", HIGH, "approve");
    await event("quiet", HIGH, "approve");
    await settle();
    expect(tracker.received.filter((r) => r.query.sub === String(LOW) && r.query.s !== "wait").map((r) => [r.query.c, r.query.s, r.query.q])).toEqual([["floor", "trash", "35"]]);
    expect(got("floor", HIGH)).toEqual(["wait", "approve"]);
    expect(got("quiet", HIGH)).toEqual(["wait", "approve"]);
  });
});
