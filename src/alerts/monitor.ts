// The alerts (alerts: in the config), looked at on a timer of the injected clock: each cause
// observed (observe.ts), stepped through its state machine (domain/alerts.ts), and what it sends
// written as outbox rows in the transaction that records the incident — so alerts survive a
// restart and are paced, retried and guarded like every send. The one exception is storage
// unwritable: its alert cannot be written while writes fail, so it is sent straight from memory
// and recorded (the incident and a journal row with what the sends answered) once writes work.
import type { Api } from "grammy";
import type { AlertsConfig, AlertKind } from "../config/model.ts";
import { ALERT_KINDS } from "../config/model.ts";
import type { Runtime } from "../config/runtime.ts";
import type { HostStates } from "../delivery/host-health.ts";
import type { HttpChannel } from "../delivery/http-channel.ts";
import { OK, stepAlert, type AlertState } from "../domain/alerts.ts";
import { dueDigest, nextDigestAt } from "../domain/digest.ts";
import { formatAmount } from "../domain/money.ts";
import { Alarm, type Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { StorageProbe } from "../ops/health.ts";
import type { Storage, Tx } from "../storage/port.ts";
import type { AlertIncidentRow } from "../storage/rows.ts";
import { alertRows, digestMessage, firingMessage, recoveryMessage, webhookBody, type AlertMessage, type DigestLine } from "./messages.ts";
import { observeAll, type Observed } from "./observe.ts";
import { bounded } from "../telegram/api-call.ts";
import { ALERT_WEBHOOK_VERDICT, maskedWebhookUrl } from "./webhook-secret.ts";

export interface AlertMonitorDeps {
  storage: Pick<Storage, "read" | "write" | "state" | "lastWriteAt">;
  clock: Clock;
  log: Logger;
  runtime: () => Runtime;
  bots: () => readonly { name: string; status: string; last_error: string | null; down_since: string | null }[];
  /** A running bot's Bot API, for an alert sent straight from memory. */
  botApi: (name: string) => Api | undefined;
  hosts: HostStates;
  httpChannel: HttpChannel;
  /** Wakes the dispatcher after alert rows were written. */
  wake: () => void;
  /**
   * Whether this instance looks at the causes (several instances on one database: the one holding
   * the alerts' lease, so an incident is sent once); absent: always.
   */
  leader?: () => boolean;
}

/** One alert as this process holds it. */
interface Entry {
  kind: AlertKind;
  subject: string;
  state: AlertState;
  /** Its incident's row while one is open (firing, recovering); null before it is written. */
  incidentId: number | null;
  detail: string | null;
  /** Sent straight from memory while writes failed (storage_unwritable): recorded once they work. */
  unrecorded: { text: string; sentAt: number; outcomes: string[] } | null;
}

/** An alert that is not ok, as GET /api/alerts shows it. */
export interface ActiveAlert {
  key: string;
  kind: AlertKind;
  subject: string;
  phase: AlertState["phase"];
  badSince: number | null;
  firedAt: number | null;
  detail: string | null;
}

/** Kinds whose subject comes from the config: a subject gone from it is fine (its alert recovers). */
const CONFIGURED = new Set<AlertKind>(["bot_down", "bot_rights", "no_starts"]);
/** Digest rows are kept under one key; their subject is the local date sent. */
const DIGEST_KEY = "digest";

export class AlertMonitor {
  private readonly entries = new Map<string, Entry>();
  private loaded = false;
  private lastDigest: string | null = null;
  private readonly alarm: Alarm;
  private readonly probe: StorageProbe;
  private ticking: Promise<void> | null = null;
  private running = false;

  constructor(private readonly deps: AlertMonitorDeps) {
    this.alarm = new Alarm(deps.clock, () => void this.tick());
    this.probe = new StorageProbe({ storage: deps.storage, now: deps.clock.now });
  }

  /** Looks at once, then every alerts.check_every (and at the digest's time), while alerts are configured. */
  start() {
    this.running = true;
    void this.tick();
  }

  /** After a config reload: alerts may have been added, removed or retimed. */
  reconfigure() {
    if (!this.running) return;
    this.alarm.set(null);
    void this.tick();
  }

  async stop() {
    this.running = false;
    this.alarm.set(null);
    await this.ticking;
  }

  /** Resolves when the look under way (if any) is over (tests). */
  async idle(): Promise<void> {
    await this.ticking;
  }

  active(): ActiveAlert[] {
    return [...this.entries].filter(([, e]) => e.state.phase !== "ok").map(([key, e]) => ({
      key, kind: e.kind, subject: e.subject, phase: e.state.phase, badSince: e.state.badSince, firedAt: e.state.firedAt, detail: e.detail,
    }));
  }

  private tick(): Promise<void> {
    if (!this.running || this.ticking) return this.ticking ?? Promise.resolve();
    this.ticking = this.look().catch((err) => this.deps.log.error({ err }, "alerts: looking at the causes failed")).finally(() => {
      this.ticking = null;
      this.arm();
    });
    return this.ticking;
  }

  /** The next look: after check_every, or at the digest's time if sooner; none while no alerts are configured (a reload calls reconfigure). */
  private arm() {
    const cfg = this.deps.runtime().config.alerts;
    if (!this.running || !cfg) return this.alarm.set(null);
    const now = this.deps.clock.now();
    const next = now + cfg.check_every_ms;
    this.alarm.set(cfg.digest ? Math.min(next, nextDigestAt(cfg.timezone, cfg.digest, now)) : next);
  }

  private async load() {
    for (const row of await this.deps.storage.read.alerts.current()) {
      if (row.key === DIGEST_KEY) this.lastDigest = row.subject;
      else if (ALERT_KINDS.includes(row.kind as AlertKind)) this.entries.set(row.key, entryOf(row));
    }
    this.loaded = true;
  }

  private async look() {
    const cfg = this.deps.runtime().config.alerts;
    if (!cfg) return;
    if (this.deps.leader && !this.deps.leader()) {
      this.loaded = false; // another instance looks; its incidents are read afresh if this one takes over
      this.entries.clear();
      return;
    }
    if (!this.loaded) await this.load();
    const now = this.deps.clock.now();
    const observed = await observeAll({
      read: this.deps.storage.read, runtime: this.deps.runtime(), bots: this.deps.bots, hosts: this.deps.hosts, storageState: () => this.probe.state(),
    }, cfg, now);
    const seen = new Set(observed.map((o) => o.key));
    for (const [key, e] of this.entries) {
      if (seen.has(key) || cfg.after_ms[e.kind] === null) continue;
      observed.push({ key, kind: e.kind, subject: e.subject, obs: CONFIGURED.has(e.kind) ? { bad: false } : null, detail: "" });
    }
    const writes: ((tx: Tx) => Promise<void>)[] = [];
    const commits: (() => void)[] = [];
    let rows = 0;
    for (const o of observed) {
      const entry = this.entries.get(o.key) ?? { kind: o.kind, subject: o.subject, state: OK, incidentId: null, detail: null, unrecorded: null };
      const step = stepAlert(entry.state, o.obs, { afterMs: cfg.after_ms[o.kind]!, spacingMs: cfg.spacing_ms, recoverAfterMs: cfg.recover_after_ms }, now);
      const message = step.send === "fire" ? firingMessage(o.kind, o.subject, o.detail, step.state.badSince!, now)
        : step.send === "recover" ? recoveryMessage(o.kind, o.subject, entry.state.badSince, now) : null;
      if (step.send === "fire" && o.kind === "storage_unwritable") {
        // Nothing can be written now: sent from memory, recorded when writes work again.
        const outcomes = await this.sendDirect(cfg, message!);
        this.entries.set(o.key, { ...entry, state: step.state, detail: o.detail, unrecorded: { text: message!.text, sentAt: now, outcomes } });
        this.deps.log.warn({ alert: o.key, outcomes }, "alert sent straight from memory: the database refuses writes");
        continue;
      }
      const phaseChanged = step.state.phase !== entry.state.phase;
      const stored = entry.incidentId !== null || entry.unrecorded !== null || step.send === "fire";
      if (!stored || (!phaseChanged && entry.unrecorded === null) || step.state.phase === "pending") {
        // ok ↔ pending and a pending incident's own clock live in memory only: nothing was sent.
        if (step.state !== entry.state) this.entries.set(o.key, { ...entry, state: step.state });
        continue;
      }
      const next: Entry = { ...entry, state: step.state, detail: step.send === "fire" ? o.detail : entry.detail };
      const alertRowsOf = message ? alertRows(cfg, message, now) : [];
      rows += alertRowsOf.length;
      let id = entry.incidentId;
      writes.push(async (tx) => {
        id = await persist(tx, o, entry, next, now);
        if (entry.unrecorded) {
          await tx.journal.insert({ kind: "alert_sent_directly", detail: { alert: o.key, text: entry.unrecorded.text, sent_at: entry.unrecorded.sentAt, outcomes: entry.unrecorded.outcomes }, createdAt: now });
        }
        if (alertRowsOf.length) await tx.outbox.insert(alertRowsOf);
      });
      commits.push(() => this.entries.set(o.key, { ...next, incidentId: next.state.phase === "ok" ? null : id, unrecorded: null }));
    }
    const digest = cfg.digest ? dueDigest(cfg.timezone, cfg.digest, now, this.lastDigest) : null;
    if (digest) {
      const message = digestMessage(digest.day.date, cfg.timezone, await this.digestLines(digest.day.start, digest.day.end), now);
      const digestRows = alertRows(cfg, message, now);
      rows += digestRows.length;
      writes.push(async (tx) => {
        await tx.alerts.insert({ key: DIGEST_KEY, kind: "digest", subject: digest.date, state: "sent", badSince: now, goodSince: null, firedAt: now, resolvedAt: null, detail: message.text, createdAt: now, updatedAt: now });
        await tx.outbox.insert(digestRows);
      });
      commits.push(() => (this.lastDigest = digest.date));
    }
    if (writes.length === 0) return;
    try {
      await this.deps.storage.write(async (tx) => {
        for (const w of writes) await w(tx);
      });
    } catch (err) {
      // Writes refused (storage trouble): nothing changed; the next look tries again.
      this.deps.log.warn({ err }, "alerts: recording failed; trying again at the next look");
      return;
    }
    for (const c of commits) c();
    if (rows) this.deps.wake();
  }

  /** The digest's figures: per campaign in the config, the day's unique leads per step (the dashboard's counters) and its revenue per currency. */
  private async digestLines(start: number, end: number): Promise<DigestLine[]> {
    const lines: DigestLine[] = [];
    for (const c of this.deps.runtime().campaigns.values()) {
      const sums = await this.deps.storage.read.stats.sumsPerDay(c.id, [[start, end]]);
      const leads = (status: string) => sums.filter((s) => s.status === status).reduce((n, s) => n + s.leads, 0);
      // The day's revenue per currency (the money counters of issue 22), never added across currencies.
      const revenue = (await this.deps.storage.read.money.revenuePerDay(c.id, [[start, end]]))
        .filter((r) => r.amountMicros !== 0).sort((a, b) => a.currency.localeCompare(b.currency))
        .map((r) => ({ amount: formatAmount(r.amountMicros), currency: r.currency }));
      lines.push({ campaign: c.config.code, starts: leads("wait"), joinRequests: leads("hold"), joins: leads("approve"), leaves: leads("cancel"), bans: leads("trash"), revenue });
    }
    return lines;
  }

  /** An alert sent from memory (no outbox: writes fail): the webhook through the HTTP channel (address guard, timeout), Telegram through the bot. */
  private async sendDirect(cfg: AlertsConfig, message: AlertMessage): Promise<string[]> {
    const outcomes: string[] = [];
    if (cfg.webhook) {
      const sent = await this.deps.httpChannel({
        method: "POST", url: maskedWebhookUrl(cfg.webhook.url), body: webhookBody(cfg.webhook.format, message.text, message.alert),
        contentType: "application/json", verdict: ALERT_WEBHOOK_VERDICT,
      });
      outcomes.push(`webhook: ${sent.verdict.outcome}${sent.verdict.outcome === "delivered" ? "" : ` (${sent.verdict.reason})`}`);
    }
    if (cfg.telegram) {
      const api = this.deps.botApi(cfg.telegram.bot);
      const timeoutMs = this.deps.runtime().config.delivery.timeout_ms; // wall time: a network timeout
      try {
        if (!api) throw new Error(`bot ${cfg.telegram.bot} is not running`);
        const chat = cfg.telegram.chat;
        await bounded(new AbortController().signal, timeoutMs, (signal) => api.sendMessage(chat, message.text, { link_preview_options: { is_disabled: true } }, signal));
        outcomes.push("telegram: delivered");
      } catch (err) {
        outcomes.push(`telegram: not sent (${(err as Error).message})`);
      }
    }
    return outcomes;
  }
}

/** An alert's state as its newest incident row left it. */
function entryOf(row: AlertIncidentRow): Entry {
  const base = { kind: row.kind as AlertKind, subject: row.subject, detail: row.detail, unrecorded: null };
  if (row.state === "resolved") return { ...base, state: { ...OK, lastSentAt: row.resolvedAt }, incidentId: null };
  const phase = row.state === "recovering" ? "recovering" : "firing";
  return { ...base, incidentId: row.id, state: { phase, badSince: row.badSince, goodSince: row.goodSince, firedAt: row.firedAt, lastSentAt: row.firedAt } };
}

/** Writes an alert's new state to its incident row (inserted when it fires, or when one sent from memory is recorded). */
async function persist(tx: Tx, o: Observed, before: Entry, next: Entry, now: number): Promise<number | null> {
  const s = next.state;
  const resolved = s.phase === "ok";
  const fields = {
    state: resolved ? "resolved" as const : (s.phase as "firing" | "recovering"), goodSince: s.goodSince, resolvedAt: resolved ? now : null, updatedAt: now,
  };
  if (before.incidentId !== null) {
    await tx.alerts.update(before.incidentId, fields);
    return before.incidentId;
  }
  const firedAt = before.unrecorded?.sentAt ?? s.firedAt ?? now;
  return tx.alerts.insert({
    key: o.key, kind: o.kind, subject: o.subject, badSince: (resolved ? before.state.badSince : s.badSince) ?? now, firedAt, detail: next.detail, createdAt: now, ...fields,
  });
}
