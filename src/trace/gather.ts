// What GET /api/trace reads for one click or subscriber: its rejected Starts, its leads with their
// events, postbacks and attempts, its journal — through storage.read — and the facts the findings
// (domain/trace.ts) are made from.
import type { Runtime } from "../config/runtime.ts";
import type { HostStates } from "../delivery/host-health.ts";
import type { TraceFacts, TraceJournal, TraceLead, TraceStart } from "../domain/trace.ts";
import type { Reads } from "../storage/port.ts";
import type { AttemptRow, JournalRow, LeadEventRow, LeadRow, PostbackRow } from "../storage/rows.ts";

/** Rows of each kind a trace shows at most (a click or a subscriber has a few). */
export const TRACE_LIMIT = 100;

/** What a subscriber's journal may say that no lead shows. */
const SUBSCRIBER_KINDS = ["start_rejected", "organic_join", "organic_join_applied", "event_ignored", "bot_blocked", "untracked_chat"];

export interface Gathered {
  starts: JournalRow[];
  leads: { lead: LeadRow; events: LeadEventRow[]; postbacks: { row: PostbackRow; attempts: AttemptRow[] }[] }[];
  journal: JournalRow[];
  facts: TraceFacts;
}

const text = (v: unknown) => (typeof v === "string" ? v : null);

export async function gatherTrace(
  deps: { read: Reads; runtime: Runtime; hosts: HostStates; now: number }, q: { click?: string; subscriber?: number },
): Promise<Gathered> {
  const { read, runtime } = deps;
  const campaignIds = (await read.campaigns.all()).map((c) => c.id);
  const leads = await read.leads.list({ campaignIds, click: q.click, subscriber: q.subscriber, limit: TRACE_LIMIT });
  // A subscriber's journal; for a click, that of the subscribers its leads belong to, and the rejected Starts carrying it.
  const subscribers = q.subscriber !== undefined ? [q.subscriber] : [...new Set(leads.map((l) => l.subscriber))];
  const journal = (await Promise.all(subscribers.map((s) => read.journal.ofSubscriber(s, SUBSCRIBER_KINDS, TRACE_LIMIT)))).flat();
  const carrying = q.click !== undefined ? await read.journal.startsCarrying(q.click, TRACE_LIMIT) : [];
  const starts = uniqueById([...carrying, ...journal.filter((j) => j.kind === "start_rejected")]).sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  const others = journal.filter((j) => j.kind !== "start_rejected").sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);

  const open = new Map(deps.hosts.states(deps.now).filter((h) => h.circuit === "open").map((h) => [h.host, h.openUntil]));
  const byId = new Map((await read.campaigns.all()).map((c) => [c.id, c.code]));
  const gathered = await Promise.all(leads.map(async (lead) => {
    const events = await read.leads.events(lead.id);
    const rows = await read.outbox.ofLead(lead.id);
    const postbacks = await Promise.all(rows.map(async (row) => ({ row, attempts: await read.outbox.attempts(row.id) })));
    return { lead, events, postbacks };
  }));
  const codeOf = (id: number | null) => (id === null ? null : (byId.get(id) ?? String(id)));

  const traceLeads: TraceLead[] = gathered.map(({ lead, events, postbacks }) => ({
    id: lead.id, campaign: codeOf(lead.campaignId)!, click: lead.click, joinedAt: lead.joinedAt,
    unsubWindowMs: runtime.campaignsById.get(lead.campaignId)?.config.unsub_window_ms ?? 0,
    events: events.map((e) => ({ id: e.id, status: e.status, at: e.occurredAt, reason: e.reason })),
    postbacks: postbacks.map(({ row }) => ({
      id: row.id, eventId: row.eventId, channel: row.channel, state: row.state, reason: row.reason, attempts: row.attempts,
      nextAttemptAt: row.state === "pending" ? row.nextAttemptAt : null, hostOpenUntil: row.state === "pending" ? (open.get(row.host) ?? null) : null,
    })),
  }));
  const traceStarts: TraceStart[] = starts.map((s) => {
    const d = s.detail ?? {};
    return {
      at: s.createdAt, reason: text(d.reason) ?? "unknown", payload: text(d.payload), length: typeof d.length === "number" ? d.length : null,
      code: text(d.code), bot: text(d.bot), campaignBot: text(d.campaign_bot),
    };
  });
  const traceJournal: TraceJournal[] = others.map((j) => {
    const d = j.detail ?? {};
    return { kind: j.kind, at: j.createdAt, campaign: codeOf(j.campaignId), status: text(d.status), reason: text(d.reason) };
  });
  return {
    starts, leads: gathered, journal: others,
    facts: {
      click: q.click ?? null, subscriber: q.subscriber ?? null, starts: traceStarts, leads: traceLeads, journal: traceJournal,
      campaignCodes: [...runtime.campaigns.keys()],
    },
  };
}

function uniqueById<T extends { id: number }>(rows: T[]): T[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}
