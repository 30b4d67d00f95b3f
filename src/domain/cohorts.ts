// Retention cohorts as pure rules (issue 22). A lead belongs to the cohort of its first join: the
// local day of that join, its welcome variant and its quality band then. It counts as retained on
// day N when it is in the chat N × 24 h after its first join: a leave or a ban (inside the
// unsubscribe window or not) takes it out, a re-join before that moment brings it back.
import { bucketOf } from "../lib/time-zones.ts";

/** The days after the first join that retention is reported for. */
export const RETENTION_DAYS = [1, 7, 14, 30] as const;
export type RetentionDay = (typeof RETENTION_DAYS)[number];

const DAY_MS = 86_400_000;

/** What one applied lead event did to the chat membership, in the lead's cohort terms. */
export interface MembershipChange {
  prevStatus: string | null;
  status: string;
  /** When it happened, epoch ms. */
  at: number;
  /** The lead's first join before this event; null when it never joined. */
  firstJoinedAt: number | null;
}

/** One cohort counter row's increments (storage: retention_counts). */
export interface CohortAdd {
  /** The 15-minute bucket of the first join. */
  bucket: number;
  joined: number;
  /** Change of the cohort members out of the chat on day N, per RETENTION_DAYS. */
  out: Record<RetentionDay, number>;
}

const outBefore = (offsetMs: number, delta: number): Record<RetentionDay, number> =>
  Object.fromEntries(RETENTION_DAYS.map((n) => [n, Math.max(0, offsetMs) < n * DAY_MS ? delta : 0])) as Record<RetentionDay, number>;

/**
 * The cohort counters one event moves: a first join adds a member to its bucket; a leave or ban
 * of a member counts it out on every reported day its moment precedes; a re-join counts it back
 * in on those days. Later than 30 days after the first join nothing changes; null when nothing does.
 */
export function cohortChange(c: MembershipChange): CohortAdd | null {
  const joins = c.status === "approve";
  const leaves = c.prevStatus === "approve" && (c.status === "cancel" || c.status === "trash");
  if (joins && c.firstJoinedAt === null) return { bucket: bucketOf(c.at), joined: 1, out: outBefore(Infinity, 0) };
  if (c.firstJoinedAt === null || (!joins && !leaves)) return null;
  const offset = c.at - c.firstJoinedAt;
  if (offset >= RETENTION_DAYS.at(-1)! * DAY_MS) return null;
  return { bucket: bucketOf(c.firstJoinedAt), joined: 0, out: outBefore(offset, joins ? -1 : 1) };
}

/** Cohort counter sums of one day (and group). */
export interface CohortSums {
  joined: number;
  out: Record<RetentionDay, number>;
}

export interface RetentionFigure {
  day: RetentionDay;
  /** null while some member's day N is still to come. */
  retained: number | null;
  /** retained ÷ joined, 4 decimals; null when not reported or nobody joined. */
  share: number | null;
}

/**
 * A cohort's retention: for each reported day, the members still in and their share — or null
 * while the day N of its last possible member (the day's end + N × 24 h) is still in the future,
 * so a young cohort is never shown as 0 %.
 */
export function retentionFigures(sums: CohortSums, dayEnd: number, now: number): RetentionFigure[] {
  return RETENTION_DAYS.map((day) => {
    if (dayEnd + day * DAY_MS > now) return { day, retained: null, share: null };
    const retained = sums.joined - sums.out[day];
    return { day, retained, share: sums.joined > 0 ? Math.round((retained / sums.joined) * 10_000) / 10_000 : null };
  });
}
