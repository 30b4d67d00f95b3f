// How old a Telegram account probably is, from its user id alone. Telegram hands out user ids in
// rising order, but publishes no id → date table: the anchors below are outside estimates, taken
// from the tables public "account age" bots use (GetIDs and the tables derived from it), rounded to
// the month. They are a coarse signal, never a fact:
// - between two anchors the date is interpolated linearly; the public tables disagree with each
//   other by up to about 6 months, so an estimate can be off by that much either way;
// - since 2021 ids are 64-bit and handed out in blocks (ids jumped past 2^31 and then past 5·10^9
//   within about a year): in that span an estimate can be a year off;
// - above the last anchor nothing is known but "registered after" it: no upper bound is invented.

const MONTH = (year: number, month: number) => Date.UTC(year, month - 1, 1);

/** [user id, approximate registration time (epoch ms)], ids rising. */
export const ACCOUNT_AGE_ANCHORS: readonly (readonly [number, number])[] = [
  [1, MONTH(2013, 8)], // Telegram's launch
  [200_000_000, MONTH(2016, 1)],
  [369_000_000, MONTH(2017, 4)],
  [617_000_000, MONTH(2018, 6)],
  [728_000_000, MONTH(2018, 12)],
  [1_919_000_000, MONTH(2020, 8)],
  [2_019_000_000, MONTH(2020, 12)],
  [4_318_000_000, MONTH(2021, 5)],
  [5_397_000_000, MONTH(2022, 3)],
];

/** Half the width of the error band inside the anchors' span, ms (about 6 months). */
export const ACCOUNT_AGE_ERROR_MS = 183 * 86_400_000;

export type AccountAge =
  /** Registered about `at` (± ACCOUNT_AGE_ERROR_MS). */
  | { kind: "about"; at: number }
  /** Registered after `after`: the id is above the last anchor. */
  | { kind: "after"; after: number };

/** The registration-time estimate of a user id (null for an id that is not a user's: ≤ 0 or not an integer). */
export function estimateAccountAge(userId: number): AccountAge | null {
  if (!Number.isSafeInteger(userId) || userId <= 0) return null;
  const last = ACCOUNT_AGE_ANCHORS.at(-1)!;
  if (userId >= last[0]) return { kind: "after", after: last[1] };
  for (let i = 1; i < ACCOUNT_AGE_ANCHORS.length; i++) {
    const [id1, t1] = ACCOUNT_AGE_ANCHORS[i]!;
    if (userId > id1) continue;
    const [id0, t0] = ACCOUNT_AGE_ANCHORS[i - 1]!;
    return { kind: "about", at: Math.round(t0 + ((userId - id0) / (id1 - id0)) * (t1 - t0)) };
  }
  return { kind: "about", at: last[1] };
}

export type AgeClass = "old" | "middle" | "newest";

/** Old: registered at least this long before now, even at the early edge of the error band (3 years, ms). */
export const OLD_ACCOUNT_MS = 3 * 365 * 86_400_000;

/**
 * The account-age class a score uses: `newest` when the id is above the last anchor (registered
 * after it, however recently), `old` when even the latest date inside the error band is at least
 * OLD_ACCOUNT_MS ago, else `middle`.
 */
export function accountAgeClass(age: AccountAge | null, now: number): AgeClass | null {
  if (!age) return null;
  if (age.kind === "after") return "newest";
  return now - (age.at + ACCOUNT_AGE_ERROR_MS) >= OLD_ACCOUNT_MS ? "old" : "middle";
}
