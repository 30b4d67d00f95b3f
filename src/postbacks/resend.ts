// Re-sending finished postbacks (POST /api/postbacks/{id}/retry and /api/postbacks/retry) without
// undoing a later status at the tracker: the rule is domain/supersede.ts; here it meets the
// storage port, in one write each.
import { isResendable, planResend } from "../domain/supersede.ts";
import { AppError, notFound } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import type { ResendCounts } from "../storage/outbox-types.ts";
import type { PostbackFilter, Storage } from "../storage/port.ts";
import type { PostbackRow } from "../storage/rows.ts";

const brief = (r: PostbackRow) => ({ id: r.id, status: r.status, state: r.state });
const described = (r: PostbackRow) => `postback ${r.id} (${r.status}, ${r.state}${r.finishedAt ? ` ${iso(r.finishedAt)}` : ""})`;

type OneOutcome =
  | { kind: "queued"; row: PostbackRow; later: PostbackRow[] }
  | { kind: "refused"; error: AppError };

/**
 * One row back in the queue — refused (409) when it is still queued, skipped for want of a click,
 * or superseded by a later row of its lead delivered to the same host, unless `andLater` asks for
 * those later rows again after it. Decided and queued in one write, so no claim comes between.
 */
export async function resendOne(storage: Pick<Storage, "write">, id: number, andLater: boolean, now: number) {
  const outcome = await storage.write(async (tx): Promise<OneOutcome | null> => {
    const row = await tx.outbox.get(id);
    if (!row) return null;
    if (!isResendable(row)) {
      const error = row.reason === "no_click" && row.state === "skipped"
        ? new AppError(409, "no_click", `postback ${id} has no click id: a tracker cannot count it, so it is not sent`)
        : new AppError(409, "already_pending", `postback ${id} is already queued`);
      return { kind: "refused", error };
    }
    const plan = planResend(row, await tx.outbox.ofLead(row.leadId), andLater, now);
    if (plan.kind === "later_in_flight") {
      return {
        kind: "refused",
        error: new AppError(409, "later_in_flight", `${described(plan.by)} of lead ${row.leadId} to ${row.host} is being sent right now: `
          + `postback ${id} sent after it would undo it at the tracker; try again once it has finished`, { in_flight: brief(plan.by) }),
      };
    }
    if (plan.kind === "superseded") {
      const again = plan.later.map((r) => r.id).join(", ");
      return {
        kind: "refused",
        error: new AppError(409, "superseded", `${described(plan.by)} reports a later status of lead ${row.leadId} to ${row.host}: `
          + `sent alone, postback ${id} (${row.status}) would undo it at the tracker. Send {"and_later": true} to send ${id} and then ${again} again, in event order`,
        { superseded_by: brief(plan.by), and_later: plan.later.map(brief) }),
      };
    }
    const queued: PostbackRow[] = [];
    for (const r of plan.rows) {
      const q = await tx.outbox.requeue(r.id, now);
      if (q) queued.push(q);
    }
    return { kind: "queued", row: queued[0]!, later: queued.slice(1) };
  });
  if (!outcome) throw notFound("postback", id);
  if (outcome.kind === "refused") throw outcome.error;
  return outcome;
}

/** The answer of a bulk re-send (and of its dry run): what matched, what was left out or added, what is (or would be) queued. */
export function resendAnswer(counts: ResendCounts, andLater: boolean, dryRun: boolean, queued: number) {
  return {
    dry_run: dryRun, and_later: andLater, matched: counts.matched, superseded: counts.superseded, held_back: counts.heldBack, later: counts.later,
    queued: andLater ? counts.matched - counts.heldBack + counts.later : counts.matched - counts.superseded,
    retried: dryRun ? 0 : queued,
  };
}

/** The bulk re-send: counted and queued in one write, so the counts are those of the rows queued. */
export async function resendMatching(storage: Pick<Storage, "read" | "write">, filter: PostbackFilter, andLater: boolean, dryRun: boolean, now: number) {
  const req = { andLater, now };
  if (dryRun) return resendAnswer(await storage.read.outbox.resendCounts(filter, req), andLater, true, 0);
  const { counts, queued } = await storage.write(async (tx) => {
    const counts = await tx.outbox.resendCounts(filter, req);
    return { counts, queued: await tx.outbox.requeueResendable(filter, req) };
  });
  return resendAnswer(counts, andLater, false, queued);
}
