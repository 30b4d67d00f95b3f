// The findings of a trace (domain/trace.ts): one "why not" per case, in words.
import { describe, expect, test } from "bun:test";
import { explainTrace, type TraceFacts, type TraceLead, type TracePostback } from "../../src/domain/trace.ts";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const base: TraceFacts = { click: null, subscriber: 7, starts: [], leads: [], journal: [], campaignCodes: ["spring"] };
const lead = (o: Partial<TraceLead> = {}): TraceLead => ({
  id: 42, campaign: "spring", unsubWindowMs: 0, joinedAt: null, click: "abc", events: [{ id: 1, status: "wait", at: T0, reason: null }], postbacks: [], ...o,
});
const pb = (o: Partial<TracePostback> = {}): TracePostback => ({
  id: 101, eventId: 1, channel: "http", state: "delivered", reason: null, attempts: 1, nextAttemptAt: null, hostOpenUntil: null, ...o,
});
const start = (reason: string, o: Record<string, unknown> = {}) => ({ at: T0, reason, payload: null, length: null, code: null, bot: "main", campaignBot: null, ...o });

describe("explainTrace", () => {
  test.each<[string, Partial<TraceFacts>, string[]]>([
    ["delivered: nothing to explain", { leads: [lead({ postbacks: [pb()] })] }, []],
    ["a bare /start: the payload may have been over 64 characters", { starts: [start("no_payload")] },
      ["the Start at 2026-01-01T12:00:00.000Z came as a bare /start, without a payload: the link had none, or its payload was longer than 64 characters — Telegram then drops it and the bot cannot tell the campaign or the click. No lead."]],
    ["a malformed payload, with its length", { starts: [start("malformed_payload", { payload: "spring-a+b", length: 10 })] },
      ["the Start at 2026-01-01T12:00:00.000Z (payload \"spring-a+b\", 10 characters) is not a deep-link payload: at most 64 characters of A-Z a-z 0-9 _ -. No lead."]],
    ["an unknown campaign code", { starts: [start("unknown_campaign", { payload: "sprng-abc", length: 9, code: "sprng" })] },
      ["the Start at 2026-01-01T12:00:00.000Z (payload \"sprng-abc\", 9 characters) names campaign code \"sprng\", which no configured campaign has. No lead."]],
    ["a campaign of another bot", { starts: [start("unknown_campaign", { payload: "spring-abc", length: 10, code: "spring", campaignBot: "other" })] },
      ["the Start at 2026-01-01T12:00:00.000Z (payload \"spring-abc\", 10 characters) names campaign spring, which belongs to bot other, not to main: the link points at the wrong bot. No lead."]],
    ["a paused campaign's Start", { starts: [start("campaign_paused", { payload: "spring-abc", length: 10, code: "spring" })] },
      ["the Start at 2026-01-01T12:00:00.000Z (payload \"spring-abc\", 10 characters) matched campaign spring, which was paused: a paused campaign creates no new leads."]],
    ["no click", { leads: [lead({ click: "", postbacks: [pb({ state: "skipped", reason: "no_click" })] })] }, [
      "lead 42 (campaign spring) has no click id: its Start carried none, so a tracker cannot attribute it.",
      "postback 101 was not sent: the lead has no click id, and a URL with {click} is never sent without one (no_click).",
    ]],
    ["campaign paused: the event recorded, its postback skipped", {
      leads: [lead({ events: [{ id: 1, status: "approve", at: T0, reason: "campaign_paused" }], postbacks: [pb({ state: "skipped", reason: "campaign_paused" })] })],
    }, ["postback 101 was not sent: campaign spring was paused (campaign_paused); it can be re-sent."]],
    ["outside the unsubscribe window", {
      leads: [lead({
        unsubWindowMs: 60 * MIN, joinedAt: T0, events: [{ id: 1, status: "wait", at: T0 - MIN, reason: null }, { id: 2, status: "cancel", at: T0 + 90 * MIN, reason: "outside_unsub_window" }],
        postbacks: [pb()],
      })],
    }, ["the leave at 2026-01-01T13:30:00.000Z came outside the campaign's unsubscribe window (1 h), 1 h 30 min after the latest join: the status changed, no postback was sent."]],
    ["no template for that status", { leads: [lead({ events: [{ id: 1, status: "wait", at: T0, reason: null }, { id: 2, status: "hold", at: T0, reason: null }], postbacks: [pb()] })] },
      ["no postback template for hold in campaign spring (neither its own nor a global one) when the event happened: nothing to send."]],
    ["rejected by the tracker", { leads: [lead({ postbacks: [pb({ state: "rejected", reason: "tracker refused: Incorrect postback code (e89)" })] })] },
      ["postback 101 was refused and is not retried: tracker refused: Incorrect postback code (e89)."]],
    ["failed: the ladder is done", { leads: [lead({ postbacks: [pb({ state: "failed", reason: "gave up after 9 attempts; last: http_503", attempts: 9 })] })] },
      ["postback 101 failed: gave up after 9 attempts; last: http_503."]],
    ["retrying, next try at", { leads: [lead({ postbacks: [pb({ state: "pending", reason: "timeout: no answer", attempts: 2, nextAttemptAt: T0 + MIN })] })] },
      ["postback 101 is not delivered yet: attempt 2 failed (timeout: no answer); next try at 2026-01-01T12:01:00.000Z."]],
    ["queued behind an open circuit", { leads: [lead({ postbacks: [pb({ state: "pending", attempts: 0, hostOpenUntil: T0 + 5 * MIN })] })] },
      ["postback 101 is queued: its host failed again and again and is paused until 2026-01-01T12:05:00.000Z, then tried again."]],
    ["a Telegram send is not a tracker postback", { leads: [lead({ postbacks: [pb({ channel: "telegram" })] })] },
      ["no postback template for wait in campaign spring (neither its own nor a global one) when the event happened: nothing to send."]],
    ["an organic join", { journal: [{ kind: "organic_join", at: T0, campaign: "spring", status: null, reason: null }] },
      ["joined the chat of campaign spring at 2026-01-01T12:00:00.000Z without a Start in the bot (an organic join): no lead, no postback. A Start within 120 s after it would have made it the lead's approve."]],
    ["an event without a lead", { journal: [{ kind: "event_ignored", at: T0, campaign: "spring", status: "approve", reason: "no_lead" }] },
      ["an event approve at 2026-01-01T12:00:00.000Z of campaign spring found no lead (a lead starts with a Start): ignored."]],
    ["a blocked bot", { leads: [lead({ postbacks: [pb()] })], journal: [{ kind: "bot_blocked", at: T0, campaign: "spring", status: null, reason: null }] },
      ["blocked the bot of campaign spring (seen at 2026-01-01T12:00:00.000Z): the welcome was not delivered."]],
    ["a subscriber nobody saw", {}, ["nothing is recorded for subscriber 7: no Start, no lead, no join in a tracked chat (or it is older than the retention)."]],
    ["a click nobody carried, short enough for a deep link", { subscriber: null, click: "abc" },
      ["no Start carried click \"abc\" and no lead has it: the subscriber did not press Start on a deep link with it. If the link's payload was over 64 characters, Telegram dropped it and the Start came as a bare /start, which cannot be matched to a click."]],
    ["a click too long for a deep link with the campaign's code", { subscriber: null, click: "c".repeat(60) },
      [`no Start carried click "${"c".repeat(60)}" and no lead has it: the subscriber did not press Start on a deep link with it. With any campaign its payload (code, "-", click) would be over 64 characters (67 with spring): Telegram drops such a payload and the bot receives a bare /start, which cannot be matched to the click.`]],
  ])("%s", (_name, facts, expected) => {
    expect(explainTrace({ ...base, ...facts }).map((f) => f.text)).toEqual(expected);
  });

  test("each finding says what it is about", () => {
    const found = explainTrace({ ...base, starts: [start("no_payload")], leads: [lead({ postbacks: [pb({ state: "rejected", reason: "http_404" })] })] });
    expect(found.map((f) => f.about)).toEqual(["start", "lead 42, event 1 (wait)"]);
  });
});
