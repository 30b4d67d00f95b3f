import type { DeliveryConfig } from "../config/model.ts";
import { classifyAttempt } from "../domain/verdict.ts";
import type { Clock } from "../lib/clock.ts";
import { isStorageUnavailable } from "../lib/errors.ts";
import { stripUrls, type Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";
import type { Storage, Tx } from "../storage/port.ts";
import type { Held } from "./admission.ts";
import type { Batching } from "./batching.ts";
import type { ChannelAttempt, ChannelSender, SideEffect } from "./channel.ts";
import { decideCompletion } from "./completion.ts";
import type { Completion } from "../storage/outbox-types.ts";
import type { HostSlots } from "./host-slots.ts";

/**
 * During sustained delivery a full garbage collection runs every this many attempts. JSC's own
 * heuristics let the garbage of fetch (responses, buffers) grow the process by 40-100 MB before
 * collecting; a collection of this small heap takes a few ms, under 2 % of the time at 15k
 * attempts/s, and keeps the peak RSS near the live size — what counts on a small VPS.
 */
const GC_EVERY_ATTEMPTS = 10_000;

/** A storage failure while saving an outcome is retried after 200 ms, doubling up to this. */
const MAX_SAVE_RETRY_MS = 5000;

export interface AttemptRunnerDeps {
  storage: Pick<Storage, "read" | "write">;
  delivery: () => DeliveryConfig;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  hosts: HostSlots;
  random?: () => number;
  /** How each channel sends a row, by the row's `channel` (http: tracker postbacks; telegram: Bot API calls). */
  channels: Record<string, ChannelSender>;
  /** False once the dispatcher stops: an outcome that cannot be saved then is left to its lease. */
  running: () => boolean;
  /** How rows sent together make one request, and whether a refusal of it may be one event's. */
  batching: Batching;
  /** Rows to send alone next (their batch was refused as a whole): the admission queue reads it. */
  solo: Set<number>;
}

/**
 * A sender that threw instead of answering (a bug, not the peer): a counted retry on the ladder,
 * with its attempt logged, so the row ends failed at worst. Left leased, it was sent again each
 * time its lease ran out, for ever.
 */
function crashed(row: ClaimedPostback, err: unknown): ChannelAttempt {
  const result = { kind: "error", error: "internal", message: err instanceof Error ? err.message : String(err) } as const;
  return { report: { result, url: row.url, responseHead: null }, verdict: classifyAttempt(result) };
}

const noChannel: ChannelSender = async (row) => {
  const message = `no sender for channel ${row.channel}`;
  return { report: { result: { kind: "error", error: "malformed_url", message }, url: row.url, responseHead: null }, verdict: { outcome: "rejected", reason: message } };
};

/** What a send learned, written in the outcome's transaction. */
export async function writeSideEffects(tx: Tx, effects: readonly SideEffect[]) {
  for (const e of effects) {
    if (e.kind === "journal") await tx.journal.insert(e.row);
    else if (e.kind === "invite_link") await tx.telegram.saveInviteLink(e.row);
    else await tx.telegram.saveMediaFileId(e.row);
  }
}

/**
 * One attempt of one held row: sends it through its channel, decides the outcome
 * (decideCompletion), tells the host's slots how it went, and saves the outcome, the attempt log
 * and the send's side effects in one transaction — retrying that save while storage is
 * unavailable, the row staying held so it is not sent a second time.
 */
export class AttemptRunner {
  private attemptsSinceGc = 0;

  constructor(private readonly deps: AttemptRunnerDeps) {}

  /**
   * One attempt — one request — for one row, or for rows sent together (an ad platform's batch:
   * their events in one body). Each row keeps its own lease, fencing token, ladder and attempt
   * log: the request's answer is judged once and decides every row's outcome, except that a
   * refusal which may be one event's (batching.ts) sends each row alone next instead, not counted
   * on its ladder, so one bad event cannot take the others with it.
   */
  async run(entries: Held[]): Promise<void> {
    const lead = entries[0]!;
    const { clock, delivery, log, metrics, hosts } = this.deps;
    const d = delivery();
    const startedAt = clock.now();
    const t0 = performance.now();
    const request = entries.length === 1 ? lead.row : { ...lead.row, ...this.deps.batching.merge(entries.map((e) => e.row)) };
    const sent = await (this.deps.channels[lead.row.channel] ?? noChannel)(request, lead.abort).catch((err: unknown) => {
      if (!lead.shuttingDown) log.error({ err, postback: lead.row.id, rows: entries.length }, "sending a postback threw; counted as a failed attempt");
      return crashed(lead.row, err);
    });
    if (entries.some((e) => e.shuttingDown)) return; // released by stop(); this attempt does not count
    const { report, verdict } = sent;
    const durationMs = performance.now() - t0;
    const now = clock.now();
    const result = report.result;
    const split = entries.length > 1 && verdict.outcome === "rejected" && this.deps.batching.refusalMayBeOneEvent(lead.row, result);
    const outcomes = entries.map(({ row }) => {
      const completion: Completion = split
        ? { state: "pending", reason: `a request of ${entries.length} events was refused as a whole; each is sent alone next: ${verdict.reason}`, nextAttemptAt: row.dueAt, uncounted: true }
        : decideCompletion(row, verdict, { ladderMs: d.retry_ladder_ms, jitter: d.jitter }, (this.deps.random ?? Math.random)(), now);
      const attempt = {
        // Numbered on across re-sends: a manual retry's first attempt follows the ones before it.
        postbackId: row.id, attempt: row.earlierAttempts + row.attempts, startedAt, durationMs: Math.round(durationMs), url: report.url,
        httpStatus: result.kind === "response" ? result.status : null,
        outcome: split ? ("retry" as const) : verdict.outcome,
        error: verdict.outcome === "delivered" ? null : split ? completion.reason : verdict.reason,
        responseHead: report.responseHead,
      };
      return { row, completion, attempt };
    });
    if (split) for (const { row } of entries) this.deps.solo.add(row.id);
    // Before the outcome is saved: a flood wait pauses the host at once, so none of its rows starts meanwhile.
    const { circuitOpened, pausedUntil } = hosts.recordVerdict(lead.row.host, verdict, now);
    if (circuitOpened) log.warn({ host: lead.row.host }, "circuit opened: host paused");
    if (pausedUntil !== null) log.warn({ host: lead.row.host, until: new Date(pausedUntil).toISOString(), reason: outcomes[0]!.completion.reason }, "flood wait: nothing is sent to this host until the pause ends");
    const effects = sent.effects ?? [];
    const kept = await this.save(async (tx) => {
      const kept: boolean[] = [];
      for (const o of outcomes) kept.push(await tx.outbox.complete(o.row, o.attempt, o.completion, now));
      await writeSideEffects(tx, effects); // what the send learned holds whether or not the lease did
      return kept;
    }, lead);
    if (kept === undefined) return; // shut down before the outcome could be saved; the leases expire
    for (const [i, { row, completion, attempt }] of outcomes.entries()) {
      metrics.recordAttempt(attempt.outcome, completion.state, row.host, verdict.outcome === "delivered" ? null : verdict.reason, durationMs / 1000);
      if (++this.attemptsSinceGc >= GC_EVERY_ATTEMPTS) {
        this.attemptsSinceGc = 0;
        Bun.gc(true);
      }
      if (!kept[i]) {
        this.deps.solo.delete(row.id);
        log.warn({ postback: row.id }, "lease lost before completion; outcome not applied");
      } else if (completion.state === "failed" || completion.state === "rejected") await this.warnFinished(row, completion.state, completion.reason, attempt.httpStatus);
      else log.debug({ postback: row.id, attempt: row.attempts, state: completion.state, reason: completion.reason, rows: entries.length }, "postback attempt");
    }
  }

  /** One warn line for a row that ends failed or rejected: what a buyer needs to find it, never its URL. */
  private async warnFinished(row: ClaimedPostback, state: "failed" | "rejected", reason: string | null, httpStatus: number | null) {
    // The line goes out without them if the read fails (PostgreSQL: a lost connection).
    const about = await Promise.resolve(this.deps.storage.read.outbox.about(row.id)).catch(() => null);
    this.deps.log.warn({
      postback: row.id, campaign: about?.campaign ?? null, host: row.host, status: about?.status ?? null,
      state, http_status: httpStatus, reason: reason === null ? null : stripUrls(reason),
    }, `postback ${state}`);
  }

  /**
   * Saves an attempt's outcome; while storage is unavailable (locked, disk full) it keeps the
   * outcome and tries again. Settled at the commit: the slot can go to the next row while the WAL
   * is synced (the claim that takes the slot waits for its own sync, which covers this outcome).
   */
  private async save<T>(work: (tx: Tx) => Promise<T>, entry: Held): Promise<T | undefined> {
    for (let wait = 200; ; wait = Math.min(wait * 2, MAX_SAVE_RETRY_MS)) {
      try {
        return await this.deps.storage.write(work, { beforeSync: true });
      } catch (err) {
        if (!isStorageUnavailable(err)) throw err;
        if (!this.deps.running() || entry.shuttingDown) return undefined;
        this.deps.log.warn({ postback: entry.row.id, code: (err as { code?: string }).code }, "saving a delivery outcome failed; keeping it and retrying");
        await new Promise<void>((resolve) => this.deps.clock.setTimer(resolve, wait));
      }
    }
  }
}
