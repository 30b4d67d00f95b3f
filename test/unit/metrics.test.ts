import { describe, expect, test } from "bun:test";
import { reasonClass } from "../../src/domain/verdict.ts";
import { MAX_OUTCOME_HOSTS, Metrics } from "../../src/lib/metrics.ts";
import { stripKey, stripUrls } from "../../src/lib/logger.ts";

describe("Metrics.recordAttempt: outcomes per host and reason class", () => {
  test("counts by host, outcome (retry while the row stays pending) and reason class", () => {
    const m = new Metrics(reasonClass);
    m.recordAttempt("delivered", "delivered", "trk.example", null);
    m.recordAttempt("delivered", "delivered", "trk.example", null);
    m.recordAttempt("retry", "pending", "trk.example", "http_503: Service Unavailable");
    m.recordAttempt("retry", "failed", "trk.example", "http_503: Service Unavailable");
    m.recordAttempt("rejected", "rejected", "other.example:8443", "http_404: Click ID not found in database.");
    expect(Object.fromEntries(m.outcomes)).toEqual({
      "trk.example|delivered|ok": 2,
      "trk.example|retry|http_5xx": 1,
      "trk.example|failed|http_5xx": 1,
      "other.example:8443|rejected|http_4xx": 1,
    });
    expect(Object.fromEntries(m.postbacks)).toEqual({ delivered: 2, failed: 1, rejected: 1 });
  });

  test(`past ${MAX_OUTCOME_HOSTS} hosts, new ones share the label "other"; known ones keep theirs`, () => {
    const m = new Metrics(reasonClass);
    for (let i = 0; i < MAX_OUTCOME_HOSTS + 50; i++) m.recordAttempt("delivered", "delivered", `h${i}.example`, null);
    m.recordAttempt("delivered", "delivered", "h0.example", null);
    expect(m.outcomes.size).toBe(MAX_OUTCOME_HOSTS + 1);
    expect(m.outcomes.get("other|delivered|ok")).toBe(50);
    expect(m.outcomes.get("h0.example|delivered|ok")).toBe(2);
  });
});

describe("log scrubbing", () => {
  test.each([
    ["network: fetch failed for https://trk.example/e89bcbe/postback?subid=x", "network: fetch failed for [url]"],
    ["error at http://127.0.0.1:9000/bot123:ABC/sendMessage, retrying", "error at [url] retrying"],
    ["http_404: Click ID not found in database.", "http_404: Click ID not found in database."],
  ])("stripUrls(%p)", (text, expected) => {
    expect(stripUrls(text)).toBe(expected);
  });

  test("stripKey", () => {
    expect(stripKey("/api/leads?key=abc&limit=5")).toBe("/api/leads?key=[redacted]&limit=5");
  });
});
