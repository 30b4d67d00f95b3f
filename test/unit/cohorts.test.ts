import { describe, expect, test } from "bun:test";
import { cohortChange, retentionFigures, type MembershipChange } from "../../src/domain/cohorts.ts";

const DAY = 86_400_000;
const T = Date.UTC(2025, 2, 1, 10, 7); // a first join, 10:07 UTC
const BUCKET = Date.UTC(2025, 2, 1, 10, 0); // its 15-minute bucket
const none = { 1: 0, 7: 0, 14: 0, 30: 0 };

describe("cohortChange: what one event does to the cohort counters", () => {
  const cases: { name: string; c: MembershipChange; expected: ReturnType<typeof cohortChange> }[] = [
    { name: "a first join adds a member to its bucket", c: { prevStatus: "wait", status: "approve", at: T, firstJoinedAt: null }, expected: { bucket: BUCKET, joined: 1, out: none } },
    { name: "an approved join request is a first join too", c: { prevStatus: "hold", status: "approve", at: T, firstJoinedAt: null }, expected: { bucket: BUCKET, joined: 1, out: none } },
    { name: "a Start changes nothing", c: { prevStatus: null, status: "wait", at: T, firstJoinedAt: null }, expected: null },
    { name: "a join request changes nothing", c: { prevStatus: "wait", status: "hold", at: T, firstJoinedAt: null }, expected: null },
    { name: "a pending requester banned (never in) changes nothing", c: { prevStatus: "hold", status: "trash", at: T, firstJoinedAt: null }, expected: null },
    { name: "a leave within a day is out on every day", c: { prevStatus: "approve", status: "cancel", at: T + DAY - 1, firstJoinedAt: T }, expected: { bucket: BUCKET, joined: 0, out: { 1: 1, 7: 1, 14: 1, 30: 1 } } },
    { name: "a leave exactly a day later is still in on day 1", c: { prevStatus: "approve", status: "cancel", at: T + DAY, firstJoinedAt: T }, expected: { bucket: BUCKET, joined: 0, out: { 1: 0, 7: 1, 14: 1, 30: 1 } } },
    { name: "a ban on day 10 is out from day 14", c: { prevStatus: "approve", status: "trash", at: T + 10 * DAY, firstJoinedAt: T }, expected: { bucket: BUCKET, joined: 0, out: { 1: 0, 7: 0, 14: 1, 30: 1 } } },
    { name: "a re-join on day 3 is back in from day 7", c: { prevStatus: "cancel", status: "approve", at: T + 3 * DAY, firstJoinedAt: T }, expected: { bucket: BUCKET, joined: 0, out: { 1: 0, 7: -1, 14: -1, 30: -1 } } },
    { name: "a re-join through a request after a ban", c: { prevStatus: "hold", status: "approve", at: T + 20 * DAY, firstJoinedAt: T }, expected: { bucket: BUCKET, joined: 0, out: { 1: 0, 7: 0, 14: 0, 30: -1 } } },
    { name: "a leave after 30 days changes nothing reported", c: { prevStatus: "approve", status: "cancel", at: T + 30 * DAY, firstJoinedAt: T }, expected: null },
    { name: "an event timed before the first join counts as at it", c: { prevStatus: "approve", status: "cancel", at: T - 5000, firstJoinedAt: T }, expected: { bucket: BUCKET, joined: 0, out: { 1: 1, 7: 1, 14: 1, 30: 1 } } },
  ];
  test.each(cases)("$name", ({ c, expected }) => expect(cohortChange(c)).toEqual(expected));
});

describe("retentionFigures: a cohort's day N is not reported before it has come for every member", () => {
  const sums = { joined: 4, out: { 1: 1, 7: 2, 14: 2, 30: 3 } };
  const dayEnd = Date.UTC(2025, 2, 2);
  test("all days come", () => {
    expect(retentionFigures(sums, dayEnd, dayEnd + 30 * DAY)).toEqual([
      { day: 1, retained: 3, share: 0.75 }, { day: 7, retained: 2, share: 0.5 }, { day: 14, retained: 2, share: 0.5 }, { day: 30, retained: 1, share: 0.25 },
    ]);
  });
  test("day 7 a millisecond short: 7, 14 and 30 are null, not 0 %", () => {
    expect(retentionFigures(sums, dayEnd, dayEnd + 7 * DAY - 1).map((f) => f.retained)).toEqual([3, null, null, null]);
  });
  test("nobody joined: counts of 0 and no share", () => {
    expect(retentionFigures({ joined: 0, out: { 1: 0, 7: 0, 14: 0, 30: 0 } }, dayEnd, dayEnd + 40 * DAY)[0]).toEqual({ day: 1, retained: 0, share: null });
  });
});
