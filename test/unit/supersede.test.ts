import { describe, expect, test } from "bun:test";
import { isResendable, keepsLeadStatus, planResend, type ResendPlan, type ResendRow } from "../../src/domain/supersede.ts";

const NOW = 1_000_000;
const HOST = "trk.example.com";

/** A row of lead 1: `id` is also its event's id unless given. */
const row = (id: number, status: ResendRow["status"], state: ResendRow["state"], extra: Partial<ResendRow> = {}): ResendRow => ({
  id, eventId: id, channel: "http", host: HOST, status, state, reason: null, verdict: "keitaro", leaseExpiresAt: null, ...extra,
});

/** A plan as ids: send [ids] | superseded by id, and_later [ids] | later_in_flight by id. */
const ids = (p: ResendPlan<ResendRow>) =>
  p.kind === "send" ? { send: p.rows.map((r) => r.id) }
  : p.kind === "superseded" ? { superseded_by: p.by.id, and_later: p.later.map((r) => r.id) }
  : { in_flight: p.by.id };

const approve = row(2, "approve", "failed");

describe("planResend", () => {
  test.each([
    ["the lead's only row goes alone", [approve], false, { send: [2] }],
    ["a later row delivered to the same host supersedes it", [row(1, "wait", "delivered"), approve, row(3, "cancel", "delivered")], false, { superseded_by: 3, and_later: [3] }],
    ["with and_later: the row, then the later one", [approve, row(3, "cancel", "delivered")], true, { send: [2, 3] }],
    ["an earlier delivered row does not supersede", [row(1, "wait", "delivered"), approve], false, { send: [2] }],
    ["a later row to another host does not supersede", [approve, row(3, "cancel", "delivered", { host: "other.example.com" })], false, { send: [2] }],
    ["a later row that failed does not supersede (the tracker never had it)", [approve, row(3, "cancel", "failed")], false, { send: [2] }],
    ["… but and_later sends it after the row", [approve, row(3, "cancel", "failed")], true, { send: [2, 3] }],
    ["a later rejected row goes with and_later too", [approve, row(3, "cancel", "rejected")], true, { send: [2, 3] }],
    ["a later skipped row (withheld: campaign paused) is not sent by and_later", [approve, row(3, "cancel", "skipped", { reason: "campaign_paused" })], true, { send: [2] }],
    ["a later queued row is not superseding: it goes after the row anyway (per-lead order)", [approve, row(3, "cancel", "pending")], false, { send: [2] }],
    ["… and and_later does not queue it twice", [approve, row(3, "cancel", "pending")], true, { send: [2] }],
    ["a later row being sent (live lease) holds it back", [approve, row(3, "cancel", "pending", { leaseExpiresAt: NOW + 1 })], false, { in_flight: 3 }],
    ["… even with and_later", [approve, row(3, "cancel", "pending", { leaseExpiresAt: NOW + 1 })], true, { in_flight: 3 }],
    ["a lease that ran out is not in flight (its process died)", [approve, row(3, "cancel", "pending", { leaseExpiresAt: NOW })], false, { send: [2] }],
    ["the first later delivered row is named; and_later lists every later one in event order", [row(5, "approve", "delivered"), row(4, "cancel", "failed"), approve, row(3, "hold", "delivered")], false, { superseded_by: 3, and_later: [3, 4, 5] }],
    ["another row of the same event is not later", [approve, row(3, "approve", "delivered", { eventId: 2 })], false, { send: [2] }],
    ["an ad platform's event is never superseded (a platform adds events up)", [row(2, "approve", "failed", { verdict: "meta-capi@fb" }), row(3, "cancel", "delivered", { verdict: "meta-capi@fb" })], false, { send: [2] }],
    ["… and a tracker row is not superseded by an ad event on the same host", [approve, row(3, "cancel", "delivered", { verdict: "meta-capi@fb" })], false, { send: [2] }],
    ["a Bot API call is never superseded", [row(2, "approve", "failed", { channel: "telegram" }), row(3, "cancel", "delivered", { channel: "telegram" })], false, { send: [2] }],
    ["a plain template (no verdict) keeps a status", [row(2, "approve", "failed", { verdict: null }), row(3, "cancel", "delivered", { verdict: null })], false, { superseded_by: 3, and_later: [3] }],
  ] as const)("%s", (_name, rows, andLater, expected) => {
    const target = rows.find((r) => r.id === 2)!;
    expect(ids(planResend(target, rows, andLater, NOW))).toEqual(expected as never);
  });
});

describe("isResendable, keepsLeadStatus", () => {
  test.each([
    [{ state: "pending", reason: null }, false],
    [{ state: "delivered", reason: null }, true],
    [{ state: "failed", reason: "gave up" }, true],
    [{ state: "skipped", reason: "campaign_paused" }, true],
    [{ state: "skipped", reason: "no_click" }, false],
  ] as const)("%o resendable: %p", (r, expected) => expect(isResendable(r)).toBe(expected));

  test.each([
    [{ channel: "http", verdict: null }, true],
    [{ channel: "http", verdict: "keitaro" }, true],
    [{ channel: "http", verdict: "ga4@analytics" }, false],
    [{ channel: "telegram", verdict: null }, false],
  ] as const)("%o keeps a lead status: %p", (r, expected) => expect(keepsLeadStatus(r)).toBe(expected));
});
