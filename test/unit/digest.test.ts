// The digest's schedule (domain/digest.ts): a local time, once per local date, across DST changes.
import { describe, expect, test } from "bun:test";
import { digestInstant, dueDigest, nextDigestAt } from "../../src/domain/digest.ts";

const NY = "America/New_York"; // DST: 2026-03-08 02:00 → 03:00 (EST -5 → EDT -4); 2026-11-01 02:00 → 01:00
const at = (hour: number, minute = 0) => ({ hour, minute });

describe("digestInstant", () => {
  test.each<[string, string, { hour: number; minute: number }, string]>([
    ["09:00 the day before spring forward (EST)", "2026-03-07", at(9), "2026-03-07T14:00:00.000Z"],
    ["09:00 on the day of spring forward (EDT): 23 hours later", "2026-03-08", at(9), "2026-03-08T13:00:00.000Z"],
    ["02:30 skipped by spring forward: just after the gap, 03:30 EDT", "2026-03-08", at(2, 30), "2026-03-08T07:30:00.000Z"],
    ["01:30 twice on fall back: the first one (EDT)", "2026-11-01", at(1, 30), "2026-11-01T05:30:00.000Z"],
    ["09:00 after fall back (EST): 25 hours after the day before's", "2026-11-01", at(9), "2026-11-01T14:00:00.000Z"],
    ["00:00 in Kolkata (+5:30)", "2026-03-08", at(0), "2026-03-07T18:30:00.000Z"],
  ])("%s", (_name, date, time, iso) => {
    const zone = _name.includes("Kolkata") ? "Asia/Kolkata" : NY;
    expect(new Date(digestInstant(zone, date, time)).toISOString()).toBe(iso);
  });
});

describe("dueDigest", () => {
  const t = (iso: string) => Date.parse(iso);
  test("not before its local time; at it, for the local day before with that day's own length", () => {
    expect(dueDigest(NY, at(9), t("2026-03-08T12:59:59Z"), "2026-03-07")).toBeNull();
    const due = dueDigest(NY, at(9), t("2026-03-08T13:00:00Z"), "2026-03-07")!;
    expect(due.date).toBe("2026-03-08");
    expect(due.day).toEqual({ date: "2026-03-07", start: t("2026-03-07T05:00:00Z"), end: t("2026-03-08T05:00:00Z") });
    const shortDay = dueDigest(NY, at(9), t("2026-03-09T13:00:00Z"), "2026-03-08")!;
    expect(shortDay.day.end - shortDay.day.start).toBe(23 * 3_600_000);
  });

  test("once per local date; a late start the same day still sends it", () => {
    expect(dueDigest(NY, at(9), t("2026-03-08T20:00:00Z"), "2026-03-08")).toBeNull();
    expect(dueDigest(NY, at(9), t("2026-03-08T20:00:00Z"), "2026-03-07")?.date).toBe("2026-03-08");
    expect(dueDigest(NY, at(9), t("2026-03-08T20:00:00Z"), null)?.date).toBe("2026-03-08");
  });

  test("the local date decides, not UTC's: 23:30 local is still the same day", () => {
    // 2026-03-08 23:30 EDT = 2026-03-09 03:30Z: today is the 8th in New York.
    expect(dueDigest(NY, at(9), t("2026-03-09T03:30:00Z"), "2026-03-08")).toBeNull();
  });
});

describe("nextDigestAt", () => {
  const t = (iso: string) => Date.parse(iso);
  test.each<[string, string]>([
    ["2026-03-07T10:00:00Z", "2026-03-07T14:00:00.000Z"],
    ["2026-03-07T14:00:00Z", "2026-03-08T13:00:00.000Z"], // at it: the next one, 23 h later across the change
    ["2026-10-31T15:00:00Z", "2026-11-01T14:00:00.000Z"], // 25 h after the one before
  ])("after %s: %s", (now, next) => {
    expect(new Date(nextDigestAt(NY, at(9), t(now))).toISOString()).toBe(next);
  });
});
