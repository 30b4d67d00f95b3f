// What an Idempotency-Key keeps of an answer of POST /api/events, and what it costs its client
// (issue 24: a client grew the database by 4.5 KB per key, most of it a 4 KiB click repeated in
// every answer). Pure: the service stores and replays through the storage port.
import type { LeadEventRow } from "../storage/rows.ts";
import { eventJson } from "./model.ts";

/** What this module reads of an answer (leads/routes.ts renders it): the lead, its events, the rest kept as it is. */
export interface EventAnswer {
  lead: { id: number; click: string } | null;
  events: { id: number }[];
  [field: string]: unknown;
}

export interface StoredAnswer {
  /** The answer with the lead's click left out (null) when it has one, and its events by id. */
  response: string;
  /** SHA-256 (hex) of the answer's JSON: a replay is checked to be byte for byte the answer given. */
  answerHash: string;
}

const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");

/**
 * What is stored to replay `json` (the answer as sent, `answer` parsed): the answer without what
 * the database keeps unchanged — the lead's click once it has one (the first non-empty click
 * wins: it never changes after, SPEC §2) and the events (append-only, never pruned), by id. What
 * can change later (the lead's status, username, times; the postbacks' states then) is kept as it was.
 */
export function storedAnswer(answer: EventAnswer, json: string): StoredAnswer {
  // Spread, then the same key overwritten: the lead's fields keep their order, so the rebuilt JSON is the same text.
  const lead = answer.lead && answer.lead.click !== "" ? { ...answer.lead, click: null } : answer.lead;
  return { response: JSON.stringify({ ...answer, lead, events: answer.events.map((e) => e.id) }), answerHash: sha256(json) };
}

/**
 * The answer's JSON again from what was stored, the lead's click and the lead's events as the
 * database has them now; null when it cannot be rebuilt as it was (an event gone, or the text
 * differs from the one sent: the hash tells).
 */
export function rebuiltAnswer(stored: StoredAnswer, leadClick: string | null, events: readonly LeadEventRow[]): string | null {
  const answer = JSON.parse(stored.response) as { lead: { click: string | null } | null; events: unknown[] };
  if (answer.lead && answer.lead.click === null) {
    if (leadClick === null) return null;
    answer.lead.click = leadClick;
  }
  const byId = new Map(events.map((e) => [e.id, e]));
  const rows = answer.events.map((id) => byId.get(id as number));
  if (rows.some((e) => e === undefined)) return null;
  answer.events = rows.map((e) => eventJson(e!));
  const json = JSON.stringify(answer);
  return sha256(json) === stored.answerHash ? json : null;
}

/** SQLite's cost of one row beyond its text: the record's header and integers, and its entries' overhead in two indexes (bytes). */
const ROW_OVERHEAD_BYTES = 48;

const utf8 = (text: string | null) => (text === null ? 0 : Buffer.byteLength(text, "utf8"));

/**
 * The bytes one stored answer costs its client's budget: its texts as stored, the key and the
 * client twice (each is in an index too), and a fixed overhead per row.
 */
export const storedAnswerCost = (row: { key: string; requestHash: string; response: string; answerHash: string | null; client: string }) =>
  2 * utf8(row.key) + utf8(row.requestHash) + utf8(row.response) + utf8(row.answerHash) + 2 * utf8(row.client) + ROW_OVERHEAD_BYTES;
