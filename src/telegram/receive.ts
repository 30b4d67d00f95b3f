import type { Update } from "grammy/types";
import type { Runtime } from "../config/runtime.ts";
import { NO_EFFECTS, type Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import { isStorageUnavailable } from "../lib/errors.ts";
import { describedError, type Logger } from "../lib/logger.ts";
import type { Tx } from "../storage/port.ts";
import { applyUpdate, malformedUpdate, type UpdateOutcome } from "./updates.ts";

export interface ReceiveDeps {
  intake: Intake;
  clock: Clock;
  log: Logger;
  runtime: () => Runtime;
  /**
   * The intake commits writes handed in together in that order (Storage.serialWrites, SQLite).
   * When false, a polling batch's updates are handed in one after the other: their rows (the
   * welcomes) must keep the order the Starts came in.
   */
  inOrder?: boolean;
}

/** What became of one update. */
export type Received =
  | { kind: "applied"; outcome: UpdateOutcome }
  /** It could not be applied (malformed, or applying it threw): journaled as update_failed and skipped. */
  | { kind: "skipped"; error: string };

const ERROR_TEXT_MAX = 300;

const errorText = (err: unknown) => String((err as Error)?.message ?? err).slice(0, ERROR_TEXT_MAX);

/**
 * Marks a poisoned update as processed (a webhook resend is then a duplicate) and journals it as
 * `update_failed` with its update_id and the error; runs in the caller's transaction.
 */
async function recordFailure(tx: Tx, bot: string, updateId: number, error: string, now: number) {
  if (await tx.telegram.markUpdateProcessed(bot, updateId, now)) {
    await tx.journal.insert({ kind: "update_failed", detail: { bot, update_id: updateId, error }, createdAt: now });
  }
}

/** Applies one update through the intake; throws only for what another try may fix (storage unavailable). */
async function apply(deps: ReceiveDeps, bot: string, update: Update): Promise<Received> {
  const malformed = malformedUpdate(update);
  if (malformed) return { kind: "skipped", error: `${malformed}: missing, of the wrong type or not well-formed text` };
  try {
    const outcome = await deps.intake((tx) => applyUpdate(tx, deps.runtime(), bot, update, deps.clock.now()));
    return { kind: "applied", outcome };
  } catch (err) {
    if (isStorageUnavailable(err)) throw err;
    return { kind: "skipped", error: errorText(err) };
  }
}

/**
 * A webhook update: applied (the caller answers 200 once this resolves, i.e. once it is on the
 * disk), or journaled and skipped so that Telegram does not send it again forever. Storage
 * trouble throws: the webhook answers 503 and Telegram retries.
 */
export async function receiveUpdate(deps: ReceiveDeps, bot: string, update: Update): Promise<Received> {
  const received = await apply(deps, bot, update);
  if (received.kind === "skipped") await journalSkipped(deps, bot, [{ id: update.update_id, error: received.error }]);
  return received;
}

/**
 * A getUpdates batch: every update is submitted at once (they share group commits), then the
 * poisoned ones are journaled and the stored offset moves past everything applied or skipped — up
 * to the first update that met storage trouble, which is fetched again on the next poll (updates
 * applied before are duplicates by then and change nothing). Throws that storage error after.
 */
export async function receiveBatch(deps: ReceiveDeps, bot: string, updates: readonly Update[]): Promise<Received[]> {
  const settled = deps.inOrder === false ? await oneByOne(updates, (u) => apply(deps, bot, u)) : await Promise.allSettled(updates.map((u) => apply(deps, bot, u)));
  const received: Received[] = [];
  const skipped: { id: number; error: string }[] = [];
  let storageError: unknown = null;
  for (const [i, s] of settled.entries()) {
    if (s.status === "rejected") {
      storageError = s.reason;
      break;
    }
    received.push(s.value);
    if (s.value.kind === "skipped") skipped.push({ id: updates[i]!.update_id, error: s.value.error });
  }
  const next = received.length === updates.length ? updates.at(-1)!.update_id + 1 : updates[received.length]!.update_id;
  if (updates.length) await journalSkipped(deps, bot, skipped, next);
  if (storageError) throw storageError;
  return received;
}

/** Each update after the one before it has settled; stops at the first storage error (the rest would meet it too). */
async function oneByOne<T>(updates: readonly Update[], run: (u: Update) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = [];
  for (const u of updates) {
    try {
      out.push({ status: "fulfilled", value: await run(u) });
    } catch (reason) {
      out.push({ status: "rejected", reason });
      break;
    }
  }
  return out;
}

/** One write: the skipped updates journaled, and (polling) the stored offset moved to `offset`. */
async function journalSkipped(deps: ReceiveDeps, bot: string, skipped: { id: number; error: string }[], offset?: number) {
  if (skipped.length === 0 && offset === undefined) return;
  for (const s of skipped) deps.log.warn({ bot, update_id: s.id, err: describedError("UpdateFailed", s.error) }, "update could not be applied; journaled as update_failed and skipped");
  await deps.intake(async (tx) => {
    const now = deps.clock.now();
    for (const s of skipped) await recordFailure(tx, bot, s.id, s.error, now);
    if (offset !== undefined) await tx.telegram.advancePollingOffset(bot, offset, now);
    return { effects: NO_EFFECTS };
  });
}
