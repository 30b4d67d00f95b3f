// Why nothing was sent (GET /api/trace): the facts about one click or subscriber — its Starts, its
// leads with their events and postbacks, its journal — in words, one finding per thing that did
// not end in a delivered postback (pure; table-tested in test/unit/trace.test.ts).
import { spokenDuration } from "../lib/duration.ts";

/** Telegram carries a deep link's start payload only up to this many characters (reference/telegram.md). */
export const MAX_START_PAYLOAD = 64;

export interface TraceStart {
  at: number;
  /** start_rejected's reason. */
  reason: "no_payload" | "malformed_payload" | "unknown_campaign" | "campaign_paused" | string;
  payload: string | null;
  length: number | null;
  code: string | null;
  bot: string | null;
  /** unknown_campaign: the bot the campaign of that code belongs to, when one has it. */
  campaignBot: string | null;
}

export interface TracePostback {
  id: number;
  eventId: number;
  channel: "http" | "telegram";
  state: "pending" | "delivered" | "failed" | "rejected" | "skipped";
  reason: string | null;
  attempts: number;
  nextAttemptAt: number | null;
  /** The host's circuit is open until then (pending rows of a paused host). */
  hostOpenUntil: number | null;
}

export interface TraceEvent {
  id: number;
  status: string;
  at: number;
  reason: string | null;
}

export interface TraceLead {
  id: number;
  campaign: string;
  /** The campaign's unsubscribe window, ms (0: never closes). */
  unsubWindowMs: number;
  joinedAt: number | null;
  click: string;
  events: TraceEvent[];
  postbacks: TracePostback[];
}

export interface TraceJournal {
  kind: "organic_join" | "organic_join_applied" | "event_ignored" | "bot_blocked" | "untracked_chat" | string;
  at: number;
  campaign: string | null;
  status: string | null;
  reason: string | null;
}

export interface TraceFacts {
  click: string | null;
  subscriber: number | null;
  starts: TraceStart[];
  leads: TraceLead[];
  journal: TraceJournal[];
  /** The configured campaigns' codes: a click too long for a deep link with any of them is named. */
  campaignCodes: string[];
}

export interface Finding {
  /** What it is about: "click", "start", "lead 42", "lead 42, event 77 (approve)", "postback 101", "subscriber". */
  about: string;
  text: string;
}

/** How times read in the findings: an ISO instant (the caller may pass the zone's formatter). */
export type TimeText = (ms: number) => string;

const isoTime: TimeText = (ms) => new Date(ms).toISOString();

/** A Start rejected, in words. */
function startFinding(s: TraceStart, time: TimeText): Finding {
  const when = `the Start at ${time(s.at)}`;
  const carried = s.payload === null ? "" : ` (payload "${s.payload}", ${s.length ?? s.payload.length} characters)`;
  switch (s.reason) {
    case "no_payload":
      return { about: "start", text: `${when} came as a bare /start, without a payload: the link had none, or its payload was longer than ${MAX_START_PAYLOAD} characters — Telegram then drops it and the bot cannot tell the campaign or the click. No lead.` };
    case "malformed_payload":
      return { about: "start", text: `${when}${carried} is not a deep-link payload: at most ${MAX_START_PAYLOAD} characters of A-Z a-z 0-9 _ -. No lead.` };
    case "unknown_campaign":
      return {
        about: "start",
        text: s.campaignBot
          ? `${when}${carried} names campaign ${s.code}, which belongs to bot ${s.campaignBot}, not to ${s.bot}: the link points at the wrong bot. No lead.`
          : `${when}${carried} names campaign code "${s.code}", which no configured campaign has. No lead.`,
      };
    case "campaign_paused":
      return { about: "start", text: `${when}${carried} matched campaign ${s.code}, which was paused: a paused campaign creates no new leads.` };
    default:
      return { about: "start", text: `${when}${carried} was rejected (${s.reason}). No lead.` };
  }
}

/** Why one event's postbacks (http) did not end delivered; null when one did. */
function eventFinding(lead: TraceLead, e: TraceEvent, time: TimeText): Finding | null {
  const about = `lead ${lead.id}, event ${e.id} (${e.status})`;
  const rows = lead.postbacks.filter((p) => p.eventId === e.id && p.channel === "http");
  if (rows.some((p) => p.state === "delivered")) return null;
  if (e.reason === "outside_unsub_window") {
    const since = lead.joinedAt === null ? "" : `, ${spokenDuration(e.at - lead.joinedAt)} after the latest join`;
    return { about, text: `the ${e.status === "trash" ? "ban" : e.status === "cancel" ? "leave" : e.status} at ${time(e.at)} came outside the campaign's unsubscribe window (${spokenDuration(lead.unsubWindowMs)})${since}: the status changed, no postback was sent.` };
  }
  if (rows.length === 0) {
    return { about, text: `no postback template for ${e.status} in campaign ${lead.campaign} (neither its own nor a global one) when the event happened: nothing to send.` };
  }
  const texts = rows.map((p) => postbackText(p, lead, time));
  return { about, text: texts.join(" ") };
}

/** A reason quoted at the end of a sentence: its own full stop, if it has one, ends it. */
const ending = (reason: string) => (/[.!?]$/.test(reason) ? reason : `${reason}.`);

function postbackText(p: TracePostback, lead: TraceLead, time: TimeText): string {
  const id = `postback ${p.id}`;
  switch (p.state) {
    case "skipped":
      if (p.reason === "no_click") return `${id} was not sent: the lead has no click id, and a URL with {click} is never sent without one (no_click).`;
      if (p.reason === "campaign_paused") return `${id} was not sent: campaign ${lead.campaign} was paused (campaign_paused); it can be re-sent.`;
      return `${id} was skipped (${p.reason ?? "no reason"}).`;
    case "rejected":
      return `${id} was refused and is not retried: ${ending(p.reason ?? "no reason given")}`;
    case "failed":
      return `${id} failed: ${ending(p.reason ?? `every one of its ${p.attempts} attempts failed`)}`;
    case "pending": {
      if (p.hostOpenUntil !== null) return `${id} is queued: its host failed again and again and is paused until ${time(p.hostOpenUntil)}, then tried again.`;
      const next = p.nextAttemptAt === null ? "" : `; next try at ${time(p.nextAttemptAt)}`;
      return p.attempts > 0 && p.reason ? `${id} is not delivered yet: attempt ${p.attempts} failed (${p.reason})${next}.` : `${id} is queued${next}.`;
    }
    default:
      return `${id} was delivered.`;
  }
}

/** What the journal says of a subscriber that no lead shows. */
function journalFinding(j: TraceJournal, time: TimeText): Finding | null {
  const campaign = j.campaign ? ` of campaign ${j.campaign}` : "";
  switch (j.kind) {
    case "organic_join":
      return { about: "subscriber", text: `joined the chat${campaign} at ${time(j.at)} without a Start in the bot (an organic join): no lead, no postback. A Start within 120 s after it would have made it the lead's approve.` };
    case "event_ignored":
      return {
        about: "subscriber",
        text: j.reason === "no_lead"
          ? `an event ${j.status ?? ""} at ${time(j.at)}${campaign} found no lead (a lead starts with a Start): ignored.`
          : `an event ${j.status ?? ""} at ${time(j.at)}${campaign} was ignored (${j.reason ?? "not allowed"}): no postback.`,
      };
    case "bot_blocked":
      return { about: "subscriber", text: `blocked the bot${campaign} (seen at ${time(j.at)}): the welcome was not delivered.` };
    case "untracked_chat":
      return { about: "subscriber", text: `acted at ${time(j.at)} in a chat no campaign tracks: nothing recorded.` };
    default:
      return null;
  }
}

/**
 * The findings, in the order they happened to the subscriber: the rejected Starts, then each
 * lead's events that sent nothing, then what only the journal knows. When nothing at all was
 * found, one finding says what that means (no Start carried it; a payload too long is dropped).
 */
export function explainTrace(f: TraceFacts, time: TimeText = isoTime): Finding[] {
  const out: Finding[] = f.starts.map((s) => startFinding(s, time));
  for (const lead of f.leads) {
    if (lead.click === "") out.push({ about: `lead ${lead.id}`, text: `lead ${lead.id} (campaign ${lead.campaign}) has no click id: its Start carried none, so a tracker cannot attribute it.` });
    for (const e of lead.events) {
      const found = eventFinding(lead, e, time);
      if (found) out.push(found);
    }
  }
  for (const j of f.journal) {
    const found = journalFinding(j, time);
    if (found) out.push(found);
  }
  if (f.leads.length === 0 && f.starts.length === 0 && out.length === 0) out.push(nothingFound(f));
  return out;
}

function nothingFound(f: TraceFacts): Finding {
  if (f.click === null) return { about: "subscriber", text: `nothing is recorded for subscriber ${f.subscriber}: no Start, no lead, no join in a tracked chat (or it is older than the retention).` };
  const tooLong = f.campaignCodes.filter((code) => code.length + 1 + f.click!.length > MAX_START_PAYLOAD);
  const hint = tooLong.length
    ? ` With ${tooLong.length === f.campaignCodes.length ? "any campaign" : `campaign ${tooLong.join(", ")}`} its payload (code, "-", click) would be over ${MAX_START_PAYLOAD} characters (${tooLong[0]!.length + 1 + f.click.length} with ${tooLong[0]}): Telegram drops such a payload and the bot receives a bare /start, which cannot be matched to the click.`
    : ` If the link's payload was over ${MAX_START_PAYLOAD} characters, Telegram dropped it and the Start came as a bare /start, which cannot be matched to a click.`;
  return { about: "click", text: `no Start carried click "${f.click}" and no lead has it: the subscriber did not press Start on a deep link with it.${hint}` };
}
