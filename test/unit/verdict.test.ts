import { describe, expect, test } from "bun:test";
import { HTML_PAGE_REASON, REASON_CLASSES, answerWords, classifyAttempt, isHtmlPage, parseRetryAfter, reasonClass, type AnswerRule, type AttemptError, type BodyVerdict } from "../../src/domain/verdict.ts";

const response = (status: number, body = "", retryAfterMs: number | null = null) =>
  ({ kind: "response", status, body, retryAfterMs }) as const;

describe("classifyAttempt: HTTP responses", () => {
  test.each([200, 201, 202, 204])("%d is delivered", (status) => {
    expect(classifyAttempt(response(status))).toEqual({ outcome: "delivered" });
  });

  test.each([400, 401, 403, 404, 405, 410, 422])("%d is rejected for good", (status) => {
    expect(classifyAttempt(response(status))).toEqual({ outcome: "rejected", reason: `http_${status}` });
  });

  const retry: { status: number; minDelayMs: number }[] = [
    { status: 408, minDelayMs: 0 },
    { status: 425, minDelayMs: 0 },
    { status: 429, minDelayMs: 60_000 },
    { status: 500, minDelayMs: 0 },
    { status: 502, minDelayMs: 0 },
    { status: 503, minDelayMs: 0 },
    { status: 504, minDelayMs: 0 },
  ];
  test.each(retry)("$status is retried with minDelayMs $minDelayMs", ({ status, minDelayMs }) => {
    expect(classifyAttempt(response(status))).toEqual({ outcome: "retry", reason: `http_${status}`, retryAfterMs: null, minDelayMs });
  });

  test.each([429, 503])("%d passes its Retry-After through", (status) => {
    const c = classifyAttempt(response(status, "", 120_000));
    expect(c).toMatchObject({ outcome: "retry", retryAfterMs: 120_000 });
  });
});

describe("classifyAttempt: body verdicts of presets", () => {
  const body = (refusal: BodyVerdict): AnswerRule => ({ judge: "body", refusal });
  const keitaro = body((b) => (b.startsWith("Incorrect") ? { refused: b } : undefined));
  const altercpa = body((b) => {
    const parsed = JSON.parse(b) as { status: string; error?: string };
    return parsed.status === "error" ? { refused: parsed.error ?? "error" } : undefined;
  });

  const cases: { name: string; status: number; body: string; verdict: AnswerRule; expected: unknown }[] = [
    { name: "Keitaro success body", status: 200, body: "Success", verdict: keitaro, expected: { outcome: "delivered" } },
    { name: "Keitaro refusal on 200", status: 200, body: "Incorrect subid", verdict: keitaro, expected: { outcome: "rejected", reason: expect.stringContaining("Incorrect subid") } },
    { name: "AlterCPA JSON ok", status: 200, body: `{"status":"ok"}`, verdict: altercpa, expected: { outcome: "delivered" } },
    { name: "AlterCPA JSON error on 200", status: 200, body: `{"status":"error","error":"bad-click"}`, verdict: altercpa, expected: { outcome: "rejected", reason: expect.stringContaining("bad-click") } },
    { name: "refusal on 204 is still rejected", status: 204, body: "Incorrect token", verdict: keitaro, expected: { outcome: "rejected", reason: expect.stringContaining("Incorrect token") } },
  ];
  test.each(cases)("$name", ({ status, body, verdict, expected }) => {
    expect(classifyAttempt(response(status, body), verdict)).toEqual(expected as never);
  });

  test("a verdict is not consulted for a non-2xx response (5xx stays a retry)", () => {
    const refuseAll = body(() => ({ refused: "nope" }));
    expect(classifyAttempt(response(502, "Incorrect"), refuseAll)).toMatchObject({ outcome: "retry" });
  });
});

describe("classifyAttempt: the tracker's words in a non-2xx reason", () => {
  const cases: { name: string; status: number; body: string; expected: unknown }[] = [
    { name: "a short text refusal is quoted", status: 404, body: "Click ID not found in database.", expected: { outcome: "rejected", reason: "http_404: Click ID not found in database." } },
    { name: "its first non-blank line only", status: 400, body: "\n  Missing subid.\nat line 12\n", expected: { outcome: "rejected", reason: "http_400: Missing subid." } },
    { name: "a retry keeps the words too", status: 500, body: "Internal error.", expected: { outcome: "retry", reason: "http_500: Internal error.", retryAfterMs: null, minDelayMs: 0 } },
    { name: "an HTML error page is not quoted", status: 404, body: "<html><head><title>404 Not Found</title></head></html>", expected: { outcome: "rejected", reason: "http_404" } },
    { name: "a long line is cut", status: 403, body: "x".repeat(500), expected: { outcome: "rejected", reason: `http_403: ${"x".repeat(120)}…` } },
  ];
  test.each(cases)("$name", ({ status, body, expected }) => {
    expect(classifyAttempt(response(status, body))).toEqual(expected as never);
  });
});

describe("classifyAttempt: the three judges", () => {
  const page = "<!DOCTYPE html><html><body>Sign in</body></html>";
  const cases: { name: string; rule: AnswerRule; status: number; body: string; expected: string }[] = [
    { name: "body: an HTML page on 200 is rejected", rule: { judge: "body" }, status: 200, body: page, expected: "rejected" },
    { name: "body: any other 200 is delivered", rule: { judge: "body" }, status: 200, body: "whatever it says", expected: "delivered" },
    { name: "body: a 404 is rejected", rule: { judge: "body" }, status: 404, body: "", expected: "rejected" },
    { name: "status: an HTML page on 200 is delivered", rule: { judge: "status" }, status: 200, body: page, expected: "delivered" },
    { name: "status: a 404 is rejected", rule: { judge: "status" }, status: 404, body: "", expected: "rejected" },
    { name: "status: a 503 is retried", rule: { judge: "status" }, status: 503, body: "", expected: "retry" },
    { name: "none: a 404 counts as delivered", rule: { judge: "none" }, status: 404, body: "", expected: "delivered" },
    { name: "none: a 503 counts as delivered", rule: { judge: "none" }, status: 503, body: "", expected: "delivered" },
    { name: "none: an HTML page counts as delivered", rule: { judge: "none" }, status: 200, body: page, expected: "delivered" },
  ];
  test.each(cases)("$name", ({ rule, status, body, expected }) => {
    expect(classifyAttempt(response(status, body), rule).outcome).toBe(expected as never);
  });

  test.each<[AttemptError, string]>([["timeout", "retry"], ["network", "retry"], ["blocked_address", "rejected"], ["malformed_url", "rejected"]])(
    "none: no answer at all (%s) is still %s",
    (error, expected) => {
      expect(classifyAttempt({ kind: "error", error, message: "m" }, { judge: "none" }).outcome).toBe(expected as never);
    },
  );
});

describe("isHtmlPage", () => {
  const cases: [string, boolean][] = [
    ["<!DOCTYPE html><html></html>", true],
    ["<!doctype html>\n<title>x</title>", true],
    ["\uFEFF\n  <html lang=\"en\">", true],
    ["<HTML>", true],
    ["<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">", true],
    ["<!-- served by nginx -->\n<html>", true],
    ["Postback recorded successfully.", false],
    ["Success", false],
    ["{\"status\":\"ok\"}", false],
    ["<htmlish>", false],
    ["OK <html>", false],
    ["", false],
  ];
  test.each(cases)("%p → %p", (body, expected) => {
    expect(isHtmlPage(body)).toBe(expected);
  });

  test("answerWords never quotes a page", () => {
    expect(answerWords("<!DOCTYPE html><meta name=csrf content=abc>")).toBeNull();
    expect(answerWords("   \n\t\n")).toBeNull();
    expect(answerWords("Ignored: Missing status.")).toBe("Ignored: Missing status.");
  });
});

describe("classifyAttempt: transport errors", () => {
  const cases: { error: AttemptError; expected: "rejected" | "retry"; minDelayMs?: number }[] = [
    { error: "dns_not_found", expected: "rejected" },
    { error: "blocked_address", expected: "rejected" },
    { error: "malformed_url", expected: "rejected" },
    { error: "too_many_redirects", expected: "rejected" },
    { error: "timeout", expected: "retry", minDelayMs: 60_000 },
    { error: "network", expected: "retry", minDelayMs: 0 },
    { error: "dns_temporary", expected: "retry", minDelayMs: 0 },
  ];
  test.each(cases)("$error → $expected", ({ error, expected, minDelayMs }) => {
    const c = classifyAttempt({ kind: "error", error, message: "details here" });
    expect(c.outcome).toBe(expected);
    if (c.outcome === "delivered") throw new Error("unreachable");
    expect(c.reason).toContain(error);
    expect(c.reason).toContain("details here");
    if (c.outcome === "retry") expect(c).toMatchObject({ retryAfterMs: null, minDelayMs });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  const cases: { name: string; value: string | null; expected: number | null }[] = [
    { name: "delta-seconds", value: "120", expected: 120_000 },
    { name: "zero seconds", value: "0", expected: 0 },
    { name: "seconds with surrounding spaces", value: "  30 ", expected: 30_000 },
    { name: "HTTP date 90 s after now", value: "Wed, 21 Oct 2015 07:29:30 GMT", expected: 90_000 },
    { name: "HTTP date in the past clamps to 0", value: "Wed, 21 Oct 2015 07:00:00 GMT", expected: 0 },
    { name: "null header", value: null, expected: null },
    { name: "empty header", value: "", expected: null },
    { name: "garbage word", value: "soon", expected: null },
    { name: "number with junk", value: "12abc", expected: null },
  ];
  test.each(cases)("$name", ({ value, expected }) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe("reasonClass: a bounded label for /metrics", () => {
  const cases: [string | null, string][] = [
    [null, "ok"],
    ["tracker refused: Incorrect postback code (abc)", "tracker_refused"],
    [`tracker refused: status "error", error "token"`, "tracker_refused"],
    [HTML_PAGE_REASON, "html_page"],
    ["http_404: Click ID not found in database.", "http_4xx"],
    ["http_400", "http_4xx"],
    ["http_429", "http_429"],
    ["http_503: Service Unavailable", "http_5xx"],
    ["http_304", "http_other"],
    ["telegram_403: Forbidden: bot was blocked by the user", "http_4xx"],
    ["telegram_429: Too Many Requests: retry after 5", "http_429"],
    ["timeout: no complete answer in time", "timeout"],
    ["network: ECONNREFUSED: Unable to connect", "network"],
    ["dns_not_found: trk.invalid", "dns"],
    ["dns_temporary: EAI_AGAIN", "dns"],
    ["blocked_address: 10.0.0.1 is private", "blocked_address"],
    ["malformed_url: not a valid URL", "malformed_url"],
    ["too_many_redirects: more than 3 redirects", "too_many_redirects"],
    ["no_click", "no_click"],
    ["campaign_paused", "campaign_paused"],
    ["bot main is not configured", "other"],
    ["anything a tracker might say", "other"],
  ];
  test.each(cases)("%p → %s", (reason, expected) => {
    expect(reasonClass(reason)).toBe(expected as never);
    expect(REASON_CLASSES).toContain(reasonClass(reason));
  });
});
