// What a lead event's postbacks become under the campaign's rules (issue 22: approve_after,
// min_quality), decided by domain/approval-rules.ts inside the event's transaction.
import type { CampaignEntry } from "../config/runtime.ts";
import { leaveBeforeStay, reportApprove } from "../domain/approval-rules.ts";
import type { Decision } from "../domain/lifecycle.ts";
import type { Status } from "../domain/status.ts";
import type { Tx } from "../storage/port.ts";
import type { LeadRow } from "../storage/rows.ts";

export interface PostbackPlan {
  /** send: pending rows; skip: rows recorded as skipped (skipReason); none: no rows. */
  postbacks: "send" | "skip" | "none";
  skipReason: string | null;
  /** The status the rows report (an approve below min_quality reports trash). */
  status: Status;
  /** When the rows are due (approve_after puts an approve in the future), epoch ms. */
  sendAt: number;
  /** The event's reason. */
  reason: string | null;
}

/**
 * The plan of one applied event's postbacks. A join: an approve now, after the stay, as trash or
 * not at all. A leave or ban while the join's approve still waits for the stay: that approve is
 * skipped (left_before_approve_after), and the leave too unless approve_after_leave is cancel.
 */
export async function planPostbacks(
  tx: Tx, campaign: CampaignEntry, lead: LeadRow, prev: LeadRow | null, decision: Extract<Decision, { kind: "apply" }>, quality: number, at: number, now: number,
): Promise<PostbackPlan> {
  const c = campaign.config;
  const plan: PostbackPlan = {
    postbacks: decision.postbacks, skipReason: decision.postbacks === "skip" ? "campaign_paused" : null, status: decision.status, sendAt: now, reason: decision.reason,
  };
  if (decision.postbacks === "none") return plan;
  if (decision.status === "approve") {
    const r = reportApprove(quality, at, { approveAfterMs: c.approve_after_ms, minQuality: c.min_quality, belowMinQuality: c.below_min_quality });
    if (r.status === null) return { ...plan, postbacks: "skip", skipReason: plan.skipReason ?? r.reason, reason: plan.reason ?? r.reason };
    return { ...plan, status: r.status, sendAt: Math.max(now, r.sendAt), reason: plan.reason ?? r.reason };
  }
  if ((decision.status === "cancel" || decision.status === "trash") && prev?.status === "approve" && c.approve_after_ms > 0) {
    const skipped = await tx.outbox.skipWaiting(lead.id, "approve", now, "left_before_approve_after");
    const leave = leaveBeforeStay(skipped > 0, c.approve_after_leave);
    if (leave.kind === "cancel_approve") {
      return leave.leave === "skip" ? { ...plan, postbacks: "skip", skipReason: plan.skipReason ?? leave.reason, reason: leave.reason } : { ...plan, reason: leave.reason };
    }
  }
  return plan;
}
