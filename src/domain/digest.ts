// When the daily digest is due (pure; table-tested in test/unit/digest.test.ts): at a local time
// of a time zone, once per local date, for the local day before. Across a DST change the local
// time stays the local time (09:00 is 09:00 on both sides); a time that a spring-forward night
// skips is taken as the moment just after the gap (02:30 → 03:30), one that happens twice as the first.
import { dayStart, localDate, nextDate, wallToInstant } from "../lib/time-zones.ts";

export interface DigestTime {
  hour: number;
  minute: number;
}

/** The instant of the digest time on a local date. */
export function digestInstant(timeZone: string, date: string, at: DigestTime): number {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return wallToInstant(timeZone, y, m, d, at.hour, at.minute);
}

/** The local date before a YYYY-MM-DD date. */
export function previousDate(date: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

export interface DueDigest {
  /** The local date it is sent on (recorded, so it is sent once). */
  date: string;
  /** The day it reports: the local date before, [start, end) in epoch ms (23, 24 or 25 hours). */
  day: { date: string; start: number; end: number };
}

/**
 * The digest due at `now`, or null: today's (local) once its time has come and it was not sent
 * today yet (`lastSent` is the local date of the last one). A service that was down at the time
 * sends it when it is back, the same day.
 */
export function dueDigest(timeZone: string, at: DigestTime, now: number, lastSent: string | null): DueDigest | null {
  const today = localDate(timeZone, now);
  if (lastSent !== null && lastSent >= today) return null;
  if (now < digestInstant(timeZone, today, at)) return null;
  const yesterday = previousDate(today);
  return { date: today, day: { date: yesterday, start: dayStart(timeZone, yesterday), end: dayStart(timeZone, today) } };
}

/** When the next digest is due after `now`: today's time if it is still ahead, else tomorrow's. */
export function nextDigestAt(timeZone: string, at: DigestTime, now: number): number {
  const today = localDate(timeZone, now);
  const todays = digestInstant(timeZone, today, at);
  return todays > now ? todays : digestInstant(timeZone, nextDate(today), at);
}
