import { describe, expect, test } from "bun:test";
import { answerJoinRequest, leaveBeforeStay, reportApprove, type ApproveRules, type JoinRequestRules } from "../../src/domain/approval-rules.ts";

const T = Date.UTC(2025, 0, 1);
const H = 3_600_000;

describe("reportApprove", () => {
  const plain: ApproveRules = { approveAfterMs: 0, minQuality: null, belowMinQuality: "trash" };
  test.each([
    ["no rules: an approve at once", 10, plain, { status: "approve", sendAt: T, reason: null }],
    ["a stay of 24 h: the approve leaves 24 h later", 80, { ...plain, approveAfterMs: 24 * H }, { status: "approve", sendAt: T + 24 * H, reason: null }],
    ["at the minimum: an approve", 40, { ...plain, minQuality: 40 }, { status: "approve", sendAt: T, reason: null }],
    ["below it: trash, at once even with a stay", 39, { ...plain, minQuality: 40, approveAfterMs: 24 * H }, { status: "trash", sendAt: T, reason: "below_min_quality" }],
    ["below it, by option: nothing", 39, { ...plain, minQuality: 40, belowMinQuality: "skip" }, { status: null, reason: "below_min_quality" }],
  ] as const)("%s", (_n, quality, rules, expected) => expect(reportApprove(quality, T, rules)).toEqual(expected));
});

describe("leaveBeforeStay", () => {
  test.each([
    [false, "skip", { kind: "report" }],
    [false, "cancel", { kind: "report" }],
    [true, "skip", { kind: "cancel_approve", leave: "skip", reason: "left_before_approve_after" }],
    [true, "cancel", { kind: "cancel_approve", leave: "send", reason: "left_before_approve_after" }],
  ] as const)("waiting %p, option %s", (waiting, option, expected) => expect(leaveBeforeStay(waiting, option)).toEqual(expected));
});

describe("answerJoinRequest", () => {
  const r = (o: Partial<JoinRequestRules>): JoinRequestRules => ({ approveAfterMs: null, declineBelow: null, manual: false, ...o });
  test.each([
    ["no rules: left to the chat's admins", null, 50, null],
    ["approve after 10 minutes", r({ approveAfterMs: 600_000 }), 50, { kind: "approve", at: T + 600_000 }],
    ["auto_approve is approve_after 0", r({ approveAfterMs: 0 }), 50, { kind: "approve", at: T }],
    ["decline below 30", r({ declineBelow: 30 }), 29, { kind: "decline", reason: "below_decline_quality" }],
    ["at 30 with decline_below alone: left to the admins", r({ declineBelow: 30 }), 30, null],
    ["decline below 30, else approve after 10 m", r({ declineBelow: 30, approveAfterMs: 600_000 }), 30, { kind: "approve", at: T + 600_000 }],
    ["manual: held for a person", r({ manual: true }), 90, { kind: "hold" }],
    ["manual, but below the floor: declined", r({ manual: true, declineBelow: 30 }), 10, { kind: "decline", reason: "below_decline_quality" }],
  ] as const)("%s", (_n, rules, quality, expected) => expect(answerJoinRequest(rules, quality, T)).toEqual(expected as never));
});
