import type { DeliveryConfig } from "../config/model.ts";
import { Alarm, type Clock } from "../lib/clock.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";
import type { Batching } from "./batching.ts";
import type { HostSlots } from "./host-slots.ts";

/** A row this process holds a lease on: queued to start, sending, or saving its outcome. */
export interface Held {
  row: ClaimedPostback;
  abort: AbortController;
  /** Settles when its attempt is over (outcome saved, or given up at shutdown). */
  done: Promise<void>;
  shuttingDown: boolean;
  /** When its claim (and lease) began, clock ms. */
  claimedAt: number;
}

export interface AdmissionDeps {
  delivery: () => DeliveryConfig;
  clock: Clock;
  hosts: HostSlots;
  /** Which queued rows may go out in one request (ad platforms). */
  batching: Batching;
  /** Rows to send alone at their next start: their batch was refused as a whole, and one of its events may be why (the attempt runner adds them). */
  solo: Set<number>;
  /** Runs one attempt — one request — of one started row, or of rows sent together; settles once it is over. */
  run: (entries: Held[]) => Promise<void>;
  /** Gives queued rows back to the outbox, unattempted (their host paused, or their lease nearly over). */
  giveBack: (rows: ClaimedPostback[], now: number) => void;
  /** A started row is over: its slot is free (the dispatcher starts more, and may claim). */
  finished: () => void;
}

/**
 * The admission queue: claimed rows wait here to start, in claim order — for a slot (up to
 * PREFETCH_SHARE more than the caps are claimed, so a slot freed by an answer is refilled at
 * once, not after a claim round) or for their host's pace. A row starts as far as
 * delivery.max_in_flight (tracker hosts only: a paced host, a bot, has its own cap and pace, so
 * its sends never take the trackers' slots), its host's slots and its host's pace allow. Queued
 * rows are given back when their host is paused and when one has waited so long that its lease
 * could end mid-request. A row that may share a request (an ad platform's, batching.ts) starts with
 * the queued rows of its key behind it, up to its platform's limit: one request, one slot, each
 * row with its own lease; a row whose batch was refused as a whole is sent alone next (`solo`).
 */
export class Admission {
  /** Every row held: queued or started. */
  readonly held = new Map<number, Held>();
  private queued: Held[] = [];
  /** Requests started to hosts without pacing (trackers): what delivery.max_in_flight counts. */
  private unpacedStarted = 0;
  /** When a queued row's pace lets it start. */
  private readonly paceAlarm: Alarm;
  private readonly idleWaiters: (() => void)[] = [];
  /** Each held row's batch key, read once from its body (null: sent alone). */
  private readonly keys = new WeakMap<Held, { key: string; limit: number } | null>();

  constructor(private readonly deps: AdmissionDeps) {
    this.paceAlarm = new Alarm(deps.clock, () => this.startQueued());
  }

  /** Requests started and not over (queued rows not counted). */
  get started(): number {
    return this.held.size - this.queued.length;
  }

  /**
   * What delivery.max_in_flight counts now: tracker requests started, plus the requests tracker
   * rows queued will make (rows of a host that batches count a request per batch of them).
   */
  get unpacedLoad(): number {
    const perHost = new Map<string, number>();
    for (const e of this.queued) if (!this.deps.hosts.isPaced(e.row.host)) perHost.set(e.row.host, (perHost.get(e.row.host) ?? 0) + 1);
    let requests = 0;
    for (const [host, n] of perHost) requests += Math.ceil(n / this.deps.hosts.batchOf(host));
    return this.unpacedStarted + requests;
  }

  get unpacedStartedCount(): number {
    return this.unpacedStarted;
  }

  queuedPerHost(): Map<string, number> {
    const n = new Map<string, number>();
    for (const e of this.queued) n.set(e.row.host, (n.get(e.row.host) ?? 0) + 1);
    return n;
  }

  enqueue(rows: readonly ClaimedPostback[], claimedAt: number) {
    for (const row of rows) {
      const entry: Held = { row, abort: new AbortController(), shuttingDown: false, done: Promise.resolve(), claimedAt };
      this.held.set(row.id, entry);
      this.queued.push(entry);
    }
  }

  /**
   * Starts queued rows, oldest claim first, as far as the global and per-host caps and the hosts'
   * pacing allow; a row waiting for its pace keeps its place and the pace alarm wakes it.
   */
  startQueued() {
    if (this.queued.length === 0) return;
    const d = this.deps.delivery();
    const hosts = this.deps.hosts;
    const now = this.deps.clock.now();
    let started = this.unpacedStarted;
    const back: Held[] = [];
    let paceAt: number | null = null;
    const leaseLeft = (e: Held) => now <= e.claimedAt + d.lease_ms - d.timeout_ms;
    /** Rows already started in this pass, behind a row of their key. */
    const taken = new Set<Held>();
    const queued = this.queued;
    this.queued = queued.filter((e, i) => {
      if (taken.has(e)) return false;
      const slots = hosts.slots(e.row.host, d.per_host_in_flight, now);
      // Back to the database, unattempted: its host is paused, or its lease could end mid-request.
      if (slots === 0 || !leaseLeft(e)) return !back.push(e);
      const paced = hosts.isPaced(e.row.host);
      if ((!paced && started >= d.max_in_flight) || hosts.inFlight(e.row.host) >= slots) return true;
      const wait = hosts.paceWait(e.row, now);
      if (wait > 0) {
        paceAt = paceAt === null ? wait : Math.min(paceAt, wait);
        return true;
      }
      if (!paced) started++;
      this.launch([e, ...this.companions(e, queued.slice(i + 1), taken, leaseLeft)], !paced);
      return false;
    });
    if (back.length) {
      for (const e of back) this.held.delete(e.row.id);
      this.deps.giveBack(back.map((e) => e.row), now);
    }
    this.paceAlarm.set(paceAt);
  }

  /** Takes every queued row out (shutdown): they were never sent. */
  takeQueued(): ClaimedPostback[] {
    const rows = this.queued.splice(0).map((e) => e.row);
    for (const row of rows) this.held.delete(row.id);
    this.paceAlarm.set(null);
    return rows;
  }

  /** Resolves when nothing is held, as a claim round finds (a finished row may free the next row of its lead). */
  idle(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Called after each claim round. */
  settleIdle() {
    if (this.held.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  /**
   * The queued rows (after `lead` in claim order) that go out in `lead`'s request: of its key, not
   * to be sent alone, with their lease still long enough. Per-lead order holds: a claim only ever
   * holds the first pending row of a lead and host, so no two rows here are of one lead.
   */
  private companions(lead: Held, after: readonly Held[], taken: Set<Held>, leaseLeft: (e: Held) => boolean): Held[] {
    if (this.deps.solo.delete(lead.row.id)) return [];
    const group = this.keyOf(lead);
    if (!group || group.limit <= 1) return [];
    const out: Held[] = [];
    for (const e of after) {
      if (out.length >= group.limit - 1) break;
      if (taken.has(e) || e.row.host !== lead.row.host || this.deps.solo.has(e.row.id) || !leaseLeft(e)) continue;
      if (this.keyOf(e)?.key !== group.key) continue;
      taken.add(e);
      out.push(e);
    }
    return out;
  }

  private keyOf(e: Held) {
    let key = this.keys.get(e);
    if (key === undefined) this.keys.set(e, (key = this.deps.batching.keyOf(e.row)));
    return key;
  }

  /** Starts one request: a row's attempt, or rows sent together; `counted`: it takes one of delivery.max_in_flight (its host is not paced). */
  private launch(entries: Held[], counted: boolean) {
    const host = entries[0]!.row.host;
    // One request: stopping it (shutdown) stops it for every row in it.
    for (const e of entries) e.abort = entries[0]!.abort;
    if (counted) this.unpacedStarted++;
    this.deps.hosts.started(host);
    const done = this.deps.run(entries).finally(() => {
      for (const e of entries) this.held.delete(e.row.id);
      if (counted) this.unpacedStarted--;
      this.deps.hosts.finished(host);
      this.deps.finished();
    });
    for (const e of entries) e.done = done;
  }
}
