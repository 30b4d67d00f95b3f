import { describe, expect, test } from "bun:test";
import { eventJson } from "../../src/leads/model.ts";
import { rebuiltAnswer, storedAnswer, storedAnswerCost, type EventAnswer } from "../../src/leads/idempotent-answer.ts";
import type { LeadEventRow } from "../../src/storage/rows.ts";

const event = (id: number, status: LeadEventRow["status"]): LeadEventRow => ({
  id, leadId: 7, campaignId: 1, status, prevStatus: null, source: "api", reason: null, payout: null, currency: null, inviteLink: null, occurredAt: 1_000 * id, createdAt: 1_000 * id,
});
const lead = (click: string) => ({
  id: 7, campaign: "c1", subscriber: 5, click, username: "bob", chat: null, status: "approve", joined_at: null, created_at: "2026-01-01T12:00:00.000Z", updated_at: "2026-01-01T12:00:01.000Z",
});
const answer = (click: string, events: LeadEventRow[], extra: Record<string, unknown> = {}): EventAnswer =>
  ({ applied: events.length > 0, reason: null, ...extra, lead: lead(click), events: events.map(eventJson), postbacks: [{ id: 3, state: "pending", url: "https://t/x?c=1", reason: null, template: "postbacks.wait" }] });

describe("an answer stored and rebuilt", () => {
  const wait = event(11, "wait");
  const approve = event(12, "approve");
  test.each([
    ["a lead with a click, two events (a Start and its early join)", answer("clk-1", [wait, approve]), "clk-1", [wait, approve, event(13, "cancel")]],
    ["a lead without a click keeps its empty click (a later Start may bring one)", answer("", [wait]), "now-set", [wait]],
    ["an event that applied nothing: no events, a message", answer("clk-1", [], { reason: "duplicate", message: "already in that status" }), "clk-1", [wait]],
    ["no lead at all (an organic join)", { applied: false, reason: "no_lead", lead: null, events: [], postbacks: [] }, null, []],
  ] as const)("%s: the same text again", (_name, a, clickNow, eventsNow) => {
    const json = JSON.stringify(a);
    const stored = storedAnswer(a as EventAnswer, json);
    expect(rebuiltAnswer(stored, clickNow, eventsNow)).toBe(json);
  });

  test("what is stored: the lead's click (when it has one) and the events' text are left out", () => {
    const a = answer("c".repeat(4096), [wait]);
    const stored = storedAnswer(a, JSON.stringify(a));
    expect(JSON.parse(stored.response)).toEqual({ ...a, lead: { ...a.lead, click: null }, events: [11] });
    expect(stored.response.length).toBeLessThan(JSON.stringify(a).length - 4096);
    expect(stored.answerHash).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each([
    ["the lead is gone", null, [wait]],
    ["an event is gone", "clk-1", []],
    ["the lead's click is not the one answered (the hash tells)", "clk-2", [wait]],
    ["an event's row differs from the one answered", "clk-1", [{ ...wait, reason: "click_added" }]],
  ] as const)("not rebuilt when %s", (_name, clickNow, eventsNow) => {
    const a = answer("clk-1", [wait]);
    expect(rebuiltAnswer(storedAnswer(a, JSON.stringify(a)), clickNow, eventsNow)).toBeNull();
  });
});

describe("storedAnswerCost", () => {
  const row = { key: "k", requestHash: "h".repeat(64), response: "{}", answerHash: "a".repeat(64), client: "c".repeat(16) };
  test.each([
    ["texts as stored, key and client twice (each in an index), 48 per row", row, 2 + 64 + 2 + 64 + 32 + 48],
    ["a key counts in UTF-8 bytes", { ...row, key: "ключ" }, 16 + 64 + 2 + 64 + 32 + 48],
    ["an answer stored whole has no hash", { ...row, answerHash: null }, 2 + 64 + 2 + 32 + 48],
  ] as const)("%s", (_name, r, bytes) => expect(storedAnswerCost(r)).toBe(bytes));
});
