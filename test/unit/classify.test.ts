import { describe, expect, test } from "bun:test";
import { classifyAttempt, parseRetryAfter, type AttemptError, type BodyVerdict } from "../../src/delivery/classify.ts";

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
  const keitaro: BodyVerdict = (body) => (body.startsWith("Incorrect") ? { refused: body } : undefined);
  const altercpa: BodyVerdict = (body) => {
    const parsed = JSON.parse(body) as { status: string; error?: string };
    return parsed.status === "error" ? { refused: parsed.error ?? "error" } : undefined;
  };

  const cases: { name: string; status: number; body: string; verdict: BodyVerdict; expected: unknown }[] = [
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
    const refuseAll: BodyVerdict = () => ({ refused: "nope" });
    expect(classifyAttempt(response(502, "Incorrect"), refuseAll)).toMatchObject({ outcome: "retry" });
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
