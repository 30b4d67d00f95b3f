import { describe, expect, test } from "bun:test";
import { classifyMemberChange, isInChat, parseStartCommand, type MemberState } from "../../src/telegram/rules.ts";

const USER = 100;
const ADMIN = 200;
const m = (status: MemberState["status"], is_member?: boolean): MemberState => ({ status, ...(is_member === undefined ? {} : { is_member }) });

describe("classifyMemberChange (reference/telegram.md)", () => {
  const cases: [string, MemberState, MemberState, number, ReturnType<typeof classifyMemberChange>][] = [
    ["left → member is a join", m("left"), m("member"), USER, "approve"],
    ["kicked → member (re-join after unban and invite)", m("kicked"), m("member"), ADMIN, "approve"],
    ["left → restricted in the chat is a join", m("left"), m("restricted", true), USER, "approve"],
    ["left → restricted not a member is nothing", m("left"), m("restricted", false), USER, null],
    ["left → administrator is a join", m("left"), m("administrator"), ADMIN, "approve"],
    ["member → left by the user is cancel", m("member"), m("left"), USER, "cancel"],
    ["member → left by an admin is trash", m("member"), m("left"), ADMIN, "trash"],
    ["member → kicked is trash", m("member"), m("kicked"), ADMIN, "trash"],
    ["member → kicked reported with the user as from is still trash", m("member"), m("kicked"), USER, "trash"],
    ["restricted member → restricted not member, by the user, is cancel", m("restricted", true), m("restricted", false), USER, "cancel"],
    ["kicked → left (unban) is nothing", m("kicked"), m("left"), ADMIN, null],
    ["member → restricted still member is nothing", m("member"), m("restricted", true), ADMIN, null],
    ["member → administrator is nothing", m("member"), m("administrator"), ADMIN, null],
    ["left → kicked (a pending requester banned) is trash", m("left"), m("kicked"), ADMIN, "trash"],
    ["kicked → kicked (ban prolonged) is nothing", m("kicked"), m("kicked"), ADMIN, null],
  ];
  test.each(cases)("%s", (_name, before, after, from, expected) => {
    expect(classifyMemberChange(before, after, USER, from)).toBe(expected);
  });

  test("creator, administrator, member and restricted-with-is_member are in the chat; the rest are out", () => {
    expect([m("creator"), m("administrator"), m("member"), m("restricted", true)].every(isInChat)).toBe(true);
    expect([m("left"), m("kicked"), m("restricted", false), m("restricted")].some(isInChat)).toBe(false);
  });
});

describe("parseStartCommand (SPEC §2 deep-link payload)", () => {
  const cases: [string, ReturnType<typeof parseStartCommand>][] = [
    ["/start spring-abc123", { kind: "ok", code: "spring", click: "abc123", payload: "spring-abc123" }],
    ["/start spring-abc-def-1", { kind: "ok", code: "spring", click: "abc-def-1", payload: "spring-abc-def-1" }],
    ["/start spring-", { kind: "ok", code: "spring", click: "", payload: "spring-" }],
    ["/start spring", { kind: "ok", code: "spring", click: "", payload: "spring" }],
    ["/start@MyBot spring-x", { kind: "ok", code: "spring", click: "x", payload: "spring-x" }],
    [`/start c-${"a".repeat(62)}`, { kind: "ok", code: "c", click: "a".repeat(62), payload: `c-${"a".repeat(62)}` }],
    [`/start c-${"a".repeat(63)}`, { kind: "malformed", payload: `c-${"a".repeat(63)}`, length: 65 }],
    ["/start spring-a+b", { kind: "malformed", payload: "spring-a+b", length: 10 }],
    ["/start spring-ключ", { kind: "malformed", payload: "spring-ключ", length: 11 }],
    ["/start a b", { kind: "malformed", payload: "a b", length: 3 }],
    [`/start x-${"b".repeat(200)}`, { kind: "malformed", payload: `x-${"b".repeat(98)}`, length: 202 }],
    ["/start", { kind: "missing" }],
    ["/start   ", { kind: "missing" }],
    ["/help spring-x", null],
    ["hello", null],
    ["/starting x", null],
  ];
  test.each(cases)("%p", (text, expected) => {
    expect(parseStartCommand(text)).toEqual(expected);
  });
});
