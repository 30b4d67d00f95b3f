import type { CounterAdd, Reads, Tx } from "../port.ts";
import { PgAlerts } from "./alerts.ts";
import { PgCampaigns } from "./campaigns.ts";
import { PgClicks } from "./clicks.ts";
import { PgCohorts, PgMoney, PgProfiles } from "./insights.ts";
import { PgBotLeases, PgCircuits, PgInstances } from "./cluster.ts";
import { PgInbound } from "./inbound.ts";
import { PgJournal } from "./journal.ts";
import { PgLeads } from "./leads.ts";
import type { PendingCompletion } from "./outbox-claims.ts";
import { PgOutbox } from "./outbox.ts";
import type { Pg } from "./query.ts";
import { PgSessions } from "./sessions.ts";
import { PgStats } from "./stats.ts";
import { PgTelegram } from "./telegram.ts";

/** What a write transaction hands its stores beyond its connection. */
export interface TxHooks {
  /** Counter additions, written by the engine when the work is done (stats.ts addCounters). */
  deferCounters: (counts: readonly CounterAdd[]) => void;
  /** In a transaction of shared writes: outbox completions collected into one statement. */
  completions?: (item: PendingCompletion) => Promise<boolean>;
  /** Other counters' upserts, run by the engine when the work is done, in (table, key) order (insights.ts, clicks.ts). */
  late?: LateWrites;
}

/**
 * Upserts of counter rows that every event of a campaign adds to (funnel, retention, revenue,
 * click_stats): held back and run right before COMMIT, in one order for every writer (table, then
 * the row's key), so writers queue on those rows only for the commit and never lock them crosswise.
 */
export type LateWrites = (table: number, key: string, run: () => Promise<void>) => void;

/** The read stores on the pool: each statement on a free connection. */
export function pgReads(pg: Pg): Reads {
  return {
    leads: new PgLeads(pg),
    outbox: new PgOutbox(pg),
    campaigns: new PgCampaigns(pg),
    journal: new PgJournal(pg),
    inbound: new PgInbound(pg),
    telegram: new PgTelegram(pg),
    stats: new PgStats(pg),
    sessions: new PgSessions(pg),
    instances: new PgInstances(pg),
    botLeases: new PgBotLeases(pg),
    circuits: new PgCircuits(pg),
    profiles: new PgProfiles(pg),
    cohorts: new PgCohorts(pg),
    money: new PgMoney(pg),
    clicks: new PgClicks(pg),
    alerts: new PgAlerts(pg),
  };
}

/**
 * Every store on one transaction. Built per transaction, lazily: most writes touch two or three
 * aggregates, and a store is one small object over the transaction's connection.
 */
export function pgTx(pg: Pg, hooks: TxHooks): Tx {
  const cache = new Map<string, unknown>();
  const lazy = <T>(name: string, make: () => T): T => {
    let store = cache.get(name) as T | undefined;
    if (store === undefined) cache.set(name, (store = make()));
    return store;
  };
  return {
    get leads() { return lazy("leads", () => new PgLeads(pg)); },
    get outbox() { return lazy("outbox", () => new PgOutbox(pg, hooks.completions ?? null)); },
    get campaigns() { return lazy("campaigns", () => new PgCampaigns(pg)); },
    get journal() { return lazy("journal", () => new PgJournal(pg)); },
    get inbound() { return lazy("inbound", () => new PgInbound(pg)); },
    get telegram() { return lazy("telegram", () => new PgTelegram(pg)); },
    get stats() { return lazy("stats", () => new PgStats(pg, hooks.deferCounters)); },
    get sessions() { return lazy("sessions", () => new PgSessions(pg)); },
    get instances() { return lazy("instances", () => new PgInstances(pg)); },
    get botLeases() { return lazy("botLeases", () => new PgBotLeases(pg)); },
    get circuits() { return lazy("circuits", () => new PgCircuits(pg)); },
    get profiles() { return lazy("profiles", () => new PgProfiles(pg)); },
    get cohorts() { return lazy("cohorts", () => new PgCohorts(pg, hooks.late)); },
    get money() { return lazy("money", () => new PgMoney(pg, hooks.late)); },
    get clicks() { return lazy("clicks", () => new PgClicks(pg, hooks.late)); },
    get alerts() { return lazy("alerts", () => new PgAlerts(pg)); },
    async writeProbe(now: number) {
      await pg.run(`INSERT INTO storage_probe (id, written_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at`, [now]);
    },
  };
}
