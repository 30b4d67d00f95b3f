import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import type { ConfigIssue } from "../../src/config/checker.ts";

const yaml = (...lines: string[]) => lines.join("\n") + "\n";
const HEAD = ["api_keys: [k0123456789abcdef0123456789abcdef]", "bots: { main: { token: '1:abc' } }", "campaigns:", "  - code: spring", "    bot: main"];

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError, the config loaded");
}

describe("welcome: one message or a list of variants", () => {
  test("the old single form is one variant named \"\" for any language", () => {
    const config = parseConfig(yaml(...HEAD, "    welcome: { text: Hi }"), {});
    expect(config.campaigns[0]!.welcome).toEqual([
      { name: "", languages: [], weight: 1, text: expect.objectContaining({ source: "Hi" }), media: null, button: null },
    ]);
  });

  test("variants get their names (default v1, v2 … by position), lower-cased languages and weights (default 1)", () => {
    const config = parseConfig(yaml(...HEAD,
      "    welcome:",
      "      - { name: ru, languages: [ru, UK], text: Привет }",
      "      - { text: 'Hi A', weight: 3 }",
      "      - { text: 'Hi B', button: { text: Join, url: '{invite}' } }"), {});
    const variants = config.campaigns[0]!.welcome!;
    expect(variants.map((v) => [v.name, v.languages, v.weight, v.text.source])).toEqual([
      ["ru", ["ru", "uk"], 1, "Привет"], ["v2", [], 3, "Hi A"], ["v3", [], 1, "Hi B"],
    ]);
    expect(variants[2]!.button?.text).toBe("Join");
  });

  test("every problem is reported with its YAML path and line", () => {
    const issues = issuesOf(yaml(...HEAD,
      "    welcome:",
      "      - { name: a, text: 'Hi {nope}' }",
      "      - { name: a, languages: [russian], text: ok, weight: 0 }",
      "      - { name: 'bad name!', text: ok }"));
    expect(issues.map((i) => [i.path, i.line])).toEqual(expect.arrayContaining([
      ["campaigns[0].welcome[0].text", 7],
      ["campaigns[0].welcome[1].weight", 8],
      ["campaigns[0].welcome[2].name", 9],
    ]));
    // The rules a schema cannot say come once the structure is sound.
    const rules = issuesOf(yaml(...HEAD,
      "    welcome:",
      "      - { name: a, text: 'Hi {nope}' }",
      "      - { name: a, languages: [russian], text: ok }"));
    expect(rules.map((i) => [i.path, i.message])).toEqual(expect.arrayContaining([
      ["campaigns[0].welcome[0].text", expect.stringContaining("unknown macro {nope}")],
      ["campaigns[0].welcome[1].name", "\"a\" is already the name of welcome[0]"],
      ["campaigns[0].welcome[1].languages[0]", "\"russian\" is not a language code such as en, ru or pt-BR"],
    ]));
  });

  test("an empty list and a list without the campaign's bot are refused", () => {
    expect(issuesOf(yaml("api_keys: [k0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring", "    welcome: []")).map((i) => [i.path, i.message]))
      .toEqual([["campaigns[0].welcome", "needs at least one variant"]]);
    expect(issuesOf(yaml("api_keys: [k0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring", "    welcome: [{ text: hi }]")).map((i) => [i.path, i.message]))
      .toEqual([["campaigns[0].welcome", "a welcome message needs the campaign's bot"]]);
  });
});

describe("campaign rules and costs in the config", () => {
  const campaign = (...lines: string[]) => yaml("api_keys: [k0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring", ...lines);
  test("auto_approve is join_requests: { approve_after: 0 }; approve_after and min_quality are read", () => {
    const [c] = parseConfig(campaign("    auto_approve: true", "    approve_after: 24h", "    min_quality: 40", "    below_min_quality: skip"), {}).campaigns;
    expect(c).toMatchObject({
      join_requests: { approveAfterMs: 0, declineBelow: null, manual: false }, approve_after_ms: 86_400_000, min_quality: 40, below_min_quality: "skip",
    });
    expect(parseConfig(campaign("    join_requests: { decline_below: 30, manual: true }"), {}).campaigns[0]!.join_requests)
      .toEqual({ approveAfterMs: null, declineBelow: 30, manual: true });
  });
  test.each([
    [["    auto_approve: true", "    join_requests: { approve_after: 10m }"], "campaigns[0].auto_approve", "is join_requests: { approve_after: 0 }; set one of them"],
    [["    join_requests: { approve_after: 10m, manual: true }"], "campaigns[0].join_requests.manual", "holds requests for a person; approve_after approves them: choose one"],
    [["    join_requests: {}"], "campaigns[0].join_requests", "needs approve_after, decline_below or manual: true"],
    [["    costs: [{ date: 2025-02-30, amount: 1, currency: USD }]"], "campaigns[0].costs[0].date", '"2025-02-30" is not a date'],
    [["    costs: [{ date: 2025-02-01, amount: '-1', currency: USD }]"], "campaigns[0].costs[0].amount", '"-1" is not an amount such as 12.50 (0 or more, up to 6 decimals)'],
    [["    costs: [{ date: 2025-02-01, amount: 1, currency: dollar }]"], "campaigns[0].costs[0].currency", '"dollar" is not a currency code such as USD or EUR'],
    [["    costs: [{ date: 2025-02-01, amount: 1, currency: USD }, { date: 2025-02-01, amount: 2, currency: USD }]"], "campaigns[0].costs[1].date", "2025-02-01 is already costs[0]"],
  ])("%p → %s", (lines, path, message) => {
    expect(issuesOf(campaign(...lines)).map((i) => [i.path, i.message])).toContainEqual([path, message]);
  });
});
