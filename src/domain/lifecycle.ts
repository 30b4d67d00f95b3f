import type { Status } from "./status.ts";

/** What the state machine needs to know about an existing lead. Times are epoch ms. */
export interface LeadState {
  status: Status;
  click: string;
  /** Latest join (approve); the unsubscribe window is measured from it. */
  joinedAt: number | null;
  createdAt: number;
}

export interface LeadEventInput {
  status: Status;
  click: string;
  at: number;
}

export interface CampaignRules {
  paused: boolean;
  /** 0 means the window never closes. */
  unsubWindowMs: number;
}

export type IgnoreReason = "duplicate" | "transition_not_allowed" | "no_lead" | "campaign_paused";

export type Decision =
  | { kind: "ignore"; reason: IgnoreReason }
  | {
      kind: "apply";
      status: Status;
      createLead: boolean;
      click: string;
      joinedAt: number | null;
      /** send: pending outbox rows; skip: rows recorded as skipped; none: no rows at all. */
      postbacks: "send" | "skip" | "none";
      reason: "outside_unsub_window" | "campaign_paused" | "click_added" | null;
    };

const ALLOWED: Record<Status, readonly Status[]> = {
  wait: ["hold", "approve"],
  hold: ["approve", "cancel", "trash"],
  approve: ["cancel", "trash"],
  cancel: ["hold", "approve"],
  trash: ["hold", "approve"],
};

export const transitionAllowed = (from: Status, to: Status) => ALLOWED[from].includes(to);

/** Whether a leave/ban at `at` still fires its postback (SPEC §2: window from the latest join). */
export function unsubWindowOpen(lead: LeadState, at: number, unsubWindowMs: number): boolean {
  if (unsubWindowMs === 0) return true;
  // A pending requester banned before ever joining: measure from the lead's creation.
  const anchor = lead.joinedAt ?? lead.createdAt;
  return at - anchor <= unsubWindowMs;
}

/** The lead lifecycle of SPEC §2 as a pure function: what one event does to one lead. */
export function decideLeadEvent(lead: LeadState | null, event: LeadEventInput, rules: CampaignRules): Decision {
  const pausedOr = (postbacks: "send") => (rules.paused ? ("skip" as const) : postbacks);
  const pausedReason = rules.paused ? ("campaign_paused" as const) : null;

  if (!lead) {
    if (event.status !== "wait") return { kind: "ignore", reason: "no_lead" };
    if (rules.paused) return { kind: "ignore", reason: "campaign_paused" };
    return { kind: "apply", status: "wait", createLead: true, click: event.click, joinedAt: null, postbacks: "send", reason: null };
  }

  if (event.status === lead.status) {
    // First non-empty click wins; a click arriving for a lead that had none fires wait again.
    if (event.status === "wait" && lead.click === "" && event.click !== "") {
      return {
        kind: "apply",
        status: "wait",
        createLead: false,
        click: event.click,
        joinedAt: lead.joinedAt,
        postbacks: pausedOr("send"),
        reason: pausedReason ?? "click_added",
      };
    }
    return { kind: "ignore", reason: "duplicate" };
  }

  if (!transitionAllowed(lead.status, event.status)) return { kind: "ignore", reason: "transition_not_allowed" };

  const base = { kind: "apply" as const, status: event.status, createLead: false, click: lead.click };
  if (event.status === "approve") {
    return { ...base, joinedAt: event.at, postbacks: pausedOr("send"), reason: pausedReason };
  }
  if ((event.status === "cancel" || event.status === "trash") && !unsubWindowOpen(lead, event.at, rules.unsubWindowMs)) {
    return { ...base, joinedAt: lead.joinedAt, postbacks: "none", reason: "outside_unsub_window" };
  }
  return { ...base, joinedAt: lead.joinedAt, postbacks: pausedOr("send"), reason: pausedReason };
}
