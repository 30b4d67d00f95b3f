// GET /api/stats: the funnel per campaign and per local day, from the counters kept in the
// transaction of each lead event, for every source (API, inbound postbacks), in a time zone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const INBOUND = "inbound-key-stats-0123-0123456789abcdef0123456789abcdef";
// Moscow is UTC+3 all year: 20:30Z is 23:30 on May 1 there, 21:30Z is 00:30 on May 2.
const T0 = Date.UTC(2024, 4, 1, 20, 30);
const T1 = Date.UTC(2024, 4, 1, 21, 30);

let tracker: RecordingTracker;
let svc: TestService;
const clock = new FakeClock(T0);

const event = async (body: Record<string, unknown>) => {
  const r = await svc.api("POST", "/api/events", body);
  expect(r.status).toBe(200);
  return r.body;
};

beforeAll(async () => {
  // The tracker accepts everything except leaves (400: rejected for good) and bans (503: retried later).
  tracker = await RecordingTracker.start((req) => (req.query.s === "cancel" ? { status: 400, body: "bad" } : req.query.s === "trash" ? { status: 503 } : { status: 200, body: "OK" }));
  const pb = `${tracker.base}/pb?c={click}&s={status}`;
  svc = await startTestService({
    dashboard: { timezone: "Europe/Moscow" },
    inbound_keys: [INBOUND],
    postbacks: { wait: pb, approve: pb, cancel: pb, trash: pb },
    campaigns: [{ code: "c1" }, { code: "c2", postbacks: { wait: "" } }, { code: "quiet" }],
  }, { clock });

  await event({ campaign: "c1", subscriber: 1, status: "wait", click: "a1" });
  await event({ campaign: "c1", subscriber: 2, status: "wait", click: "a2" });
  await event({ campaign: "c1", subscriber: 3, status: "wait" });
  clock.advance(T1 - T0);
  await event({ campaign: "c1", subscriber: 1, status: "hold" });
  await event({ campaign: "c1", subscriber: 1, status: "approve" });
  await event({ campaign: "c1", subscriber: 1, status: "approve" }); // a duplicate: no event, not counted
  await event({ campaign: "c1", subscriber: 2, status: "approve" });
  await event({ campaign: "c1", subscriber: 3, status: "wait", click: "a3" }); // the click arrives: wait again
  await event({ campaign: "c1", subscriber: 2, status: "cancel" });
  await event({ campaign: "c1", subscriber: 2, status: "approve" }); // re-join
  await event({ campaign: "c1", subscriber: 1, status: "trash" });
  await event({ campaign: "c2", subscriber: 9, status: "wait", click: "b9" });
  const inbound = await fetch(`${svc.url}/api/postback?key=${INBOUND}&click=b9&campaign=c2&status=sale`);
  expect(((await inbound.json()) as { status: string }).status).toBe("ok");
  // A lead event with its own time (yesterday in Moscow): counted on its day, its postback on today's.
  await event({ campaign: "c1", subscriber: 4, status: "wait", click: "a4", time: (T0 - 86_400_000) / 1000 });
  // 4 wait (subscriber 3's first wait has no click: skipped, no_click) + 3 approve + 1 cancel + 1 trash postbacks of c1.
  await eventually(() => tracker.received.length >= 9, 10_000, "postbacks");
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 1, 5000, "outcomes settle");
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await tracker?.close();
});

const stats = async (query: string) => {
  const r = await svc.api("GET", `/api/stats${query}`);
  expect(r.status).toBe(200);
  return r.body;
};
const campaign = (body: any, code: string) => body.campaigns.find((c: any) => c.campaign === code);

describe("GET /api/stats", () => {
  test("counts events and unique leads per step, per campaign, in the configured time zone by default", async () => {
    const s = await stats("?since=2024-05-01&until=2024-05-03");
    expect(s).toMatchObject({ timezone: "Europe/Moscow", since: "2024-04-30T21:00:00.000Z", until: "2024-05-02T21:00:00.000Z", bucket_minutes: 15, days: ["2024-05-01", "2024-05-02"] });
    const c1 = campaign(s, "c1");
    expect(c1.events).toEqual({ wait: 4, hold: 1, approve: 3, cancel: 1, trash: 1 });
    expect(c1.leads).toEqual({ wait: 3, hold: 1, approve: 2, cancel: 1, trash: 1 });
    // Two joins for one request: subscriber 2 joined without one. Only subscriber 1's request ended in a join.
    expect(c1.join_requests_approved).toBe(1);
    expect(c1.rates).toEqual({
      join_requests_per_start: 0.3333, joins_per_start: 0.6667, joins_per_join_request: 2, join_requests_approved_per_join_request: 1, leaves_per_join: 0.5, bans_per_join: 0.5,
    });
    // subscriber 3's first wait had no click: skipped (no_click), not sent
    expect(c1.postbacks).toEqual({ total: 10, delivered: 7, pending: 1, failed: 0, rejected: 1, skipped: 1 });
    // Inbound postbacks count like any event; c2 has no templates.
    expect(campaign(s, "c2")).toMatchObject({ events: { wait: 1, approve: 1 }, leads: { wait: 1, approve: 1 }, postbacks: { total: 0, delivered: 0 } });
    // A configured campaign without data is listed with zeroes.
    expect(campaign(s, "quiet")).toMatchObject({ events: { wait: 0 }, rates: { joins_per_start: null } });
    expect(s.totals.events).toEqual({ wait: 5, hold: 1, approve: 4, cancel: 1, trash: 1 });
    expect(s.totals.postbacks).toEqual({ total: 10, delivered: 7, pending: 1, failed: 0, rejected: 1, skipped: 1 });
  });

  test("days are local days of the chosen zone: 23:30 and 00:30 in Moscow are two days, in UTC one", async () => {
    const moscow = await stats("?since=2024-05-01&until=2024-05-03&campaign=c1");
    expect(moscow.items).toEqual([
      { day: "2024-05-01", campaign: "c1", wait: 3, hold: 0, approve: 0, cancel: 0, trash: 0, leads: { wait: 3, hold: 0, approve: 0, cancel: 0, trash: 0 } },
      { day: "2024-05-02", campaign: "c1", wait: 1, hold: 1, approve: 3, cancel: 1, trash: 1, leads: { wait: 0, hold: 1, approve: 2, cancel: 1, trash: 1 } },
    ]);
    const utc = await stats("?since=2024-05-01&until=2024-05-02&campaign=c1&tz=UTC");
    expect(utc.days).toEqual(["2024-05-01"]);
    expect(utc.items).toEqual([
      { day: "2024-05-01", campaign: "c1", wait: 4, hold: 1, approve: 3, cancel: 1, trash: 1, leads: { wait: 3, hold: 1, approve: 2, cancel: 1, trash: 1 } },
    ]);
    // Kolkata (UTC+5:30): both instants are on May 2 there.
    const kolkata = await stats("?since=2024-05-02&until=2024-05-03&campaign=c1&tz=Asia/Kolkata");
    expect(kolkata.items.map((i: any) => [i.day, i.wait, i.approve])).toEqual([["2024-05-02", 4, 3]]);
  });

  test("unique leads count a lead in the period of its first event of that status only", async () => {
    const day2 = await stats("?since=2024-05-02&until=2024-05-03&campaign=c1");
    const c1 = campaign(day2, "c1");
    expect(c1.events.wait).toBe(1); // subscriber 3's click arrived
    expect(c1.leads.wait).toBe(0); // … but the lead started on May 1
    expect(c1.rates.joins_per_start).toBeNull();
    // Postbacks by their creation time: today's 1 wait, 3 approve, 1 cancel, 1 trash, and the wait of the back-dated event.
    expect(c1.postbacks).toEqual({ total: 7, delivered: 5, pending: 1, failed: 0, rejected: 1, skipped: 0 });
  });

  test("an event with its own time is counted on that day; without bounds the period starts at the first day with data", async () => {
    const all = await stats("?campaign=c1");
    expect(all.days[0]).toBe("2024-04-30");
    expect(all.items[0]).toMatchObject({ day: "2024-04-30", wait: 1 });
    expect(campaign(all, "c1").events).toEqual({ wait: 5, hold: 1, approve: 3, cancel: 1, trash: 1 });
  });

  test("bounds are rounded to the 15-minute buckets, and the answer says which bounds it used", async () => {
    const s = await stats(`?since=${encodeURIComponent("2024-05-01T20:40:00Z")}&until=${encodeURIComponent("2024-05-01T21:31:00Z")}&campaign=c1`);
    expect([s.since, s.until]).toEqual(["2024-05-01T20:30:00.000Z", "2024-05-01T21:45:00.000Z"]);
    expect(campaign(s, "c1").events.wait).toBe(4);
    const none = await stats(`?since=${encodeURIComponent("2024-05-01T20:45:00Z")}&until=${encodeURIComponent("2024-05-01T21:30:00Z")}&campaign=c1`);
    expect(campaign(none, "c1").events.wait).toBe(0);
  });

  test("the counters agree with a recount of the events table", async () => {
    const db = await svc.db({ readonly: true });
    try {
      const recount = await db.all(`SELECT campaign_id AS c, status, count(*) AS events, count(DISTINCT lead_id) AS leads FROM lead_events GROUP BY 1, 2 ORDER BY 1, 2`);
      const buckets = await db.all("SELECT campaign_id AS c, status, sum(events) AS events, sum(leads) AS leads FROM lead_stats WHERE bucket >= 0 GROUP BY 1, 2 ORDER BY 1, 2");
      const totals = await db.all("SELECT campaign_id AS c, status, events, leads FROM lead_stats WHERE bucket = -1 ORDER BY 1, 2");
      expect(recount.length).toBeGreaterThan(3);
      expect(buckets).toEqual(recount);
      expect(totals).toEqual(recount);
      const postbacks = async (where: string) => (await db.get<{ n: number }>(`SELECT sum(postbacks) AS n FROM lead_stats WHERE ${where}`))!.n;
      const rows = (await db.get<{ n: number }>("SELECT count(*) AS n FROM postbacks WHERE channel = 'http'"))!.n;
      expect([await postbacks("bucket >= 0"), await postbacks("bucket = -1")]).toEqual([rows, rows]);
    } finally {
      await db.close();
    }
  });

  test("a bad time zone, bound or period gets 422 naming the field", async () => {
    const cases: [string, string][] = [
      ["?tz=Mars/Base", "query.tz"],
      ["?tz=%2B03:00", "query.tz"],
      ["?since=yesterday", "query.since"],
      ["?until=2024-02-30", "query.until"],
      ["?since=2024-05-02&until=2024-05-01", "query.until"],
      ["?since=99999999999999999999", "query.since"],
      ["?until=%2B275760-09-13T00:00:00.001Z", "query.until"],
      ["?since=0001-01-01", "query.since"],
      ["?since=2000-01-01&until=2024-01-01", "query.since"],
    ];
    for (const [query, field] of cases) {
      const r = await svc.api("GET", `/api/stats${query}`);
      expect({ query, status: r.status, field: r.body.error?.details?.[0]?.field }).toEqual({ query, status: 422, field });
    }
  });

  test("GET /api/campaigns takes its all-time counters from the same counters", async () => {
    const items = (await svc.api("GET", "/api/campaigns")).body.items;
    const c1 = items.find((c: any) => c.code === "c1");
    expect(c1.counters).toEqual({ starts: 5, confirms: 3, unsubs: 2, postbacks: { delivered: 7, pending: 1, rejected: 1, skipped: 1 } });
  });
});
