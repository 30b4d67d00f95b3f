import type { DeliveryConfig } from "../config/model.ts";
import { Alarm, type Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";
import type { Storage } from "../storage/port.ts";
import type { Admission } from "./admission.ts";
import { PREFETCH_SHARE, type HostSlots } from "./host-slots.ts";

const IDLE_RECHECK_MS = 1000;

export interface ClaimRoundsDeps {
  storage: Pick<Storage, "read" | "write">;
  delivery: () => DeliveryConfig;
  clock: Clock;
  log: Logger;
  hosts: HostSlots;
  admission: Admission;
  /** False once the dispatcher stops: a claim committed after that gives its rows back. */
  running: () => boolean;
  /** Gives rows back to the outbox unsent. */
  giveBack: (rows: ClaimedPostback[]) => Promise<void>;
}

/**
 * Claim rounds: one at a time, each a write transaction (on SQLite, sharing the group commit and
 * its fsync with the writes around it) that leases the due rows the caps leave room for; its rows
 * are queued for admission once that commit is durable. A wake during a round asks for another
 * round after it. Between rounds an alarm is set for the next moment something may be claimed:
 * a due row, a circuit's probe, the end of a flood wait.
 */
export class ClaimRounds {
  /** The next claim round: a row falls due, a paused host reopens, a storage retry. */
  private readonly alarm: Alarm;
  /** The round being committed, if any. */
  private claiming: Promise<void> | null = null;
  private again = false;

  constructor(private readonly deps: ClaimRoundsDeps, private readonly wake: () => void) {
    this.alarm = new Alarm(deps.clock, () => this.wake());
  }

  round() {
    if (this.claiming) {
      this.again = true;
      return;
    }
    const d = this.deps.delivery();
    const { admission, hosts } = this.deps;
    // Rows of paced hosts (at most a second of sends each, their own caps) are outside the claim
    // budget: however many a bot has started or waiting, tracker postbacks are claimed as before.
    const want = d.max_in_flight + Math.ceil(d.max_in_flight * PREFETCH_SHARE) - admission.unpacedLoad;
    if (want <= 0) return this.alarm.set(null); // completions will wake
    this.claiming = (async () => {
      let rows: ClaimedPostback[];
      let now = this.deps.clock.now();
      try {
        rows = await this.deps.storage.write(async (tx) => {
          now = this.deps.clock.now();
          const queued = admission.queuedPerHost();
          return tx.outbox.claimDue({
            now, limit: want, leaseMs: d.lease_ms,
            blocked: hosts.blocked(now, d.per_host_in_flight, queued),
            allowance: (host) => hosts.claimAllowance(host, d.per_host_in_flight, now, queued.get(host) ?? 0),
            inFlight: (id) => admission.held.has(id),
            heldIds: () => admission.held.keys(),
          });
        });
      } catch (err) {
        // Storage trouble (locked, disk full): nothing is lost; try again shortly.
        this.deps.log.error({ err }, "claiming postbacks failed; retrying");
        if (this.deps.running()) this.alarm.set(this.deps.clock.now() + IDLE_RECHECK_MS);
        return;
      }
      if (!this.deps.running()) return void (await this.deps.giveBack(rows)); // stopped while the claim was committing
      admission.enqueue(rows, now);
      admission.startQueued();
      if (rows.length === want) this.again = true; // there may be more: claim again at once
      else await this.schedule(now, rows.length > 0);
      admission.settleIdle();
    })().finally(() => {
      this.claiming = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Sets the alarm for the next moment something may be claimed: a due row, or a host that reopens. */
  private async schedule(now: number, progressed: boolean) {
    const d = this.deps.delivery();
    const { admission, hosts } = this.deps;
    if (admission.unpacedStartedCount >= d.max_in_flight) return this.alarm.set(null); // completions will wake
    const moments = [...hosts.reopenings(now)];
    let due: number | null;
    try {
      due = await this.deps.storage.read.outbox.nextDueAt(hosts.blocked(now, d.per_host_in_flight, admission.queuedPerHost()));
    } catch (err) {
      // The read failed (a PostgreSQL connection lost): look again shortly, as after a failed claim.
      this.deps.log.error({ err }, "reading when the next postback is due failed; retrying");
      due = now + IDLE_RECHECK_MS;
    }
    if (due !== null) moments.push(due);
    let at = moments.length ? Math.min(...moments) : null;
    // A row reported due that this round could not claim must not turn the timer into a busy loop.
    if (at !== null && at <= now && !progressed) at = now + IDLE_RECHECK_MS;
    this.alarm.set(at);
  }

  /** No more rounds: the alarm is off, and the round under way (if any) has settled. */
  async stop() {
    this.alarm.set(null);
    await this.claiming;
  }
}
