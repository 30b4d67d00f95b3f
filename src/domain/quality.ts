import { accountAgeClass, estimateAccountAge, type AccountAge } from "./account-age.ts";

/** What the bot learned of a subscriber (Telegram's User object) at a Start, join request or join. */
export interface SubscriberProfile {
  premium: boolean;
  /** The client's IETF language tag; null when Telegram sent none. */
  language: string | null;
  hasUsername: boolean;
}

/** A lead's quality signals. null: not known (a lead fed through the API has no Telegram profile). */
export interface QualitySignals {
  premium: boolean | null;
  language: string | null;
  hasUsername: boolean | null;
  subscriber: number;
  /** From the lead's Start to its first join, ms. */
  startToJoinMs: number | null;
  /** Left (or was removed) within FAST_LEAVE_MS of a join. */
  fastLeave: boolean;
}

/** A leave this soon after a join is a fast leave (10 minutes, ms). */
export const FAST_LEAVE_MS = 10 * 60_000;
/** A join this soon after the Start is faster than a person reads a welcome (5 s, ms). */
export const INSTANT_JOIN_MS = 5_000;

/** One reason a score moved from the base, with its points. */
export interface QualityReason {
  code: "premium" | "username" | "no_username" | "language" | "no_language" | "old_account" | "newest_account" | "instant_join" | "fast_leave";
  points: number;
}

export interface QualityScore {
  /** 0–100. */
  score: number;
  reasons: QualityReason[];
}

/** Every score starts here; each known signal moves it (points in QUALITY_POINTS). */
export const QUALITY_BASE = 50;

export const QUALITY_POINTS: Record<QualityReason["code"], number> = {
  premium: 20, // paid by a person: account farms rarely pay
  username: 10,
  no_username: -5,
  language: 5,
  no_language: -5, // every official client sends one; its absence points to a scripted account
  old_account: 15,
  newest_account: -15,
  instant_join: -15,
  fast_leave: -40,
};

/**
 * The quality score of a lead: QUALITY_BASE moved by each signal that is known, clamped to
 * 0–100, with the reasons that moved it. A signal that is not known moves nothing.
 */
export function scoreQuality(s: QualitySignals, now: number, age: AccountAge | null = estimateAccountAge(s.subscriber)): QualityScore {
  const reasons: QualityReason[] = [];
  const add = (code: QualityReason["code"]) => reasons.push({ code, points: QUALITY_POINTS[code] });
  if (s.premium) add("premium");
  if (s.hasUsername !== null) add(s.hasUsername ? "username" : "no_username");
  // A profile seen (premium known) without a language: the client sent none.
  if (s.language) add("language");
  else if (s.premium !== null) add("no_language");
  const ageClass = accountAgeClass(age, now);
  if (ageClass === "old") add("old_account");
  if (ageClass === "newest") add("newest_account");
  if (s.startToJoinMs !== null && s.startToJoinMs < INSTANT_JOIN_MS) add("instant_join");
  if (s.fastLeave) add("fast_leave");
  const score = Math.max(0, Math.min(100, reasons.reduce((sum, r) => sum + r.points, QUALITY_BASE)));
  return { score, reasons };
}

export const QUALITY_BANDS = ["low", "medium", "high"] as const;
export type QualityBand = (typeof QUALITY_BANDS)[number];

/** low: below 40; medium: 40–69; high: 70 and above. */
export const qualityBand = (score: number): QualityBand => (score >= 70 ? "high" : score >= 40 ? "medium" : "low");

/** What a Telegram User object tells (is_premium is absent unless true; language_code may be absent). */
export function profileOf(user: { is_premium?: true | boolean; language_code?: string; username?: string }): SubscriberProfile {
  return { premium: user.is_premium === true, language: user.language_code || null, hasUsername: !!user.username };
}

/** A lead's signals after one event: the profile seen with it, the first join's delay from the Start (`startedAt`), a fast leave. */
export function nextSignals(
  prev: QualitySignals, e: { status: string; at: number; profile?: SubscriberProfile; startedAt: number; joinedAt: number | null; firstJoin: boolean },
): QualitySignals {
  const next = { ...prev };
  if (e.profile) Object.assign(next, e.profile);
  if (e.status === "approve" && e.firstJoin) next.startToJoinMs = Math.max(0, e.at - e.startedAt);
  if ((e.status === "cancel" || e.status === "trash") && e.joinedAt !== null && e.at - e.joinedAt < FAST_LEAVE_MS) next.fastLeave = true;
  return next;
}
