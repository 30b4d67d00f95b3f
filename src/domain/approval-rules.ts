// A campaign's rules for reporting a join and for answering a join request (issue 22), as pure
// functions: what the approve postback becomes (sent at once, after a stay, as trash, or not at
// all), what a leave does to an approve still waiting for its stay, and what the bot answers to a
// join request.

export interface ApproveRules {
  /** The approve postback leaves this long after the join, ms (0: at once). */
  approveAfterMs: number;
  /** Below this quality score the approve is not reported as an approve; null: no minimum. */
  minQuality: number | null;
  belowMinQuality: "trash" | "skip";
}

export type ApproveReport =
  /** Report `status` (approve, or trash for a subscriber below the minimum quality) at `sendAt`. */
  | { status: "approve" | "trash"; sendAt: number; reason: "below_min_quality" | null }
  /** Report nothing: the rows are kept as skipped with the reason. */
  | { status: null; reason: "below_min_quality" };

/**
 * What a join's approve postback becomes. Below the minimum quality: trash at once, or nothing,
 * by option (the stay is not waited for: there is nothing to confirm). Otherwise an approve,
 * after the stay when there is one.
 */
export function reportApprove(quality: number, at: number, rules: ApproveRules): ApproveReport {
  if (rules.minQuality !== null && quality < rules.minQuality) {
    return rules.belowMinQuality === "skip" ? { status: null, reason: "below_min_quality" } : { status: "trash", sendAt: at, reason: "below_min_quality" };
  }
  return { status: "approve", sendAt: at + rules.approveAfterMs, reason: null };
}

export type LeaveBeforeStay =
  /** No approve was waiting: the leave is reported as the lifecycle says. */
  | { kind: "report" }
  /** An approve was waiting for its stay: it is skipped; the leave itself is sent, or skipped too. */
  | { kind: "cancel_approve"; leave: "send" | "skip"; reason: "left_before_approve_after" };

/**
 * A leave or ban while the join's approve still waits for its stay (`waiting`: such rows were
 * found and skipped): the tracker never heard of the join, so by default it hears of no leave
 * either; `leave: cancel` sends the leave's postback all the same.
 */
export function leaveBeforeStay(waiting: boolean, option: "skip" | "cancel"): LeaveBeforeStay {
  if (!waiting) return { kind: "report" };
  return { kind: "cancel_approve", leave: option === "cancel" ? "send" : "skip", reason: "left_before_approve_after" };
}

export interface JoinRequestRules {
  /** Approve automatically this long after the request, ms; null: not automatically. */
  approveAfterMs: number | null;
  /** Decline automatically below this quality score; null: never. */
  declineBelow: number | null;
  /** Hold for a person (Approve/Decline in the dashboard and the API). */
  manual: boolean;
}

export type JoinRequestAnswer =
  | { kind: "approve"; at: number }
  | { kind: "decline"; reason: "below_decline_quality" }
  | { kind: "hold" };

/**
 * What the bot answers a join request: decline below the quality floor; else approve after the
 * delay, or hold for a person; null when the campaign leaves requests to the chat's admins.
 */
export function answerJoinRequest(rules: JoinRequestRules | null, quality: number, now: number): JoinRequestAnswer | null {
  if (!rules) return null;
  if (rules.declineBelow !== null && quality < rules.declineBelow) return { kind: "decline", reason: "below_decline_quality" };
  if (rules.manual) return { kind: "hold" };
  if (rules.approveAfterMs !== null) return { kind: "approve", at: now + rules.approveAfterMs };
  return null;
}
