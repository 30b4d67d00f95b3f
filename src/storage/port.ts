// The storage port: what the features ask of the database, per aggregate, with reads and writes
// apart. A write happens only inside `Storage.write(async (tx) => …)`, where `tx` carries the
// write methods; `Storage.read` has none, so a write outside a transaction does not type-check.
// Methods answer `Awaitable` values: the SQLite adapter answers at once (its group commit runs a
// batch of writes on one connection), an asynchronous engine answers with promises. Callers
// always `await` them, so one domain code runs on both. Each aggregate's interfaces are in a port-*.ts
// file beside this one (leads, outbox, clicks, insights, alerts, cluster) or below.
import type {
  BotRow, CampaignRow, ChatRow, InboundLogRow, InviteLinkRow, JournalRow, MediaFileRow, NewInboundLog, NewJournal, SessionRow, StatusSums,
} from "./rows.ts";
import type { BotLeaseReads, BotLeaseWrites, CircuitReads, CircuitWrites, InstanceReads, InstanceWrites } from "./port-cluster.ts";
import type { AlertReads, AlertWrites } from "./port-alerts.ts";
import type { CohortReads, CohortWrites, MoneyReads, MoneyWrites, ProfileReads, ProfileWrites } from "./port-insights.ts";
import type { ClickReads, ClickWrites } from "./port-clicks.ts";
import type { LeadReads, LeadWrites } from "./port-leads.ts";
import type { OutboxReads, OutboxWrites } from "./port-outbox.ts";

export type { ClickGroupAdd, ClickRange, ClickReads, ClickSpan, ClickWrites } from "./port-clicks.ts";

export type { LeadFilter, LeadExportFilter, LeadChange, LeadReads, LeadWrites } from "./port-leads.ts";
export type { PostbackFilter, OutboxReads, OutboxWrites } from "./port-outbox.ts";

export type Awaitable<T> = T | PromiseLike<T>;

// ---- campaigns mirrored from the config ----

export interface CampaignMirror {
  code: string;
  name: string;
  bot: string | null;
  chat: number | null;
  paused: boolean;
}

export interface CampaignReads {
  /** Every campaign ever mirrored, oldest first, with whether it is still in the config. */
  all(): Awaitable<CampaignRow[]>;
  findId(code: string): Awaitable<number | null>;
}

export interface CampaignWrites {
  /** Mirrors the config's campaigns by code (the others are marked out of the config); their ids by code. */
  sync(campaigns: readonly CampaignMirror[], now: number): Awaitable<Map<string, number>>;
}

// ---- the activity journal ----

export interface JournalReads {
  list(filter: { kind?: string; beforeId?: number; limit: number }): Awaitable<JournalRow[]>;
  /** A subscriber's entries of these kinds, newest first. */
  ofSubscriber(subscriber: number, kinds: readonly string[], limit: number): Awaitable<JournalRow[]>;
  /** Rejected Starts whose payload contains `text`, newest first. */
  startsCarrying(text: string, limit: number): Awaitable<JournalRow[]>;
  /** Organic joins of a subscriber in a campaign since `since` not yet applied to a lead. */
  organicJoins(campaignId: number, subscriber: number, since: number): Awaitable<Pick<JournalRow, "id" | "detail" | "createdAt">[]>;
}

export interface JournalWrites {
  insert(row: NewJournal): Awaitable<void>;
  setKind(id: number, kind: string): Awaitable<void>;
  prune(before: number, limit: number): Awaitable<number>;
}

// ---- inbound postbacks' log ----

export interface InboundReads {
  list(filter: { result?: string; beforeId?: number; limit: number }): Awaitable<InboundLogRow[]>;
}

export interface InboundWrites {
  log(row: NewInboundLog): Awaitable<void>;
  prune(before: number, limit: number): Awaitable<number>;
  /** Keeps the newest `keep` rows of requests without a valid key; how many went. */
  pruneAccessRows(keep: number): Awaitable<number>;
}

// ---- Telegram: bots, chats, processed updates, invite links, media ----

export interface TelegramReads {
  bot(name: string): Awaitable<BotRow | null>;
  chats(): Awaitable<ChatRow[]>;
  chat(bot: string, chatId: number): Awaitable<ChatRow | null>;
  inviteLink(bot: string, campaignId: number): Awaitable<InviteLinkRow | null>;
  mediaFileId(bot: string, path: string): Awaitable<string | null>;
}

export interface TelegramWrites {
  /** Records an update id; false when it was applied before (the update must change nothing). */
  markUpdateProcessed(bot: string, updateId: number, now: number): Awaitable<boolean>;
  pruneProcessedUpdates(before: number, limit: number): Awaitable<number>;
  saveBotIdentity(name: string, telegramId: number, username: string, now: number): Awaitable<void>;
  /** Moves the polling offset forward, never back. */
  advancePollingOffset(name: string, offset: number, now: number): Awaitable<void>;
  upsertChat(row: ChatRow): Awaitable<void>;
  /** Keeps the first link stored for a bot and campaign. */
  saveInviteLink(row: InviteLinkRow): Awaitable<void>;
  saveMediaFileId(row: MediaFileRow): Awaitable<void>;
}

// ---- the dashboard's counters ----

export interface CounterAdd {
  campaignId: number;
  bucket: number;
  status: string;
  events: number;
  leads: number;
  postbacks: number;
}

export interface StatsReads {
  /** Counter sums of one campaign per day (its index in `days`, each [start, end)) and status. */
  sumsPerDay(campaignId: number, days: readonly (readonly [number, number])[]): Awaitable<(StatusSums & { day: number })[]>;
  /** The earliest bucket a campaign has counters in. */
  firstBucket(campaignId: number): Awaitable<number | null>;
  /** All-time counters of the campaigns, per status. */
  totals(campaignIds: readonly number[]): Awaitable<(StatusSums & { campaignId: number })[]>;
  /** Unique leads of a campaign whose join request was approved (hold → approve) in [since, until). */
  approvedJoinRequests(campaignId: number, since: number, until: number): Awaitable<number>;
}

export interface StatsWrites {
  add(counts: readonly CounterAdd[]): Awaitable<void>;
}

// ---- dashboard sessions ----

export interface SessionReads {
  find(id: string): Awaitable<SessionRow | null>;
}

export interface SessionWrites {
  insert(row: SessionRow): Awaitable<void>;
  delete(id: string): Awaitable<void>;
  deleteExpired(now: number): Awaitable<void>;
}

// ---- the whole ----

export interface Reads {
  leads: LeadReads;
  outbox: OutboxReads;
  campaigns: CampaignReads;
  journal: JournalReads;
  inbound: InboundReads;
  telegram: TelegramReads;
  stats: StatsReads;
  sessions: SessionReads;
  instances: InstanceReads;
  botLeases: BotLeaseReads;
  circuits: CircuitReads;
  alerts: AlertReads;
  profiles: ProfileReads;
  cohorts: CohortReads;
  money: MoneyReads;
  clicks: ClickReads;
}

/** The write handle: every aggregate's reads and writes, inside one transaction. */
export interface Tx {
  leads: LeadReads & LeadWrites;
  outbox: OutboxReads & OutboxWrites;
  campaigns: CampaignReads & CampaignWrites;
  journal: JournalReads & JournalWrites;
  inbound: InboundReads & InboundWrites;
  telegram: TelegramReads & TelegramWrites;
  stats: StatsReads & StatsWrites;
  sessions: SessionReads & SessionWrites;
  instances: InstanceReads & InstanceWrites;
  botLeases: BotLeaseReads & BotLeaseWrites;
  circuits: CircuitReads & CircuitWrites;
  alerts: AlertReads & AlertWrites;
  profiles: ProfileReads & ProfileWrites;
  cohorts: CohortReads & CohortWrites;
  money: MoneyReads & MoneyWrites;
  clicks: ClickReads & ClickWrites;
  /** One row rewritten: whether it commits tells that the database still takes writes. */
  writeProbe(now: number): Awaitable<void>;
}

/**
 * Whether the database takes writes, as the last write found: one that changed rows and
 * committed (writable), or one that failed with storage trouble — disk full, I/O error,
 * read-only, a lock held too long, the server gone — (not writable, with that error, since when).
 */
export type StorageState = { writable: true } | { writable: false; error: string; since: number };

export interface WriteOptions {
  /**
   * Settle at the commit, before the engine has made it durable: for a write whose result only
   * this process acts on and which nothing outside sees before a later durable write (a delivery
   * outcome frees a slot). Engines whose commit is durable ignore it.
   */
  beforeSync?: boolean;
  /**
   * A short write that may share its transaction with others marked so that arrive together (the
   * dispatcher's delivery outcomes): an engine that runs each write in a transaction of its own
   * (PostgreSQL) runs these as one, their outbox completions as one statement. SQLite's group
   * commit shares every transaction anyway.
   */
  shared?: boolean;
}

export interface Storage {
  readonly engine: "sqlite" | "postgres";
  /**
   * Writes handed in together commit in the order they were handed in (SQLite: one writer, its
   * group commit). False when they run side by side (PostgreSQL): a caller that needs their order
   * hands them in one after the other.
   */
  readonly serialWrites: boolean;
  readonly read: Reads;
  /**
   * Runs `work` in a transaction and settles once it is committed and durable. `work` may run a
   * second time (a batch retried with each write isolated), so it must act on the database only.
   * It must await nothing but `tx` while it runs: the transaction stays open meanwhile.
   */
  write<T>(work: (tx: Tx) => Promise<T>, opts?: WriteOptions): Promise<T>;
  /** Resolves once everything committed so far is durable; undefined when it already is. A reader awaits it before answering. */
  durable(): Promise<void> | undefined;
  state(): StorageState;
  /** A write outside `write` met storage trouble (the health state hears of it). */
  noteFailure(err: unknown): void;
  /** When a write last committed changes (clock ms). */
  readonly lastWriteAt: number;
  /** Answers a trivial read; throws when the database cannot be read. */
  ping(): Promise<void>;
  /**
   * Runs `work` unless another instance on the database is running work of the same `name` (a
   * session lock for as long as it runs): undefined when it was skipped. One process per database
   * (SQLite) always runs it.
   */
  runAlone<T>(name: string, work: () => Promise<T>): Promise<T | undefined>;
  /** For /metrics. */
  readonly metrics: StorageMetrics;
  /** Waits for every write handed in, then closes. */
  close(): Promise<void>;
}

export interface StorageMetrics {
  batches: number;
  writes: number;
  /** Histograms in ms: the time a batch held the event loop, and each durability sync. */
  commitMs: import("../lib/histogram.ts").Histogram;
  syncMs: import("../lib/histogram.ts").Histogram;
}
