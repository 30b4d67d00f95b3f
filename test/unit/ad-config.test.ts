// Ad-platform destinations in the config: each mistake is reported with its path and line, all at
// once, and no message carries a secret.
import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import type { ConfigIssue } from "../../src/config/checker.ts";

const SECRET = "EAAB-very-secret-token-value";
const yaml = (...lines: string[]) => ["api_keys: [k-0123456789abcdef0123456789abcdef]", "storage: { path: ':memory:' }", ...lines].join("\n") + "\n";

function issuesOf(text: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    parseConfig(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError, the config loaded");
}

describe("ad-platform destinations: problems with their path and line", () => {
  const cases: { name: string; destination: string; postbacks?: string; issues: { path: string; line: number; message: string }[] }[] = [
    {
      name: "a required param missing", destination: `fb: { preset: meta-capi, pixel_id: "1" }`,
      issues: [{ path: "destinations.fb", line: 4, message: "access_token is required for preset meta-capi" }],
    },
    {
      name: "a tracker's param", destination: `fb: { preset: meta-capi, pixel_id: "1", access_token: ${SECRET}, domain: x.com }`,
      issues: [{ path: "destinations.fb.domain", line: 4, message: "unknown param domain for preset meta-capi (known: pixel_id, access_token, api_version, test_event_code, encoding, base_url, events)" }],
    },
    {
      name: "verdict status", destination: `tt: { preset: tiktok-events, pixel_code: C1, access_token: ${SECRET}, verdict: status }`,
      issues: [{ path: "destinations.tt.verdict", line: 4, message: "an ad-platform destination is judged by tiktok-events's own answers (verdict: preset); TikTok, for one, answers errors with HTTP 200" }],
    },
    {
      name: "validate_only outside GA4", destination: `fb: { preset: meta-capi, pixel_id: "1", access_token: ${SECRET}, validate_only: true }`,
      issues: [{ path: "destinations.fb.validate_only", line: 4, message: "is GA4's test mode; Meta's test mode is test_event_code" }],
    },
    {
      name: "GA4 event names it refuses", destination: `ga: { preset: ga4, measurement_id: G-1, api_secret: ${SECRET}, events: { approve: page_view, wait: 1bad } }`,
      issues: [
        { path: "destinations.ga.events.wait", line: 4, message: "\"1bad\" must be 1-40 letters, digits or _, starting with a letter (GA4's rule)" },
        { path: "destinations.ga.events.approve", line: 4, message: "\"page_view\" is reserved by GA4" },
      ],
    },
    {
      name: "Yandex without goals, a counter that is not digits", destination: `ym: { preset: yandex-metrica, counter_id: abc, oauth_token: ${SECRET} }`,
      issues: [
        { path: "destinations.ym.counter_id", line: 4, message: "\"abc\" is not a counter id (digits)" },
        { path: "destinations.ym.events", line: 4, message: "name the goal identifier (Target) to send for at least one status, e.g. approve: telegram_join (a JavaScript-event goal of the counter)" },
      ],
    },
    {
      name: "a base_url that is not a base URL, a bad API version", destination: `fb: { preset: meta-capi, pixel_id: "1", access_token: ${SECRET}, base_url: "http://127.0.0.1:9/x?y=1", api_version: "25" }`,
      issues: [
        { path: "destinations.fb.base_url", line: 4, message: "must be a base URL without a query, fragment or {macro}" },
        { path: "destinations.fb.api_version", line: 4, message: "\"25\" is not a Graph API version such as v25.0" },
      ],
    },
    {
      name: "a status that names the destination, which has no event for it", destination: `fb: { preset: meta-capi, pixel_id: "1", access_token: ${SECRET} }`,
      postbacks: "postbacks: { cancel: { destination: fb } }",
      issues: [{ path: "postbacks.cancel.destination", line: 5, message: "destination \"fb\" sends no event for cancel (name one under destinations.fb.events.cancel)" }],
    },
    {
      name: "every event switched off", destination: `fb: { preset: meta-capi, pixel_id: "1", access_token: ${SECRET}, events: { wait: "", approve: null } }`,
      issues: [{ path: "destinations.fb.events", line: 4, message: "sends no event for any status" }],
    },
  ];
  test.each(cases)("$name", ({ destination, postbacks, issues }) => {
    const found = issuesOf(yaml("destinations:", `  ${destination}`, ...(postbacks ? [postbacks] : [])));
    expect(found.map(({ path, line, message }) => ({ path, line, message }))).toEqual(issues);
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });

  test("a tracker preset refuses the ad platforms' keys", () => {
    const found = issuesOf(yaml("destinations:", "  kt: { preset: keitaro, domain: x.com, key: k, events: { approve: x } }"));
    expect(found.map((i) => i.message)).toEqual(["unknown param events for preset keitaro (known: domain, key)"]);
  });

  test("an unknown preset lists the ad platforms too", () => {
    const found = issuesOf(yaml("destinations:", "  x: { preset: meta }"));
    expect(found[0]!.message).toContain("meta-capi, tiktok-events, ga4, yandex-metrica");
  });

  test("a valid one loads; its token comes from the environment and its rows' URL masks it", () => {
    const config = parseConfig(yaml("destinations:", "  fb: { preset: meta-capi, pixel_id: \"1\", access_token: \"${META_TOKEN}\" }", "postbacks: { destination: fb }"), { META_TOKEN: SECRET });
    expect(config.destinations.fb).toMatchObject({ preset: "meta-capi", params: { access_token: SECRET, pixel_id: "1", api_version: "v25.0" } });
    expect(config.postbacks.approve.map((t) => [t.label, t.url.source, t.verdict])).toEqual([
      ["destinations.fb.approve", "https://graph.facebook.com/v25.0/1/events?access_token=***", "meta-capi@fb"],
    ]);
    expect(config.postbacks.cancel).toEqual([]);
  });
});
