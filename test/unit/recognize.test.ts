import { describe, expect, test } from "bun:test";
import { CUSTOM_LIST_PARAMS, recognizeStatus } from "../../src/inbound/recognize.ts";
import type { Status } from "../../src/domain/status.ts";

/** Incoming words as other systems send them → the tgcpa status (SPEC §5). */
const WORDS: [string, Status][] = [
  // wait
  ["new", "wait"], ["NEW", "wait"], ["Lead", "wait"], ["pending", "wait"], ["Waiting", "wait"], ["in-progress", "wait"], ["sign_up", "wait"], ["wait", "wait"],
  // hold
  ["hold", "hold"], ["on-hold", "hold"], ["On Hold", "hold"], ["HELD", "hold"], ["review", "hold"], ["Moderation", "hold"],
  // approve
  ["approve", "approve"], ["APPROVED", "approve"], ["Confirmed!", "approve"], ["sale", "approve"], ["Success", "approve"], ["paid", "approve"],
  ["accepted", "approve"], ["completed", "approve"], ["FTD", "approve"], ["a-p-p-r-o-v-e", "approve"], ["approve2", "approve"], ["  sale  ", "approve"],
  // cancel
  ["cancel", "cancel"], ["Cancelled", "cancel"], ["canceled", "cancel"], ["REJECTED", "cancel"], ["declined", "cancel"], ["refund", "cancel"],
  ["chargeback", "cancel"], ["unsubscribed", "cancel"],
  // trash
  ["trash", "trash"], ["FRAUD", "trash"], ["spam", "trash"], ["invalid", "trash"], ["Duplicate", "trash"], ["fake", "trash"], ["banned", "trash"], ["junk", "trash"],
];

const UNKNOWN = ["", "   ", "!!!", "123", "-_-", "maybe", "approvedd", "holdd", "rejection", "lead status", "одобрен", "ok"];

describe("recognizeStatus", () => {
  test("the table covers all five statuses with at least 30 words", () => {
    expect(WORDS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(WORDS.map(([, s]) => s))).toEqual(new Set(["wait", "hold", "approve", "cancel", "trash"]));
  });

  test.each(WORDS)("%p → %s (case-insensitive, non-letters ignored)", (word, status) => {
    expect(recognizeStatus(word)).toBe(status);
  });

  test.each(UNKNOWN)("%p is not recognised", (word) => {
    expect(recognizeStatus(word)).toBeUndefined();
  });

  test("the custom list parameters are AlterCPA's stn sth sta stc stt", () => {
    expect(CUSTOM_LIST_PARAMS).toEqual({ stn: "wait", sth: "hold", sta: "approve", stc: "cancel", stt: "trash" });
  });

  test("a custom list adds a word of one's own: one value or comma-separated, normalised the same way", () => {
    expect(recognizeStatus("weird", { approve: "weird" })).toBe("approve");
    expect(recognizeStatus("BAR baz", { trash: "foo, Bar-Baz ,qux" })).toBe("trash");
    expect(recognizeStatus("qux", { trash: "foo, Bar-Baz ,qux" })).toBe("trash");
    expect(recognizeStatus("foo", { wait: "foo" })).toBe("wait");
    expect(recognizeStatus("In Queue", { hold: "inqueue" })).toBe("hold");
    expect(recognizeStatus("Одобрен!", { approve: "принят,одобрен" })).toBe("approve");
    expect(recognizeStatus("x-1", { cancel: "x1" })).toBe("cancel");
  });

  test("a custom list overrides the built-in meaning of a word", () => {
    expect(recognizeStatus("APPROVED", { trash: "approved" })).toBe("trash");
    expect(recognizeStatus("sale", { cancel: "refund,sale" })).toBe("cancel");
    expect(recognizeStatus("pending", { hold: "pending" })).toBe("hold");
    expect(recognizeStatus("new", { approve: "new" })).toBe("approve");
    expect(recognizeStatus("hold", { wait: "hold" })).toBe("wait");
  });

  test("words not in the custom lists keep their built-in meaning; empty lists change nothing", () => {
    expect(recognizeStatus("approved", { trash: "zzz" })).toBe("approve");
    expect(recognizeStatus("approved", { hold: "", cancel: ",," })).toBe("approve");
    expect(recognizeStatus("nonsense", { approve: "weird" })).toBeUndefined();
    expect(recognizeStatus("", { approve: "" })).toBeUndefined();
    expect(recognizeStatus("!!!", { approve: "!!!" })).toBeUndefined();
  });
});
