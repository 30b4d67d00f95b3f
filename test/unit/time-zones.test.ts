import { describe, expect, test } from "bun:test";
import {
  BUCKET_MS, bucketCeil, bucketOf, canonicalTimeZone, dayStart, localDate, localDays, parsePeriodBound, wallToInstant, zoneOffsetMs,
} from "../../src/lib/time-zones.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const H = 3_600_000;

describe("canonicalTimeZone", () => {
  test.each([
    ["UTC", "UTC"],
    ["Europe/Moscow", "Europe/Moscow"],
    ["europe/moscow", "Europe/Moscow"],
    ["Asia/Kolkata", "Asia/Kolkata"],
    ["America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"],
    ["Etc/GMT-3", "Etc/GMT-3"],
  ])("%s is known as %s", (name, canonical) => {
    expect(canonicalTimeZone(name)).toBe(canonical);
  });

  test.each(["Mars/Olympus", "Moscow", "+03:00", "UTC+3", "", " Europe/Moscow", "Europe/Moscow ", "../etc/passwd", "x".repeat(100)])("%p is refused", (name) => {
    expect(canonicalTimeZone(name)).toBeUndefined();
  });
});

describe("zone offsets and local dates", () => {
  test.each([
    ["UTC", "2024-06-01T12:00:00Z", 0],
    ["Europe/Moscow", "2024-06-01T12:00:00Z", 3 * H],
    ["Europe/Berlin", "2024-01-15T12:00:00Z", 1 * H],
    ["Europe/Berlin", "2024-07-15T12:00:00Z", 2 * H],
    ["Asia/Kolkata", "2024-06-01T12:00:00Z", 5.5 * H],
    ["Asia/Kathmandu", "2024-06-01T12:00:00Z", 5.75 * H],
    ["America/St_Johns", "2024-01-15T12:00:00Z", -3.5 * H],
    ["Pacific/Chatham", "2024-07-15T12:00:00Z", 12.75 * H],
    ["Australia/Lord_Howe", "2024-01-15T12:00:00Z", 11 * H],
    ["Australia/Lord_Howe", "2024-07-15T12:00:00Z", 10.5 * H],
  ])("%s at %s is offset by %d ms, a multiple of the 15-minute bucket", (tz, at, offset) => {
    expect(zoneOffsetMs(tz, Date.parse(at))).toBe(offset);
    expect(Math.abs(offset % BUCKET_MS)).toBe(0);
  });

  test.each([
    ["Europe/Moscow", "2024-05-01T20:59:59Z", "2024-05-01"],
    ["Europe/Moscow", "2024-05-01T21:00:00Z", "2024-05-02"],
    ["America/New_York", "2024-05-02T03:59:59Z", "2024-05-01"],
    ["UTC", "2024-05-01T23:59:59Z", "2024-05-01"],
  ])("in %s, %s falls on %s", (tz, at, date) => {
    expect(localDate(tz, Date.parse(at))).toBe(date);
  });
});

describe("local wall time to instant", () => {
  test.each([
    // zone, wall time, instant
    ["Europe/Moscow", [2024, 5, 1, 0, 0], "2024-04-30T21:00:00.000Z"],
    ["Asia/Kolkata", [2024, 5, 1, 0, 0], "2024-04-30T18:30:00.000Z"],
    // Berlin spring forward 2024-03-31 02:00 → 03:00: 02:30 does not exist and moves on by the gap.
    ["Europe/Berlin", [2024, 3, 31, 2, 30], "2024-03-31T01:30:00.000Z"],
    ["Europe/Berlin", [2024, 3, 31, 3, 0], "2024-03-31T01:00:00.000Z"],
    // Berlin fall back 2024-10-27 03:00 → 02:00: 02:30 happens twice, the first one is taken.
    ["Europe/Berlin", [2024, 10, 27, 2, 30], "2024-10-27T00:30:00.000Z"],
    // Santiago skips midnight (2024-09-08 00:00 → 01:00): the day starts at 01:00 local.
    ["America/Santiago", [2024, 9, 8, 0, 0], "2024-09-08T04:00:00.000Z"],
  ] as const)("%s %p is %s", (tz, [y, m, d, h, mi], expected) => {
    expect(iso(wallToInstant(tz, y, m, d, h, mi))).toBe(expected);
  });

  test("a DST day is 23 or 25 hours long and its days are contiguous", () => {
    const days = localDays("Europe/Berlin", dayStart("Europe/Berlin", "2024-03-30"), dayStart("Europe/Berlin", "2024-04-01"));
    expect(days.map((d) => [d.date, (d.end - d.start) / H])).toEqual([["2024-03-30", 24], ["2024-03-31", 23]]);
    const fall = localDays("Europe/Berlin", dayStart("Europe/Berlin", "2024-10-27"), dayStart("Europe/Berlin", "2024-10-28"));
    expect(fall.map((d) => [d.date, (d.end - d.start) / H])).toEqual([["2024-10-27", 25]]);
    const santiago = localDays("America/Santiago", dayStart("America/Santiago", "2024-09-07"), dayStart("America/Santiago", "2024-09-09"));
    expect(santiago.map((d) => [d.date, (d.end - d.start) / H])).toEqual([["2024-09-07", 24], ["2024-09-08", 23]]);
    for (const d of [...days, ...fall, ...santiago]) expect([d.start % BUCKET_MS, d.end % BUCKET_MS]).toEqual([0, 0]);
  });

  test("localDays covers a period that starts and ends inside days", () => {
    const days = localDays("UTC", Date.parse("2024-05-01T10:00:00Z"), Date.parse("2024-05-03T00:00:01Z"));
    expect(days.map((d) => d.date)).toEqual(["2024-05-01", "2024-05-02", "2024-05-03"]);
    expect(localDays("UTC", 10, 10)).toEqual([]);
  });
});

describe("parsePeriodBound", () => {
  test.each([
    ["2024-05-01", "Europe/Moscow", "2024-04-30T21:00:00.000Z"],
    ["2024-05-01", "UTC", "2024-05-01T00:00:00.000Z"],
    ["2024-05-01T10:30", "Europe/Moscow", "2024-05-01T07:30:00.000Z"],
    ["2024-05-01 10:30:15", "Europe/Moscow", "2024-05-01T07:30:15.000Z"],
    ["2024-05-01T10:30:00Z", "Europe/Moscow", "2024-05-01T10:30:00.000Z"],
    ["2024-05-01T10:30:00+05:00", "UTC", "2024-05-01T05:30:00.000Z"],
    ["1714521600", "Europe/Moscow", "2024-05-01T00:00:00.000Z"],
  ])("%s in %s is %s", (value, tz, expected) => {
    const ms = parsePeriodBound(value, tz);
    expect(typeof ms === "number" ? iso(ms) : ms).toBe(expected);
  });

  test.each(["yesterday", "2024-13-01", "2024-02-30", "2024-05-01T25:00", "2024-05-01T10:61", "-5", "2024/05/01", "May 1 2024"])("%p is invalid", (value) => {
    expect(parsePeriodBound(value, "UTC")).toBe("invalid");
  });

  test("empty means no bound", () => {
    expect(parsePeriodBound(undefined, "UTC")).toBeUndefined();
    expect(parsePeriodBound("", "UTC")).toBeUndefined();
  });
});

test("buckets are 15 minutes of UTC time", () => {
  const t = Date.parse("2024-05-01T10:07:30Z");
  expect(iso(bucketOf(t))).toBe("2024-05-01T10:00:00.000Z");
  expect(iso(bucketCeil(t))).toBe("2024-05-01T10:15:00.000Z");
  expect(bucketCeil(bucketOf(t))).toBe(bucketOf(t));
});
