// Batching in the dispatcher (issue 21): rows bound for one ad-platform destination are sent
// several per request when they are claimed together — a backlog — and one at a time otherwise.
// The dispatcher knows nothing of the platforms: what may share a request, and how, comes from a
// Batching (adplatforms/batch.ts), wired in the composition root.
import type { AttemptResult } from "../domain/verdict.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";

export interface Batching {
  /** Rows one request to this host may carry at most (1: each row alone); a claim takes that many times more of its rows. */
  hostLimit(host: string): number;
  /** Rows with the same key may share one request, up to `limit` of them; null: this row is always sent alone. */
  keyOf(row: ClaimedPostback): { key: string; limit: number } | null;
  /** The body of one request carrying these rows' events (rows of one key). */
  merge(rows: readonly ClaimedPostback[]): { body: string; contentType: string };
  /**
   * Whether the refusal of a request of several rows may be about one of them (one bad event can
   * make a platform refuse the whole request): then each row is sent alone next, to find it.
   */
  refusalMayBeOneEvent(row: ClaimedPostback, result: AttemptResult): boolean;
}

/** Every row alone (no ad-platform destination configured, or tests of the dispatcher itself). */
export const NO_BATCHING: Batching = {
  hostLimit: () => 1,
  keyOf: () => null,
  merge: (rows) => ({ body: rows[0]?.body ?? "", contentType: rows[0]?.contentType ?? "" }),
  refusalMayBeOneEvent: () => false,
};
