import { t } from "elysia";
import { NextBefore, Nullable } from "../http/openapi.ts";
import { iso } from "../lib/json.ts";
import type { ClickRow, LeadEventRow, LeadProfileRow, LeadRow } from "../storage/rows.ts";
import { ProfileJson, profileExample } from "./profile-model.ts";
import { PostbackJson, postbackExample, type CodeOf } from "../postbacks/model.ts";
import { Int, StatusSchema, withMessage } from "../http/schema.ts";

export const EventBody = t.Object({
  campaign: withMessage(t.String({ minLength: 1, maxLength: 63, description: "campaign code" }), "must be a campaign code (1-63 characters)"),
  // Checked in the handler: Elysia would coerce strings like " " or "0x10" into an integer branch.
  subscriber: t.Any({ description: "subscriber's Telegram user id: an integer, or a string of decimal digits", examples: [123456789] }),
  status: StatusSchema,
  click: t.Optional(t.String({ maxLength: 4096, description: "tracker click id" })),
  username: t.Optional(t.String({ maxLength: 64, description: "@username without @" })),
  chat: t.Optional(Int({ description: "chat id; defaults to the campaign's" })),
  time: t.Optional(withMessage(
    t.Number({ minimum: 0, maximum: 253402300799, description: "UNIX time in seconds; defaults to now" }),
    "must be UNIX seconds between 0 and 253402300799 (year 9999)",
  )),
});

export const leadJson = (l: LeadRow, codeOf: CodeOf, profile: LeadProfileRow | null) => ({
  id: l.id,
  campaign: codeOf(l.campaignId),
  subscriber: l.subscriber,
  click: l.click,
  username: l.username,
  chat: l.chatId,
  status: l.status,
  joined_at: iso(l.joinedAt),
  created_at: iso(l.createdAt),
  updated_at: iso(l.updatedAt),
  quality: profile?.quality ?? null,
  welcome_variant: profile?.welcomeVariant ?? null,
});

export const eventJson = (e: LeadEventRow) => ({
  id: e.id,
  lead: e.leadId,
  status: e.status,
  prev_status: e.prevStatus,
  source: e.source,
  reason: e.reason,
  invite_link: e.inviteLink,
  occurred_at: iso(e.occurredAt),
  created_at: iso(e.createdAt),
});

// Answers, as documented in the OpenAPI document (test/integration/openapi.test.ts checks real answers against them).
const Time = t.String({ format: "date-time" });

export const LeadJson = t.Object({
  id: Int(), campaign: t.String(), subscriber: Int(), click: t.String(), username: t.String(), chat: Nullable(Int()),
  status: t.String({ description: "wait | hold | approve | cancel | trash" }), joined_at: Nullable(Time), created_at: Time, updated_at: Time,
  quality: Nullable(Int({ description: "quality score 0-100 (GET /api/leads/{id} gives its reasons); null for a lead with no events since the score was added" })),
  welcome_variant: Nullable(t.String({ description: "the welcome variant sent to the lead; null: one plain welcome or none" })),
});

export const EventJson = t.Object({
  id: Int(), lead: Int(), status: t.String(), prev_status: Nullable(t.String()), source: t.String({ description: "api | telegram | inbound" }),
  reason: Nullable(t.String({ description: "why postbacks were withheld or skipped: campaign_paused, outside_unsub_window, click_added" })),
  invite_link: Nullable(t.String({ description: "the invite link Telegram named with this join or join request, when it gave one" })),
  occurred_at: Time, created_at: Time,
});

const leadExample = {
  id: 42, campaign: "spring", subscriber: 123456789, click: "abc123", username: "alice", chat: -1001234567890, status: "approve",
  joined_at: "2024-05-01T10:01:00.000Z", created_at: "2024-05-01T10:00:00.000Z", updated_at: "2024-05-01T10:01:00.000Z",
  quality: 80, welcome_variant: "ru",
};
const eventExample = { id: 77, lead: 42, status: "approve", prev_status: "wait", source: "api", reason: null, invite_link: null, occurred_at: "2024-05-01T10:01:00.000Z", created_at: "2024-05-01T10:01:00.000Z" };
export const EventAnswer = t.Object({
  applied: t.Boolean({ description: "false when nothing changed (duplicate, not allowed, no lead)" }),
  reason: Nullable(t.String({ description: "why nothing changed (duplicate, transition_not_allowed, no_lead, campaign_paused) or why postbacks were withheld" })),
  message: t.Optional(t.String({ description: "when nothing changed: what happened to the event, in words" })),
  lead: Nullable(LeadJson),
  events: t.Array(EventJson),
  postbacks: t.Array(t.Object({ id: Int(), state: t.String(), url: t.String(), reason: Nullable(t.String()), template: t.String() })),
});
export const eventAnswerExample = {
  applied: true, reason: null, lead: leadExample, events: [eventExample],
  postbacks: [{ id: 101, state: "pending", url: postbackExample.url, reason: null, template: "postbacks.approve" }],
};

/**
 * What an event that changed nothing became, in words, for the answer of POST /api/events. An
 * approve without a lead is not lost: it is journaled as an organic join, and the subscriber's
 * Start within `graceMs` turns it into the new lead's approve (SPEC §2).
 */
export function ignoredMessage(reason: string | null, status: string, graceMs: number): string | undefined {
  switch (reason) {
    case "no_lead":
      return status === "approve"
        ? `no lead for this subscriber in this campaign: the join was kept as an organic join (GET /api/journal); if the subscriber's Start arrives within ${graceMs / 1000} s, it becomes the new lead's approve`
        : `no lead for this subscriber in this campaign: a lead starts with wait (its Start); the ${status} was journaled as event_ignored`;
    case "duplicate":
      return `the lead is already ${status}: nothing recorded, no postback`;
    case "transition_not_allowed":
      return `the lead cannot go to ${status} from its status (README: Lead lifecycle): journaled as event_ignored, no postback`;
    case "campaign_paused":
      return "the campaign is paused: it creates no new leads";
    default:
      return undefined;
  }
}

export const LeadList = t.Object({ items: t.Array(LeadJson), next_before: NextBefore });
export const leadListExample = { items: [leadExample], next_before: null };
/** The click link's click of a lead, as its macros read it. */
export const clickJson = (c: ClickRow | null) => c && ({
  token: c.token, params: c.params, fbc: c.fbc, fbp: c.fbp, ip: c.ip, user_agent: c.userAgent, referrer: c.referrer,
  landing_url: c.landingUrl, cut: c.cut, created_at: iso(c.createdAt),
});

export const ClickJson = t.Object({
  token: t.String({ description: "the 12 characters after CODE- in the Start payload" }),
  params: t.Record(t.String(), t.String(), { description: "the click's query parameters (the first of each name, cut to 512 bytes); each is {param:NAME}" }),
  fbc: Nullable(t.String({ description: "the _fbc cookie, else fb.1.<ms>.<fbclid>" })), fbp: Nullable(t.String()),
  ip: Nullable(t.String()), user_agent: Nullable(t.String()), referrer: Nullable(t.String()), landing_url: Nullable(t.String()),
  cut: Int({ description: "parameters dropped or shortened by the bounds" }), created_at: Time,
});

export const LeadDetail = t.Object({
  lead: LeadJson, profile: Nullable(ProfileJson), events: t.Array(EventJson), postbacks: t.Array(PostbackJson),
  click_record: Nullable(t.Object(ClickJson.properties, { description: "the click link's click the lead's Start carried the token of; null for a lead without one" })),
});
export const leadDetailExample = {
  lead: leadExample, profile: profileExample, events: [eventExample], postbacks: [postbackExample],
  click_record: {
    token: "Xk3vQ9aLm2Tb", params: { utm_source: "fb", fbclid: "IwAR2xYz" }, fbc: "fb.1.1714557600000.IwAR2xYz", fbp: null, ip: "203.0.113.7",
    user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)", referrer: "https://m.facebook.com/", landing_url: "https://tg.example.com/c/spring?utm_source=fb&fbclid=IwAR2xYz",
    cut: 0, created_at: "2024-05-01T09:59:50.000Z",
  },
};
