// GET /api/retention against a hand-computed data set: re-joins, a ban, a leave outside the
// unsubscribe window, a fast leave, a cohort too young for its later days, and a DST change in
// the dashboard's time zone (Europe/Berlin moves to summer time on 2025-03-30: that day is 23 h).
// Each event is sent when it happens (the fake clock is set to its time first).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const Z = (iso: string) => Date.parse(`${iso}Z`);
const clock = new FakeClock(Z("2025-03-01T00:00"));
let svc: TestService;

// Old ids (2021 range): 50 + old_account 15 = 65, band medium. F's id is in the newest range: 35, low.
const A = 4_318_000_001, B = 4_318_000_002, C = 4_318_000_003, D = 4_318_000_004, E = 4_318_000_005, F = 7_000_000_006, H = 4_318_000_008;

/** [time (UTC), subscriber, status] in the order they happen. */
const EVENTS: [string, number, string][] = [
  // Cohort 2025-03-29 (Berlin, UTC+1: [03-28T23:00Z, 03-29T23:00Z)): A, C and B.
  ["2025-03-29T10:00", A, "wait"], ["2025-03-29T10:05", A, "approve"],
  ["2025-03-29T11:59", C, "wait"], ["2025-03-29T12:00", C, "approve"],
  ["2025-03-29T22:29", B, "wait"], ["2025-03-29T22:30", B, "approve"], // 23:30 local
  // Cohort 2025-03-30, the DST day ([03-29T23:00Z, 03-30T22:00Z)): D (00:30 local, still the 29th in UTC), F, E.
  ["2025-03-29T23:29", D, "wait"], ["2025-03-29T23:30", D, "approve"],
  ["2025-03-30T07:59", F, "wait"], ["2025-03-30T08:00", F, "approve"],
  ["2025-03-30T20:00", B, "cancel"], // 21.5 h after B's join: out on day 1
  ["2025-03-30T21:29", E, "wait"], ["2025-03-30T21:30", E, "approve"], // 23:30 local, CEST
  ["2025-03-30T21:40", E, "cancel"], // a fast leave: out from day 1 on
  ["2025-04-02T08:00", B, "approve"], // B re-joins on day 3: back in from day 7
  ["2025-04-03T08:00", F, "cancel"], // 4 days after the join, outside the 1 h window: no postback, still a leave
  ["2025-04-08T12:00", C, "trash"], // C banned on day 10: out from day 14
  // Cohort 2025-04-20: too young on 2025-05-01 for its days 14 and 30.
  ["2025-04-20T09:59", H, "wait"], ["2025-04-20T10:00", H, "approve"],
];
const NOW = Z("2025-05-01T12:00");

beforeAll(async () => {
  svc = await startTestService({
    dashboard: { timezone: "Europe/Berlin" },
    campaigns: [{ code: "spring", unsub_window: "1h" }],
  }, { clock });
  for (const [at, subscriber, status] of EVENTS) {
    clock.advance(Z(at) - clock.now());
    const r = await svc.api("POST", "/api/events", { campaign: "spring", subscriber, status, click: `c${subscriber}` });
    expect(r.body.applied).toBe(true);
  }
  clock.advance(NOW - clock.now());
});
afterAll(() => svc.stop());

const fig = (...retained: (number | null)[]) => (joined: number) => [1, 7, 14, 30].map((day, i) => ({
  day, retained: retained[i], share: retained[i] === null ? null : Math.round((retained[i]! / joined) * 10_000) / 10_000,
}));
const cohort = (day: string, joined: number, f: (j: number) => unknown) => ({ day, joined, retention: f(joined) });

describe("GET /api/retention", () => {
  test("cohorts by the local day of the first join, re-joins and bans at their moments, young days not reported", async () => {
    const r = await svc.api("GET", "/api/retention?campaign=spring&since=2025-03-01&until=2025-05-02");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ timezone: "Europe/Berlin", by: "none", days_after: [1, 7, 14, 30] });
    expect(r.body.campaigns).toEqual([{
      campaign: "spring", in_config: true,
      groups: [{
        group: "all",
        cohorts: [
          cohort("2025-03-29", 3, fig(2, 3, 2, 2)), // B out on day 1, back by 7; C out from 14
          cohort("2025-03-30", 3, fig(2, 1, 1, 1)), // E out from day 1, F from day 7
          cohort("2025-04-20", 1, fig(1, 1, null, null)),
        ],
        total: [
          { day: 1, joined: 7, retained: 5, share: 0.7143 },
          { day: 7, joined: 7, retained: 5, share: 0.7143 },
          { day: 14, joined: 6, retained: 3, share: 0.5 }, // the 04-20 cohort is left out, not counted as 0 %
          { day: 30, joined: 6, retained: 3, share: 0.5 },
        ],
      }],
    }]);
  });

  test("in UTC the same joins fall on other days (D joined at 23:30Z on the 29th)", async () => {
    const r = await svc.api("GET", "/api/retention?campaign=spring&tz=UTC&since=2025-03-29&until=2025-03-31");
    expect(r.body.campaigns[0].groups[0].cohorts.map((c: { day: string; joined: number }) => [c.day, c.joined])).toEqual([["2025-03-29", 4], ["2025-03-30", 2]]);
  });

  test("by quality: the band each lead had at its first join", async () => {
    const r = await svc.api("GET", "/api/retention?campaign=spring&by=quality&since=2025-03-01&until=2025-05-02");
    const groups = r.body.campaigns[0].groups;
    expect(groups.map((g: { group: string }) => g.group)).toEqual(["low", "medium"]);
    expect(groups[0].cohorts).toEqual([cohort("2025-03-30", 1, fig(1, 0, 0, 0))]);
    expect(groups[1].cohorts).toEqual([
      cohort("2025-03-29", 3, fig(2, 3, 2, 2)), cohort("2025-03-30", 2, fig(1, 1, 1, 1)), cohort("2025-04-20", 1, fig(1, 1, null, null)),
    ]);
  });

  test("GET /api/stats: Start → join and day-7 retention per variant and per quality band", async () => {
    const c = (await svc.api("GET", "/api/stats?campaign=spring&since=2025-03-01&until=2025-05-02")).body.campaigns[0];
    // One plain welcome (no variants): a single group "". Day 7 has come for every cohort; 5 of 7 in.
    expect(c.by_variant).toEqual([{ group: "", starts: 7, joins: 7, joins_per_start: 1, day7_cohort: 7, day7_retained: 5, day7_retention: 0.7143 }]);
    expect(c.by_quality).toEqual([
      { group: "low", starts: 1, joins: 1, joins_per_start: 1, day7_cohort: 1, day7_retained: 0, day7_retention: 0 },
      { group: "medium", starts: 6, joins: 6, joins_per_start: 1, day7_cohort: 6, day7_retained: 5, day7_retention: 0.8333 },
    ]);
  });

  test("F's leave outside the unsubscribe window sent nothing, yet counts here", async () => {
    const lead = (await svc.api("GET", `/api/leads?subscriber=${F}`)).body.items[0];
    const events = (await svc.api("GET", `/api/leads/${lead.id}`)).body.events;
    expect(events.at(-1)).toMatchObject({ status: "cancel", reason: "outside_unsub_window" });
  });

  test("bad input names its field", async () => {
    expect((await svc.api("GET", "/api/retention?by=month")).status).toBe(422);
    const tz = await svc.api("GET", "/api/retention?tz=Mars/Base");
    expect(tz.status).toBe(422);
    expect(JSON.stringify(tz.body)).toContain("query.tz");
  });
});
