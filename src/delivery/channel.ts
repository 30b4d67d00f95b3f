import type { SendReport } from "./http-request.ts";
import type { ClaimedPostback } from "../outbox/claims.ts";
import type { Classification } from "../domain/verdict.ts";

/** One attempt over one channel: what happened and how it is judged. */
export interface ChannelAttempt {
  report: SendReport;
  verdict: Classification;
}

/**
 * Sends one claimed row; `abort` is the row's controller: the dispatcher aborts it at shutdown, a
 * sender may abort it on its own timeout. Must not throw for delivery failures. A channel plugs
 * into the dispatcher by its name (the row's `channel`) without the dispatcher importing it.
 */
export type ChannelSender = (row: ClaimedPostback, abort: AbortController) => Promise<ChannelAttempt>;
