import { t } from "elysia";
import { Nullable } from "../http/openapi.ts";
import { Int } from "../http/schema.ts";
import { ClickJson, EventJson, LeadJson } from "../leads/model.ts";
import { AttemptJson, PostbackJson, postbackDetailExample, postbackExample } from "../postbacks/model.ts";

const Time = t.String({ format: "date-time" });

export const TraceAnswer = t.Object({
  click: Nullable(t.String()),
  subscriber: Nullable(Int()),
  starts: t.Array(t.Object({
    at: Time,
    subscriber: Nullable(Int()),
    bot: Nullable(t.String()),
    payload: Nullable(t.String({ description: "the start payload as it arrived (a lead's: its code and click); null for a bare /start" })),
    payload_length: Nullable(Int({ description: "its length; Telegram carries at most 64 characters, a longer one arrives as a bare /start" })),
    outcome: t.String({ description: "lead: it made (or found) the lead; rejected: journaled as start_rejected" }),
    reason: Nullable(t.String({ description: "why it was rejected: no_payload, malformed_payload, unknown_campaign, campaign_paused" })),
    campaign: Nullable(t.String({ description: "the campaign it matched (or the code it named)" })),
    lead: Nullable(Int()),
  })),
  leads: t.Array(t.Object({
    lead: LeadJson,
    campaign: t.Object({ code: t.String(), paused: t.Boolean(), in_config: t.Boolean() }),
    click_record: Nullable(t.Object(ClickJson.properties, { description: "the click link's click the lead came from (its parameters, fbc, fbp, ip, user agent, referrer, landing URL); null without one" })),
    events: t.Array(EventJson, { description: "every status change; joins and leaves carry the invite link when Telegram gave one" }),
    postbacks: t.Array(t.Object({ postback: PostbackJson, attempts: t.Array(AttemptJson) })),
  })),
  journal: t.Array(t.Object({ id: Int(), kind: t.String(), campaign: Nullable(t.String()), detail: t.Unknown(), created_at: Time }), {
    description: "what only the journal knows of the subscriber: organic joins, ignored events, a blocked bot",
  }),
  sent: t.Boolean({ description: "whether any tracker postback of it was delivered" }),
  explanation: t.Array(t.Object({ about: t.String(), text: t.String() }), {
    description: "in words, every Start that made no lead and every event whose postbacks were not delivered, and why",
  }),
});

export const traceExample = {
  click: "abc123", subscriber: null,
  starts: [{ at: "2024-05-01T10:00:00.000Z", subscriber: 123456789, bot: "main", payload: "spring-abc123", payload_length: 13, outcome: "lead", reason: null, campaign: "spring", lead: 42 }],
  leads: [{
    lead: { id: 42, campaign: "spring", subscriber: 123456789, click: "abc123", username: "alice", chat: -1001234567890, status: "cancel", joined_at: "2024-05-01T10:01:00.000Z", created_at: "2024-05-01T10:00:00.000Z", updated_at: "2024-05-03T10:00:00.000Z", quality: 80, welcome_variant: null },
    campaign: { code: "spring", paused: false, in_config: true },
    click_record: null,
    events: [
      { id: 77, lead: 42, status: "wait", prev_status: null, source: "telegram", reason: null, invite_link: null, occurred_at: "2024-05-01T10:00:00.000Z", created_at: "2024-05-01T10:00:00.000Z" },
      { id: 90, lead: 42, status: "cancel", prev_status: "approve", source: "telegram", reason: "outside_unsub_window", invite_link: null, occurred_at: "2024-05-03T10:00:00.000Z", created_at: "2024-05-03T10:00:00.000Z" },
    ],
    postbacks: [{ postback: { ...postbackExample, event: 77, status: "wait" }, attempts: postbackDetailExample.attempts }],
  }],
  journal: [],
  sent: true,
  explanation: [{ about: "lead 42, event 90 (cancel)", text: "the leave at 2024-05-03T10:00:00.000Z came outside the campaign's unsubscribe window (1 d), 2 d after the latest join: the status changed, no postback was sent." }],
};
