// A re-send must not undo a later status at the tracker (issue 24): a tracker keeps one conversion
// per click and moves it with each postback, so an older postback sent again after a newer one
// leaves the tracker at the older status (a cancelled lead shown as a sale). The rule of one
// re-send, over the rows of one lead; the bulk re-send's SQL (storage/sqlite/outbox-resend.ts)
// applies the same rule to many leads at once.
import type { Channel, PostbackState, Status } from "./status.ts";

/** What the rule reads of an outbox row. */
export interface ResendRow {
  id: number;
  eventId: number;
  channel: Channel;
  host: string;
  status: Status;
  state: PostbackState;
  reason: string | null;
  /** An ad platform's row names `<preset>@<destination>`. */
  verdict: string | null;
  leaseExpiresAt: number | null;
}

/**
 * Whether a row reports a status the receiver keeps per lead: a tracker postback. A Bot API call
 * is not one, nor an ad platform's event (a platform adds events up, deduplicated by event id; an
 * older one sent again undoes nothing, and a newer one sent twice could count twice).
 */
export const keepsLeadStatus = (r: Pick<ResendRow, "channel" | "verdict">) => r.channel === "http" && !(r.verdict ?? "").includes("@");

/**
 * The same destination: the same host (host[:port]) — the unit the dispatcher already keeps a
 * lead's order by. Not the template: each status has its own (`postbacks.approve`,
 * `destinations.kc.cancel`), so templates never match across statuses.
 */
export const sameDestination = (a: ResendRow, b: ResendRow) => keepsLeadStatus(a) && keepsLeadStatus(b) && a.host === b.host;

/** A row a re-send may take: finished, and not skipped for want of a click (no tracker could count it). */
export const isResendable = (r: Pick<ResendRow, "state" | "reason">) => r.state !== "pending" && !(r.state === "skipped" && r.reason === "no_click");

/** Rows `and_later` sends again after a row: the ones that were sent, or meant to be (skipped rows were withheld on purpose). */
export const AND_LATER_STATES: readonly PostbackState[] = ["delivered", "failed", "rejected"];

/** Being sent right now: pending with a live lease (epoch ms). It may be delivered any moment. */
export const inFlight = (r: Pick<ResendRow, "state" | "leaseExpiresAt">, now: number) =>
  r.state === "pending" && r.leaseExpiresAt !== null && r.leaseExpiresAt > now;

export type ResendPlan<R extends ResendRow> =
  /** Queue these again, in this order (the row first, then its later rows with and_later). */
  | { kind: "send"; rows: R[] }
  /** A later row to the same destination was delivered: alone, the row would undo it. `later`: what and_later would add. */
  | { kind: "superseded"; by: R; later: R[] }
  /** A later row to the same destination is being sent now; nothing can be queued behind it safely until it ends. */
  | { kind: "later_in_flight"; by: R };

/**
 * What re-sending `row` may send, given every row of its lead (any order) and whether the caller
 * asked for the later ones too (`andLater`). Later = of a later event of the lead, to the same
 * destination. The caller has checked that `row` itself is resendable.
 */
export function planResend<R extends ResendRow>(row: R, leadRows: readonly R[], andLater: boolean, now: number): ResendPlan<R> {
  const later = leadRows.filter((l) => l.eventId > row.eventId && sameDestination(row, l)).sort((a, b) => a.eventId - b.eventId || a.id - b.id);
  const busy = later.find((l) => inFlight(l, now));
  if (busy) return { kind: "later_in_flight", by: busy };
  const again = later.filter((l) => AND_LATER_STATES.includes(l.state));
  if (andLater) return { kind: "send", rows: [row, ...again] };
  const delivered = later.find((l) => l.state === "delivered");
  return delivered ? { kind: "superseded", by: delivered, later: again } : { kind: "send", rows: [row] };
}
