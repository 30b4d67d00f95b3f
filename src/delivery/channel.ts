import type { SendReport } from "./http-request.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";
import type { Classification } from "../domain/verdict.ts";
import type { InviteLinkRow, MediaFileRow, NewJournal } from "../storage/rows.ts";

/**
 * What a send learned that must be stored: written in the transaction that saves the attempt's
 * outcome, never beside it. A channel returns them as data; it writes nothing itself.
 */
export type SideEffect =
  | { kind: "journal"; row: NewJournal }
  | { kind: "invite_link"; row: InviteLinkRow }
  | { kind: "media_file_id"; row: MediaFileRow };

/** One attempt over one channel: what happened, how it is judged, and what it learned. */
export interface ChannelAttempt {
  report: SendReport;
  verdict: Classification;
  effects?: readonly SideEffect[];
}

/**
 * Sends one claimed row; `abort` is the row's controller: the dispatcher aborts it at shutdown, a
 * sender may abort it on its own timeout. Must not throw for delivery failures. A channel plugs
 * into the dispatcher by its name (the row's `channel`) without the dispatcher importing it.
 */
export type ChannelSender = (row: ClaimedPostback, abort: AbortController) => Promise<ChannelAttempt>;
