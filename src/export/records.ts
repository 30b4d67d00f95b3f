// What one exported lead or postback says, as a CSV record and as a JSON Lines object (pure).
import { STATUSES } from "../domain/status.ts";
import { iso } from "../lib/json.ts";
import type { ClickRow, LeadEventRow, LeadRow, PostbackRow } from "../storage/rows.ts";
import type { Cell } from "./csv.ts";

type CodeOf = (campaignId: number) => string;

export const LEAD_COLUMNS = [
  "id", "campaign", "subscriber", "username", "click", "status", "chat", "created_at", "updated_at", "joined_at",
  ...STATUSES.map((s) => `${s}_at`), "events",
  // The click link's click the lead came from (issue 21): its parameters as a query string, and what else it recorded.
  "click_params", "click_fbc", "click_fbp", "click_ip", "click_user_agent", "click_referrer", "click_landing_url", "click_at",
] as const;

/** A lead with its events: the first time it reached each status, every event in order, and its click link's click. */
export function leadRecord(l: LeadRow, events: readonly LeadEventRow[], codeOf: CodeOf, click: ClickRow | null) {
  const first = new Map<string, number>();
  for (const e of events) if (!first.has(e.status)) first.set(e.status, e.occurredAt);
  return {
    id: l.id, campaign: codeOf(l.campaignId), subscriber: l.subscriber, username: l.username, click: l.click, status: l.status,
    chat: l.chatId, created_at: iso(l.createdAt), updated_at: iso(l.updatedAt), joined_at: iso(l.joinedAt),
    first_at: Object.fromEntries(STATUSES.map((s) => [s, iso(first.get(s))])) as Record<(typeof STATUSES)[number], string | null>,
    events: events.map((e) => ({ status: e.status, at: iso(e.occurredAt), source: e.source, reason: e.reason, invite_link: e.inviteLink })),
    click_record: click && {
      params: click.params, fbc: click.fbc, fbp: click.fbp, ip: click.ip, user_agent: click.userAgent, referrer: click.referrer,
      landing_url: click.landingUrl, at: iso(click.createdAt),
    },
  };
}

export type LeadRecord = ReturnType<typeof leadRecord>;

export const leadCells = (r: LeadRecord): Cell[] => [
  r.id, r.campaign, r.subscriber, r.username, r.click, r.status, r.chat, r.created_at, r.updated_at, r.joined_at,
  ...STATUSES.map((s) => r.first_at[s]),
  // Every event as `status@time`, oldest first, with its reason when it has one (`cancel@…(outside_unsub_window)`).
  r.events.map((e) => `${e.status}@${e.at}${e.reason ? `(${e.reason})` : ""}`).join(" "),
  r.click_record && new URLSearchParams(r.click_record.params).toString(), r.click_record?.fbc, r.click_record?.fbp, r.click_record?.ip,
  r.click_record?.user_agent, r.click_record?.referrer, r.click_record?.landing_url, r.click_record?.at,
];

/** JSON Lines: the record as it is, its first times under `<status>_at` like the CSV's columns. */
export function leadJsonLine(r: LeadRecord): string {
  const { first_at, events, ...rest } = r;
  return `${JSON.stringify({ ...rest, ...Object.fromEntries(STATUSES.map((s) => [`${s}_at`, first_at[s]])), events })}\n`;
}

export const POSTBACK_COLUMNS = [
  "id", "created_at", "campaign", "lead", "click", "status", "template", "method", "url", "host", "state", "reason",
  "attempts", "earlier_attempts", "last_http_status", "next_attempt_at", "finished_at",
] as const;

export function postbackRecord(p: PostbackRow, codeOf: CodeOf, click: string | null) {
  return {
    id: p.id, created_at: iso(p.createdAt), campaign: codeOf(p.campaignId), lead: p.leadId, click, status: p.status,
    template: p.template, method: p.method, url: p.url, host: p.host, state: p.state, reason: p.reason, attempts: p.attempts,
    earlier_attempts: p.earlierAttempts, last_http_status: p.lastHttpStatus, next_attempt_at: p.state === "pending" ? iso(p.nextAttemptAt) : null,
    finished_at: iso(p.finishedAt), body: p.body,
  };
}

export type PostbackRecord = ReturnType<typeof postbackRecord>;

export const postbackCells = (r: PostbackRecord): Cell[] => POSTBACK_COLUMNS.map((c) => r[c]);

export const postbackJsonLine = (r: PostbackRecord) => `${JSON.stringify(r)}\n`;
