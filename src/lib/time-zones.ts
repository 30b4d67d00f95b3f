// Time zones and buckets of the per-period counters (pure functions, table-tested).
//
// Counters are kept per 15-minute bucket of UTC time. Every time zone in use today is offset from
// UTC by a multiple of 15 minutes (India +5:30, Nepal +5:45, Chatham +12:45, Newfoundland -3:30,
// Lord Howe's 30-minute DST), so a local day — in any zone, on either side of a DST change — is an
// exact run of whole buckets. Hour buckets would misplace the half-hour zones; day buckets could
// only answer in UTC.

export const BUCKET_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

export const bucketOf = (ms: number) => Math.floor(ms / BUCKET_MS) * BUCKET_MS;
export const bucketCeil = (ms: number) => Math.ceil(ms / BUCKET_MS) * BUCKET_MS;

// An IANA name: "UTC", "Europe/Moscow", "America/Argentina/Buenos_Aires", "Etc/GMT-3". Offset
// strings ("+03:00") are refused: they have no DST rules and are not what the config asks for.
const IANA = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The canonical spelling of an IANA time zone name, or undefined when the runtime does not know it. */
export function canonicalTimeZone(name: string): string | undefined {
  if (!IANA.test(name) || name.length > 64) return undefined;
  try {
    return formatter(name).resolvedOptions().timeZone;
  } catch {
    return undefined; // RangeError: invalid time zone
  }
}

interface Wall { year: number; month: number; day: number; hour: number; minute: number; second: number }

function wallTime(timeZone: string, ms: number): Wall {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) if (p.type !== "literal") out[p.type] = Number(p.value);
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour!, minute: out.minute!, second: out.second! };
}

/** Local time minus UTC at that instant, in ms (Moscow: +10,800,000). */
export function zoneOffsetMs(timeZone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const w = wallTime(timeZone, whole);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/** The local calendar date of an instant, as YYYY-MM-DD. */
export function localDate(timeZone: string, ms: number): string {
  const w = wallTime(timeZone, ms);
  return `${String(w.year).padStart(4, "0")}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/**
 * The instant a local wall time happens. A wall time skipped by a DST change (a gap) is moved
 * forward by the length of the gap (02:30 on a spring-forward night → 03:30, as Temporal's
 * "compatible"), so a midnight that does not exist gives the first instant of that day; a wall
 * time that happens twice (an overlap) is taken as the first of the two.
 */
export function wallToInstant(timeZone: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // Try the offsets in force around that time: the earliest candidate whose wall time matches.
  const offsets = new Set([zoneOffsetMs(timeZone, wall - DAY_MS), zoneOffsetMs(timeZone, wall), zoneOffsetMs(timeZone, wall + DAY_MS)]);
  const exact = [...offsets].map((o) => wall - o).filter((t) => zoneOffsetMs(timeZone, t) === wall - t).sort((a, b) => a - b);
  if (exact.length) return exact[0]!;
  // In a gap: the offset in force before the gap, which lands after it.
  return Math.min(...[...offsets].map((o) => wall - o).filter((t) => t + zoneOffsetMs(timeZone, t) >= wall));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WALL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Midnight at the start of a local date (YYYY-MM-DD) in the zone. */
export function dayStart(timeZone: string, date: string): number {
  const [, y, m, d] = DATE.exec(date)!;
  return wallToInstant(timeZone, Number(y), Number(m), Number(d));
}

/** The date after a YYYY-MM-DD date (calendar arithmetic, no zone involved). */
export function nextDate(date: string): string {
  const [, y, m, d] = DATE.exec(date)!;
  return new Date(Date.UTC(Number(y), Number(m) - 1, Number(d) + 1)).toISOString().slice(0, 10);
}

const validDate = (y: number, m: number, d: number) => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
};

/**
 * A period bound given by a user: a local date (`2024-05-01`, midnight in the zone), a local wall
 * time without offset (`2024-05-01T10:00`, in the zone), an ISO time with `Z` or an offset
 * (absolute), or UNIX seconds. Returns epoch ms, undefined when empty, "invalid" otherwise.
 */
export function parsePeriodBound(value: string | undefined, timeZone: string): number | undefined | "invalid" {
  if (value === undefined || value === "") return undefined;
  const ms = parseBound(value, timeZone);
  return ms === "invalid" || ms < 0 || ms > LATEST_MS ? "invalid" : ms;
}

/**
 * The last bound taken: 9999-12-30 (UTC). Later ones are typos, and the local days around them
 * (a day past a bound, in a zone up to 14 h ahead) would run into year 10000, which dates cannot show.
 */
const LATEST_MS = Date.UTC(9999, 11, 30);

function parseBound(value: string, timeZone: string): number | "invalid" {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const wall = DATE.exec(value) ?? WALL.exec(value);
  if (wall) {
    const [y, m, d, h, mi, s] = wall.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as [number, number, number, number, number, number];
    if (!validDate(y, m, d) || h > 23 || mi > 59 || s > 59) return "invalid";
    return wallToInstant(timeZone, y, m, d, h, mi, s);
  }
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return "invalid";
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? "invalid" : ms;
}

export interface LocalDay {
  /** YYYY-MM-DD in the zone */
  date: string;
  /** [start, end) in epoch ms; 23, 24 or 25 hours long (DST) */
  start: number;
  end: number;
}

/** Longest period a stats query covers, in local days (10 years). */
export const MAX_DAYS = 3660;

/** The local days that [since, until) touches, each with its exact UTC bounds. */
export function localDays(timeZone: string, since: number, until: number, maxDays = MAX_DAYS + 2): LocalDay[] {
  const days: LocalDay[] = [];
  if (until <= since) return days;
  let date = localDate(timeZone, since);
  let start = dayStart(timeZone, date);
  while (start < until && days.length < maxDays) {
    const next = nextDate(date);
    const end = dayStart(timeZone, next);
    days.push({ date, start, end });
    date = next;
    start = end;
  }
  return days;
}

/** An instant as the zone's wall clock reads it: YYYY-MM-DD HH:MM:SS. */
export function localDateTime(timeZone: string, ms: number): string {
  const w = wallTime(timeZone, ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${localDate(timeZone, ms)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
}
