import { t } from "elysia";
import { ACCOUNT_AGE_ERROR_MS, estimateAccountAge } from "../domain/account-age.ts";
import { qualityBand } from "../domain/quality.ts";
import { Int } from "../http/schema.ts";
import { Nullable } from "../http/openapi.ts";
import { iso } from "../lib/json.ts";
import type { LeadProfileRow } from "../storage/rows.ts";

const Time = t.String({ format: "date-time" });

/** A lead's profile in the API (GET /api/leads/{id}): quality with its reasons and signals, welcome variant, first join. */
export const ProfileJson = t.Object({
  quality: Int({ description: "0-100: 50 moved by each known signal (README: Quality signals)" }),
  band: t.String({ description: "low (< 40) | medium (40-69) | high (≥ 70)" }),
  reasons: t.Array(t.Object({ code: t.String(), points: Int() }), { description: "what moved the score from 50, with the points" }),
  premium: Nullable(t.Boolean({ description: "Telegram Premium; null: no Telegram profile seen (a lead fed through the API)" })),
  language: Nullable(t.String({ description: "the client's language code" })),
  has_username: Nullable(t.Boolean()),
  account_age: Nullable(t.Object({
    estimate: t.String({ description: "about: registered about `date` (± error_days); after: registered after `date` (the id is above the last known one)" }),
    date: t.String({ format: "date", description: "a day (UTC): the estimate is coarse" }),
    error_days: Nullable(Int()),
  }, { description: "an outside estimate from the user id (README: Quality signals says how wrong it can be)" })),
  start_to_join_ms: Nullable(Int({ description: "from the Start to the first join, ms" })),
  fast_leave: t.Boolean({ description: "left or was removed within 10 minutes of a join" }),
  welcome_variant: Nullable(t.String()),
  first_joined_at: Nullable(Time),
  cohort_band: Nullable(t.String({ description: "the band at the first join: the retention cohort's" })),
});

export const profileExample = {
  quality: 80, band: "high", reasons: [{ code: "username", points: 10 }, { code: "language", points: 5 }, { code: "old_account", points: 15 }],
  premium: false, language: "ru", has_username: true,
  account_age: { estimate: "about", date: "2016-06-01", error_days: 183 },
  start_to_join_ms: 42_000, fast_leave: false, welcome_variant: "ru", first_joined_at: "2024-05-01T10:01:00.000Z", cohort_band: "high",
};

export function profileJson(p: LeadProfileRow, subscriber: number) {
  const age = estimateAccountAge(subscriber);
  return {
    quality: p.quality,
    band: qualityBand(p.quality),
    reasons: p.qualityReasons,
    premium: p.premium,
    language: p.language,
    has_username: p.hasUsername,
    account_age: age && (age.kind === "about"
      ? { estimate: "about", date: iso(age.at)!.slice(0, 10), error_days: Math.round(ACCOUNT_AGE_ERROR_MS / 86_400_000) }
      : { estimate: "after", date: iso(age.after)!.slice(0, 10), error_days: null }),
    start_to_join_ms: p.startToJoinMs,
    fast_leave: p.fastLeave,
    welcome_variant: p.welcomeVariant,
    first_joined_at: iso(p.firstJoinedAt),
    cohort_band: p.cohortBand,
  };
}
