import { STATUSES, type Status } from "../domain/status.ts";

/** Incoming status words (case-insensitive, non-letters ignored) and what they mean here. */
const WORDS: Record<Status, string[]> = {
  wait: ["wait", "waiting", "new", "lead", "pending", "created", "open", "start", "started", "click", "registration", "reg", "signup", "progress", "inprogress"],
  hold: ["hold", "onhold", "held", "hld", "expect", "expecting", "review", "moderation", "processing"],
  approve: ["approve", "approved", "confirm", "confirmed", "sale", "sold", "success", "successful", "paid", "accept", "accepted", "complete", "completed", "done", "deposit", "ftd", "purchase", "conversion", "valid", "subscribed", "join", "joined"],
  cancel: ["cancel", "canceled", "cancelled", "reject", "rejected", "decline", "declined", "refund", "refunded", "chargeback", "denied", "deny", "unsubscribe", "unsubscribed", "unsub", "left", "leave", "revoked", "expired"],
  trash: ["trash", "fraud", "spam", "invalid", "duplicate", "dup", "double", "fake", "bot", "ban", "banned", "kicked", "junk", "garbage", "blocked"],
};

const BY_WORD = new Map(STATUSES.flatMap((s) => WORDS[s].map((w) => [w, s] as const)));

export const normalizeWord = (word: string) => word.toLowerCase().replace(/[^\p{L}]/gu, "");

/** Per-request lists (AlterCPA's stn, sth, sta, stc, stt): one value or comma-separated. */
export type CustomLists = Partial<Record<Status, string>>;

export const CUSTOM_LIST_PARAMS: Record<string, Status> = { stn: "wait", sth: "hold", sta: "approve", stc: "cancel", stt: "trash" };

/** Recognises an incoming status word; the request's own lists win over the built-in words. */
export function recognizeStatus(word: string, custom: CustomLists = {}): Status | undefined {
  const w = normalizeWord(word);
  if (!w) return undefined;
  for (const status of STATUSES) {
    const list = custom[status];
    if (list && list.split(",").some((item) => normalizeWord(item) === w)) return status;
  }
  return BY_WORD.get(w);
}
