/**
 * Each preset's verdict against the answers its tracker really gives (shared/reference/trackers.md):
 * delivered unless the body carries a refusal the preset knows; an HTML page is refused everywhere.
 */
import { describe, expect, test } from "bun:test";
import { classifyAttempt, HTML_PAGE_REASON } from "../../src/domain/verdict.ts";
import { presetByName, verdictByName, verdictName } from "../../src/presets/presets.ts";

const response = (status: number, body: string) => ({ kind: "response", status, body, retryAfterMs: null }) as const;

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title><meta name="csrf-token" content="csrf-4b6d8e0f1a2b"></head>
<body><form method="post"><input type="hidden" name="_csrf" value="csrf-4b6d8e0f1a2b"></form></body></html>`;

interface Case {
  who: string;
  verdict: string | null;
  status: number;
  body: string;
  outcome: "delivered" | "rejected" | "retry";
  reason?: string;
}

const CASES: Case[] = [
  // Genuine Keitaro: always 200; `Success` even for a click it does not know (processed later).
  { who: "Keitaro: Success", verdict: "keitaro", status: 200, body: "Success", outcome: "delivered" },
  { who: "Keitaro: `return` text replaces Success", verdict: "keitaro", status: 200, body: "OK, got it", outcome: "delivered" },
  { who: "Keitaro: Incorrect subid (empty subid)", verdict: "keitaro", status: 200, body: "Incorrect subid", outcome: "rejected", reason: "tracker refused: Incorrect subid" },
  { who: "Keitaro: Incorrect postback code (wrong key)", verdict: "keitaro", status: 200, body: "Incorrect postback code (e89bcbf)", outcome: "rejected", reason: "tracker refused: Incorrect postback code (e89bcbf)" },
  // The Keitaro-compatible self-hosted tracker: its own success words, refusals by HTTP status.
  { who: "compatible: Postback recorded successfully.", verdict: "keitaro", status: 200, body: "Postback recorded successfully.", outcome: "delivered" },
  { who: "compatible: 400 Missing subid.", verdict: "keitaro", status: 400, body: "Missing subid.", outcome: "rejected", reason: "http_400: Missing subid." },
  { who: "compatible: 400 Ignored: Missing status.", verdict: "keitaro", status: 400, body: "Ignored: Missing status.", outcome: "rejected", reason: "http_400: Ignored: Missing status." },
  { who: "compatible: 404 Click ID not found in database.", verdict: "keitaro", status: 404, body: "Click ID not found in database.", outcome: "rejected", reason: "http_404: Click ID not found in database." },
  { who: "compatible: 500 Internal error.", verdict: "keitaro", status: 500, body: "Internal error.", outcome: "retry", reason: "http_500: Internal error." },
  { who: "compatible: wrong key → HTML login page with 200", verdict: "keitaro", status: 200, body: LOGIN_PAGE, outcome: "rejected", reason: HTML_PAGE_REASON },
  // AlterCPA: always 200 with JSON.
  { who: "AlterCPA: status ok", verdict: "altercpa", status: 200, body: `{"status":"ok","id":12}`, outcome: "delivered" },
  { who: "AlterCPA: status error", verdict: "altercpa", status: 200, body: `{"status":"error","error":"token"}`, outcome: "rejected", reason: `tracker refused: status "error", error "token"` },
  { who: "AlterCPA: HTML page", verdict: "altercpa", status: 200, body: LOGIN_PAGE, outcome: "rejected", reason: HTML_PAGE_REASON },
  // Presets without an answer format, and plain templates: any 2xx but an HTML page.
  { who: "Binom: any text", verdict: null, status: 200, body: "ok", outcome: "delivered" },
  { who: "Binom: empty 200", verdict: null, status: 200, body: "", outcome: "delivered" },
  { who: "plain template: HTML login page", verdict: null, status: 200, body: LOGIN_PAGE, outcome: "rejected", reason: HTML_PAGE_REASON },
  // Overrides
  { who: "verdict status: the login page with 200 counts", verdict: "status", status: 200, body: LOGIN_PAGE, outcome: "delivered" },
  { who: "verdict status: Keitaro words are not read", verdict: "status", status: 200, body: "Incorrect subid", outcome: "delivered" },
  { who: "verdict none: a 404 counts", verdict: "none", status: 404, body: "Click ID not found in database.", outcome: "delivered" },
];

describe("verdicts against the trackers' real answers", () => {
  test.each(CASES)("$who → $outcome", ({ verdict, status, body, outcome, reason }) => {
    const c = classifyAttempt(response(status, body), verdictByName(verdict));
    expect(c.outcome).toBe(outcome);
    if (reason !== undefined) expect(c.outcome !== "delivered" && c.reason).toBe(reason);
    expect(JSON.stringify(c)).not.toContain("csrf-4b6d8e0f1a2b");
  });
});

describe("verdictName: what a destination's row stores", () => {
  const cases: [string, "preset" | "status" | "none", string | null][] = [
    ["keitaro", "preset", "keitaro"],
    ["altercpa-pro", "preset", "altercpa"],
    ["altercpa-lite", "preset", "altercpa"],
    ["binom", "preset", null],
    ["keitaro", "status", "status"],
    ["binom", "none", "none"],
  ];
  test.each(cases)("%s with verdict %s → %p", (preset, mode, expected) => {
    expect(verdictName(mode, presetByName(preset))).toBe(expected);
  });
});
