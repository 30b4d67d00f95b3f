import { describe, expect, test } from "bun:test";
import {
  decideLeadEvent, transitionAllowed, unsubWindowOpen,
  type CampaignRules, type Decision, type LeadState,
} from "../../src/domain/lifecycle.ts";
import { STATUSES, type Status } from "../../src/domain/status.ts";

const SEC = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1); // lead created

/** SPEC §2 "Allowed transitions", written out independently of src/. */
const SPEC_ALLOWED: ReadonlySet<string> = new Set([
  "wait>hold", "wait>approve",
  "hold>approve", "hold>cancel", "hold>trash",
  "approve>cancel", "approve>trash",
  "cancel>hold", "cancel>approve",
  "trash>hold", "trash>approve",
]);

const ACTIVE: CampaignRules = { paused: false, unsubWindowMs: 0 };
const PAUSED: CampaignRules = { paused: true, unsubWindowMs: 0 };

const lead = (status: Status, over: Partial<LeadState> = {}): LeadState => ({
  status, click: "clk1", joinedAt: status === "approve" ? T0 + HOUR : null, createdAt: T0, ...over,
});

const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => ({ from, to })));

describe("transitionAllowed matches the SPEC §2 list for all 25 from×to pairs", () => {
  test.each(pairs)("$from → $to", ({ from, to }) => {
    expect(transitionAllowed(from, to)).toBe(SPEC_ALLOWED.has(`${from}>${to}`));
  });
});

describe("decideLeadEvent on an existing lead, for all 25 from×to pairs", () => {
  test.each(pairs)("$from → $to", ({ from, to }) => {
    const d = decideLeadEvent(lead(from), { status: to, click: "clk1", at: T0 + 2 * HOUR }, ACTIVE);
    if (from === to) expect(d).toEqual({ kind: "ignore", reason: "duplicate" });
    else if (!SPEC_ALLOWED.has(`${from}>${to}`)) expect(d).toEqual({ kind: "ignore", reason: "transition_not_allowed" });
    else expect(d).toMatchObject({ kind: "apply", status: to, createLead: false, click: "clk1", postbacks: "send" });
  });
});

interface Case {
  name: string;
  lead: LeadState | null;
  event: { status: Status; click: string; at: number };
  rules: CampaignRules;
  expected: Decision;
}

const cases: Case[] = [
  // creation
  {
    name: "Start with no lead creates it in wait and sends",
    lead: null,
    event: { status: "wait", click: "abc-def", at: T0 },
    rules: ACTIVE,
    expected: { kind: "apply", status: "wait", createLead: true, click: "abc-def", joinedAt: null, postbacks: "send", reason: null },
  },
  {
    name: "Start with an empty click still creates the lead",
    lead: null,
    event: { status: "wait", click: "", at: T0 },
    rules: ACTIVE,
    expected: { kind: "apply", status: "wait", createLead: true, click: "", joinedAt: null, postbacks: "send", reason: null },
  },
  ...(["hold", "approve", "cancel", "trash"] as const).map((status): Case => ({
    name: `${status} with no lead (organic) is ignored as no_lead`,
    lead: null,
    event: { status, click: "", at: T0 },
    rules: ACTIVE,
    expected: { kind: "ignore", reason: "no_lead" },
  })),

  // click handling on repeated Start
  {
    name: "repeated Start bringing a click to a lead with none: click stored, wait fires again (click_added)",
    lead: lead("wait", { click: "" }),
    event: { status: "wait", click: "newclick", at: T0 + HOUR },
    rules: ACTIVE,
    expected: { kind: "apply", status: "wait", createLead: false, click: "newclick", joinedAt: null, postbacks: "send", reason: "click_added" },
  },
  {
    name: "repeated Start with a different click never overwrites a non-empty click",
    lead: lead("wait", { click: "first" }),
    event: { status: "wait", click: "second", at: T0 + HOUR },
    rules: ACTIVE,
    expected: { kind: "ignore", reason: "duplicate" },
  },
  {
    name: "repeated Start with an empty click on a lead with a click is a duplicate",
    lead: lead("wait", { click: "first" }),
    event: { status: "wait", click: "", at: T0 + HOUR },
    rules: ACTIVE,
    expected: { kind: "ignore", reason: "duplicate" },
  },
  {
    name: "repeated Start with an empty click on a lead with an empty click is a duplicate",
    lead: lead("wait", { click: "" }),
    event: { status: "wait", click: "", at: T0 + HOUR },
    rules: ACTIVE,
    expected: { kind: "ignore", reason: "duplicate" },
  },
  {
    name: "a status change keeps the lead's stored click, not the event's",
    lead: lead("wait", { click: "first" }),
    event: { status: "approve", click: "other", at: T0 + HOUR },
    rules: ACTIVE,
    expected: { kind: "apply", status: "approve", createLead: false, click: "first", joinedAt: T0 + HOUR, postbacks: "send", reason: null },
  },

  // paused campaign
  {
    name: "paused: Start creates no lead",
    lead: null,
    event: { status: "wait", click: "abc", at: T0 },
    rules: PAUSED,
    expected: { kind: "ignore", reason: "campaign_paused" },
  },
  {
    name: "paused: a join of an existing lead is recorded, postbacks skipped",
    lead: lead("wait"),
    event: { status: "approve", click: "", at: T0 + HOUR },
    rules: PAUSED,
    expected: { kind: "apply", status: "approve", createLead: false, click: "clk1", joinedAt: T0 + HOUR, postbacks: "skip", reason: "campaign_paused" },
  },
  {
    name: "paused: a join request of an existing lead is recorded, postbacks skipped",
    lead: lead("wait"),
    event: { status: "hold", click: "", at: T0 + HOUR },
    rules: PAUSED,
    expected: { kind: "apply", status: "hold", createLead: false, click: "clk1", joinedAt: null, postbacks: "skip", reason: "campaign_paused" },
  },
  {
    name: "paused: a leave inside the window is recorded, postbacks skipped",
    lead: lead("approve"),
    event: { status: "cancel", click: "", at: T0 + 2 * HOUR },
    rules: PAUSED,
    expected: { kind: "apply", status: "cancel", createLead: false, click: "clk1", joinedAt: T0 + HOUR, postbacks: "skip", reason: "campaign_paused" },
  },
  {
    name: "paused: a click added to an existing lead is recorded, postbacks skipped",
    lead: lead("wait", { click: "" }),
    event: { status: "wait", click: "late", at: T0 + HOUR },
    rules: PAUSED,
    expected: { kind: "apply", status: "wait", createLead: false, click: "late", joinedAt: null, postbacks: "skip", reason: "campaign_paused" },
  },
  {
    name: "paused: a duplicate is still ignored",
    lead: lead("approve"),
    event: { status: "approve", click: "", at: T0 + 2 * HOUR },
    rules: PAUSED,
    expected: { kind: "ignore", reason: "duplicate" },
  },

  // unsubscribe window (joined at T0 + 1h, window 1 day)
  ...(["cancel", "trash"] as const).flatMap((status): Case[] => [
    {
      name: `${status} inside the window sends`,
      lead: lead("approve"),
      event: { status, click: "", at: T0 + HOUR + DAY - SEC },
      rules: { paused: false, unsubWindowMs: DAY },
      expected: { kind: "apply", status, createLead: false, click: "clk1", joinedAt: T0 + HOUR, postbacks: "send", reason: null },
    },
    {
      name: `${status} outside the window changes status but fires nothing (outside_unsub_window)`,
      lead: lead("approve"),
      event: { status, click: "", at: T0 + HOUR + DAY + SEC },
      rules: { paused: false, unsubWindowMs: DAY },
      expected: { kind: "apply", status, createLead: false, click: "clk1", joinedAt: T0 + HOUR, postbacks: "none", reason: "outside_unsub_window" },
    },
    {
      name: `${status} a year later with window 0 (never closes) sends`,
      lead: lead("approve"),
      event: { status, click: "", at: T0 + 365 * DAY },
      rules: { paused: false, unsubWindowMs: 0 },
      expected: { kind: "apply", status, createLead: false, click: "clk1", joinedAt: T0 + HOUR, postbacks: "send", reason: null },
    },
  ]),
  {
    name: "window is measured from the latest join, not lead creation (re-join re-anchors)",
    // created 10 days ago, re-joined 1 hour before the leave; window 1 day
    lead: lead("approve", { createdAt: T0, joinedAt: T0 + 10 * DAY }),
    event: { status: "cancel", click: "", at: T0 + 10 * DAY + HOUR },
    rules: { paused: false, unsubWindowMs: DAY },
    expected: { kind: "apply", status: "cancel", createLead: false, click: "clk1", joinedAt: T0 + 10 * DAY, postbacks: "send", reason: null },
  },
  {
    name: "hold → trash with no join yet: window measured from createdAt (inside)",
    lead: lead("hold", { joinedAt: null }),
    event: { status: "trash", click: "", at: T0 + DAY - SEC },
    rules: { paused: false, unsubWindowMs: DAY },
    expected: { kind: "apply", status: "trash", createLead: false, click: "clk1", joinedAt: null, postbacks: "send", reason: null },
  },
  {
    name: "hold → trash with no join yet: window measured from createdAt (outside)",
    lead: lead("hold", { joinedAt: null }),
    event: { status: "trash", click: "", at: T0 + DAY + SEC },
    rules: { paused: false, unsubWindowMs: DAY },
    expected: { kind: "apply", status: "trash", createLead: false, click: "clk1", joinedAt: null, postbacks: "none", reason: "outside_unsub_window" },
  },

  // re-join
  ...(["cancel", "trash"] as const).map((from): Case => ({
    name: `re-join after ${from}: back to approve, postback fires, joinedAt re-anchored to the event time`,
    lead: lead(from, { joinedAt: T0 + HOUR }),
    event: { status: "approve", click: "", at: T0 + 30 * DAY },
    rules: { paused: false, unsubWindowMs: DAY },
    expected: { kind: "apply", status: "approve", createLead: false, click: "clk1", joinedAt: T0 + 30 * DAY, postbacks: "send", reason: null },
  })),
  {
    name: "first join sets joinedAt to the event time",
    lead: lead("hold"),
    event: { status: "approve", click: "", at: T0 + 5 * HOUR },
    rules: ACTIVE,
    expected: { kind: "apply", status: "approve", createLead: false, click: "clk1", joinedAt: T0 + 5 * HOUR, postbacks: "send", reason: null },
  },
];

describe("decideLeadEvent", () => {
  test.each(cases)("$name", ({ lead, event, rules, expected }) => {
    expect(decideLeadEvent(lead, event, rules)).toEqual(expected);
  });

  test("a re-join re-anchors the window: a leave soon after the re-join sends although the first join is long past", () => {
    const rules = { paused: false, unsubWindowMs: DAY };
    let state: LeadState = lead("approve", { joinedAt: T0 });
    const apply = (status: Status, at: number) => {
      const d = decideLeadEvent(state, { status, click: "", at }, rules);
      if (d.kind !== "apply") throw new Error(`expected apply, got ${d.reason}`);
      state = { ...state, status: d.status, joinedAt: d.joinedAt };
      return d;
    };
    expect(apply("cancel", T0 + 2 * DAY).postbacks).toBe("none"); // outside the first window
    expect(apply("approve", T0 + 5 * DAY).postbacks).toBe("send"); // re-join
    expect(apply("cancel", T0 + 5 * DAY + HOUR)).toMatchObject({ postbacks: "send", reason: null });
  });
});

describe("unsubWindowOpen", () => {
  const cases: { name: string; lead: LeadState; at: number; windowMs: number; expected: boolean }[] = [
    { name: "window 0 never closes", lead: lead("approve", { joinedAt: T0 }), at: T0 + 10_000 * DAY, windowMs: 0, expected: true },
    { name: "just after the join", lead: lead("approve", { joinedAt: T0 }), at: T0 + SEC, windowMs: HOUR, expected: true },
    { name: "exactly at the window's end is still inside", lead: lead("approve", { joinedAt: T0 }), at: T0 + HOUR, windowMs: HOUR, expected: true },
    { name: "one ms past the window's end is outside", lead: lead("approve", { joinedAt: T0 }), at: T0 + HOUR + 1, windowMs: HOUR, expected: false },
    { name: "anchored on joinedAt, not createdAt", lead: lead("approve", { createdAt: T0, joinedAt: T0 + 3 * HOUR }), at: T0 + 3.5 * HOUR, windowMs: HOUR, expected: true },
    { name: "no join: anchored on createdAt (inside)", lead: lead("hold", { createdAt: T0, joinedAt: null }), at: T0 + 30 * 60 * SEC, windowMs: HOUR, expected: true },
    { name: "no join: anchored on createdAt (outside)", lead: lead("hold", { createdAt: T0, joinedAt: null }), at: T0 + 2 * HOUR, windowMs: HOUR, expected: false },
  ];
  test.each(cases)("$name", ({ lead, at, windowMs, expected }) => {
    expect(unsubWindowOpen(lead, at, windowMs)).toBe(expected);
  });
});
