import { describe, expect, test } from "bun:test";
import { accountAgeClass, ACCOUNT_AGE_ERROR_MS, estimateAccountAge, OLD_ACCOUNT_MS } from "../../src/domain/account-age.ts";
import {
  FAST_LEAVE_MS, INSTANT_JOIN_MS, nextSignals, profileOf, qualityBand, scoreQuality, type QualitySignals,
} from "../../src/domain/quality.ts";

// In mid-2023 an id of the 2021 range is "middle": neither 3 years old nor above the last anchor.
const NOW = Date.UTC(2023, 5, 1);
const YEAR = 365 * 86_400_000;

describe("estimateAccountAge: the documented anchors, interpolated, with no bound invented above the last", () => {
  const cases: [string, number, ReturnType<typeof estimateAccountAge>][] = [
    ["not a user id", 0, null],
    ["negative (a chat id)", -1001234567890, null],
    ["the first id: Telegram's launch", 1, { kind: "about", at: Date.UTC(2013, 7, 1) }],
    ["an anchor: 200,000,000 ≈ 2016-01", 200_000_000, { kind: "about", at: Date.UTC(2016, 0, 1) }],
    ["an anchor: 1,919,000,000 ≈ 2020-08", 1_919_000_000, { kind: "about", at: Date.UTC(2020, 7, 1) }],
    // Halfway between 617e6 (2018-06-01) and 728e6 (2018-12-01): halfway in time.
    ["halfway between two anchors", 672_500_000, { kind: "about", at: (Date.UTC(2018, 5, 1) + Date.UTC(2018, 11, 1)) / 2 }],
    ["the last anchor: only 'after'", 5_397_000_000, { kind: "after", after: Date.UTC(2022, 2, 1) }],
    ["far above the last anchor", 8_100_000_000, { kind: "after", after: Date.UTC(2022, 2, 1) }],
  ];
  test.each(cases)("%s", (_name, id, expected) => expect(estimateAccountAge(id)).toEqual(expected));

  test("rising ids never give an earlier date", () => {
    let last = 0;
    for (let id = 1; id < 5_397_000_000; id += 37_000_001) {
      const age = estimateAccountAge(id)!;
      expect(age.kind).toBe("about");
      const at = (age as { at: number }).at;
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
    }
  });
});

describe("accountAgeClass: old only when even the late edge of the error band is 3 years back", () => {
  const at = Date.UTC(2020, 0, 1);
  const cases: [string, ReturnType<typeof estimateAccountAge>, number, string | null][] = [
    ["no estimate", null, NOW, null],
    ["above the last anchor", { kind: "after", after: Date.UTC(2022, 2, 1) }, NOW, "newest"],
    ["exactly 3 years + the error band", { kind: "about", at }, at + ACCOUNT_AGE_ERROR_MS + OLD_ACCOUNT_MS, "old"],
    ["a day short of it", { kind: "about", at }, at + ACCOUNT_AGE_ERROR_MS + OLD_ACCOUNT_MS - 86_400_000, "middle"],
    ["a 2016 account in 2023", estimateAccountAge(200_000_000), NOW, "old"],
    ["a 2021-05 account seen in 2023-06", estimateAccountAge(4_318_000_000), Date.UTC(2023, 5, 1), "middle"],
  ];
  test.each(cases)("%s", (_n, age, now, expected) => expect(accountAgeClass(age, now)).toBe(expected as never));
});

const base: QualitySignals = { premium: false, language: "en", hasUsername: true, subscriber: 4_318_000_000, startToJoinMs: 60_000, fastLeave: false };

describe("scoreQuality: 50 moved by each known signal, clamped to 0-100, with its reasons", () => {
  const cases: { name: string; s: Partial<QualitySignals>; score: number; codes: string[] }[] = [
    { name: "an API lead: nothing known but a middle-aged id", s: { premium: null, language: null, hasUsername: null, startToJoinMs: null }, score: 50, codes: [] },
    { name: "an ordinary subscriber (username, language, middle-aged id)", s: {}, score: 65, codes: ["username", "language"] },
    { name: "premium, old account", s: { premium: true, subscriber: 200_000_000 }, score: 100, codes: ["premium", "username", "language", "old_account"] },
    { name: "no username", s: { hasUsername: false }, score: 50, codes: ["no_username", "language"] },
    { name: "a profile without a language", s: { language: null }, score: 55, codes: ["username", "no_language"] },
    { name: "the newest id range", s: { subscriber: 7_000_000_000 }, score: 50, codes: ["username", "language", "newest_account"] },
    { name: `joined ${INSTANT_JOIN_MS - 1} ms after the Start`, s: { startToJoinMs: INSTANT_JOIN_MS - 1 }, score: 50, codes: ["username", "language", "instant_join"] },
    { name: `joined exactly ${INSTANT_JOIN_MS} ms after: not instant`, s: { startToJoinMs: INSTANT_JOIN_MS }, score: 65, codes: ["username", "language"] },
    { name: "a fast leave", s: { fastLeave: true }, score: 25, codes: ["username", "language", "fast_leave"] },
    {
      name: "every bad signal: clamped at 0", s: { hasUsername: false, language: null, subscriber: 7_000_000_000, startToJoinMs: 0, fastLeave: true },
      score: 0, codes: ["no_username", "no_language", "newest_account", "instant_join", "fast_leave"],
    },
  ];
  test.each(cases)("$name → $score", ({ s, score, codes }) => {
    const q = scoreQuality({ ...base, ...s }, NOW);
    expect(q.score).toBe(score);
    expect(q.reasons.map((r) => r.code as string)).toEqual(codes);
    // The reasons add up to the score unless it was clamped.
    if (score > 0 && score < 100) expect(q.reasons.reduce((a, r) => a + r.points, 50)).toBe(score);
  });
});

describe("qualityBand", () => {
  test.each([[0, "low"], [39, "low"], [40, "medium"], [69, "medium"], [70, "high"], [100, "high"]] as const)("%d → %s", (score, band) => {
    expect(qualityBand(score)).toBe(band);
  });
});

describe("profileOf reads Telegram's User object (is_premium absent unless true, language_code optional)", () => {
  test.each([
    [{ id: 1, is_bot: false, first_name: "A" }, { premium: false, language: null, hasUsername: false }],
    [{ id: 1, is_bot: false, first_name: "A", is_premium: true as const, language_code: "ru", username: "a" }, { premium: true, language: "ru", hasUsername: true }],
    [{ id: 1, is_bot: false, first_name: "A", language_code: "" }, { premium: false, language: null, hasUsername: false }],
  ])("%o", (user, expected) => expect(profileOf(user as Parameters<typeof profileOf>[0])).toEqual(expected));
});

describe("nextSignals: the first join's delay and a fast leave", () => {
  const created = NOW - 3_600_000;
  const start: QualitySignals = { ...base, startToJoinMs: null };
  test("the first join records the time from the Start", () => {
    expect(nextSignals(start, { status: "approve", at: created + 42_000, startedAt: created, joinedAt: null, firstJoin: true }).startToJoinMs).toBe(42_000);
  });
  test("a re-join keeps the first join's delay", () => {
    const joined = { ...start, startToJoinMs: 42_000 };
    expect(nextSignals(joined, { status: "approve", at: created + 999_000, startedAt: created, joinedAt: null, firstJoin: false }).startToJoinMs).toBe(42_000);
  });
  test.each([
    ["cancel", FAST_LEAVE_MS - 1, true], ["trash", FAST_LEAVE_MS - 1, true], ["cancel", FAST_LEAVE_MS, false], ["hold", 1, false],
  ] as const)("%s %d ms after the join → fast leave %p", (status, after, fast) => {
    expect(nextSignals(start, { status, at: NOW + after, startedAt: created, joinedAt: NOW, firstJoin: false }).fastLeave).toBe(fast);
  });
  test("a fast leave stays after a re-join; the profile seen with an event replaces the stored one", () => {
    const left = { ...start, fastLeave: true };
    const next = nextSignals(left, { status: "approve", at: NOW, startedAt: created, joinedAt: null, firstJoin: false, profile: { premium: true, language: "de", hasUsername: false } });
    expect(next).toMatchObject({ fastLeave: true, premium: true, language: "de", hasUsername: false });
  });
});

test("the old-account threshold is 3 years in ms", () => expect(OLD_ACCOUNT_MS).toBe(3 * YEAR));
