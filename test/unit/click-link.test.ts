// The click link's rules (src/domain/click-link.ts, src/clicks/decide.ts) as tables.
import { describe, expect, test } from "bun:test";
import {
  CLICK_TOKEN_LENGTH, MAX_CLICK_LINK_CODE, boundClickParams, clickToken, cutToBytes, fbcFromFbclid, isClickToken, isLinkPreviewCrawler,
  leadClickOf, maxClickLength, metaCookies, startPayloadProblem,
} from "../../src/domain/click-link.ts";
import { decideClick, type ClickCampaign } from "../../src/clicks/decide.ts";
import { clickGroupAdds } from "../../src/stats/counters.ts";
import { clickRanges, groupOf } from "../../src/stats/click-groups.ts";

describe("the Start payload", () => {
  test("a token is 12 base64url characters of 9 bytes; the longest code that leaves it room is 51", () => {
    expect(clickToken(new Uint8Array([0xfb, 0xff, 0xbf, 0, 1, 2, 3, 4, 5]))).toBe("-_-_AAECAwQF");
    expect(CLICK_TOKEN_LENGTH).toBe(12);
    expect(MAX_CLICK_LINK_CODE).toBe(51);
    expect(`${"c".repeat(MAX_CLICK_LINK_CODE)}-${clickToken(new Uint8Array(9))}`).toHaveLength(64);
  });

  test.each([
    ["Xk3vQ9aLm2Tb", true], ["-_-_AAECAwQF", true], ["Xk3vQ9aLm2T", false], ["Xk3vQ9aLm2Tbb", false], ["Xk3vQ9aLm2T+", false], ["", false],
  ])("isClickToken(%p) is %p", (click, expected) => expect(isClickToken(click)).toBe(expected));

  test.each([
    { code: "spring", click: "abc", problem: null },
    { code: "spring", click: "", problem: null },
    { code: "spring", click: "x".repeat(57), problem: null },
    { code: "spring", click: "x".repeat(58), problem: 'would be 65 characters; Telegram carries at most 64, so with the code "spring" a click id may be at most 57 characters' },
    { code: "spring", click: "a+b", problem: "carries only A-Z a-z 0-9 _ -" },
  ])("$code-$click → $problem", ({ code, click, problem }) => {
    const got = startPayloadProblem(code, click);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
  });

  test("max click length is 64 − code − 1", () => {
    expect(maxClickLength("spring")).toBe(57);
    expect(maxClickLength("c".repeat(63))).toBe(0);
  });
});

describe("what a click keeps", () => {
  test("every parameter, the first of each name; values cut at 512 bytes on a character boundary; at most 50 names of at most 64 bytes", () => {
    const many = Array.from({ length: 55 }, (_, i) => `p${i}=${i}`).join("&");
    const { params, cut } = boundClickParams(`utm_source=fb&utm_source=ig&${"n".repeat(65)}=x&long=${"é".repeat(300)}&${many}`);
    expect(params.utm_source).toBe("fb");
    expect(Object.keys(params)).toHaveLength(50);
    expect(params[`${"n".repeat(65)}`]).toBeUndefined();
    expect(params.long).toBe("é".repeat(256)); // 512 bytes of 2-byte characters
    expect(params.p47).toBe("47");
    expect(params.p48).toBeUndefined();
    // the second utm_source, the long name, the cut value, p48…p54
    expect(cut).toBe(1 + 1 + 1 + 7);
  });

  test("decoding as a browser's form: + is a space, %2B a plus, bad UTF-8 a replacement character", () => {
    expect(boundClickParams("a=x+y&b=x%2By&c=%FF").params).toEqual({ a: "x y", b: "x+y", c: "\uFFFD" });
  });

  test("prototype names are plain keys", () => {
    const { params } = boundClickParams("__proto__=p&constructor=c");
    expect(Object.keys(params)).toEqual(["__proto__", "constructor"]);
    expect(params["constructor"] as unknown).toBe("c");
  });

  test("cutToBytes never splits a character", () => {
    expect(cutToBytes("aé", 2)).toBe("a");
    expect(cutToBytes("😀😀", 7)).toBe("😀");
    expect(cutToBytes("short", 512)).toBe("short");
  });

  test.each([
    ["_fbp=fb.1.1596403881668.1116446470; _fbc=fb.1.1596403881668.IwAR2x", { fbc: "fb.1.1596403881668.IwAR2x", fbp: "fb.1.1596403881668.1116446470" }],
    ["other=1; _fbc=fb.1.1.AbC%3D", { fbc: "fb.1.1.AbC=" }],
    ["_fbc=", {}],
    [null, {}],
  ])("cookies %p → %p", (header, expected) => expect(metaCookies(header)).toEqual(expected));

  test("fbc built from an fbclid: fb.1.<ms>.<fbclid>, the fbclid's case kept", () => {
    expect(fbcFromFbclid("IwAR2xYz_AbC", 1714557600123)).toBe("fb.1.1714557600123.IwAR2xYz_AbC");
  });
});

describe("link-preview crawlers", () => {
  test.each([
    ["TelegramBot (like TwitterBot)", true],
    ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true],
    ["Twitterbot/1.0", true],
    ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", true],
    ["WhatsApp/2.23.20.0 A", true],
    ["Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", true],
    ["LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", true],
    ["Mozilla/5.0 (compatible; SomeNewBot/0.1; +https://example.com/bot)", true],
    ["AdsBot-Google (+http://www.google.com/adsbot.html)", true],
    // People, in browsers and in-app browsers:
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0]", false],
    ["Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 Instagram 340.0", false],
    ["Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36 musical_ly_2023405040", false],
    ["Mozilla/5.0 (Linux; Android 9; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", false],
    ["", false],
    [null, false],
  ])("%p → %p", (ua, expected) => expect(isLinkPreviewCrawler(ua)).toBe(expected));
});

describe("the lead's {click} for a token Start", () => {
  test.each<{ params: Record<string, string>; clickParam: string | null; expected: string }>([
    { params: { subid: "trk-1234567890" }, clickParam: "subid", expected: "trk-1234567890" },
    { params: { subid: "  " }, clickParam: "subid", expected: "Xk3vQ9aLm2Tb" },
    { params: {}, clickParam: "subid", expected: "Xk3vQ9aLm2Tb" },
    { params: { subid: "trk" }, clickParam: null, expected: "Xk3vQ9aLm2Tb" },
  ])("$params with click_param $clickParam → $expected", ({ params, clickParam, expected }) => {
    expect(leadClickOf("Xk3vQ9aLm2Tb", params, clickParam)).toBe(expected);
  });
});

describe("what the click link does with a request", () => {
  const live: ClickCampaign = { code: "spring", paused: false, mode: "redirect", bot: "main", username: "spring_bot" };
  const browser = { method: "GET", userAgent: "Mozilla/5.0 (iPhone)" };
  test.each([
    { name: "an unknown campaign", campaign: null, req: browser, limited: false, expected: { kind: "refuse", status: 404, reason: "unknown_campaign" } },
    { name: "mode off", campaign: { ...live, mode: "off" as const }, req: browser, limited: false, expected: { kind: "refuse", status: 404, reason: "click_link_off" } },
    { name: "no bot", campaign: { ...live, bot: null }, req: browser, limited: false, expected: { kind: "refuse", status: 404, reason: "no_bot" } },
    { name: "a code too long for code-token (check-config refuses it)", campaign: { ...live, code: "c".repeat(52) }, req: browser, limited: false, expected: { kind: "refuse", status: 404, reason: "code_too_long" } },
    { name: "paused", campaign: { ...live, paused: true }, req: browser, limited: false, expected: { kind: "refuse", status: 410, reason: "campaign_paused" } },
    { name: "a bot without a username yet", campaign: { ...live, username: null }, req: browser, limited: false, expected: { kind: "refuse", status: 503, reason: "bot_not_connected" } },
    { name: "a person", campaign: live, req: browser, limited: false, expected: { kind: "send", username: "spring_bot", page: false, record: true } },
    { name: "a person, page mode", campaign: { ...live, mode: "page" as const }, req: browser, limited: false, expected: { kind: "send", username: "spring_bot", page: true, record: true } },
    { name: "a HEAD", campaign: live, req: { ...browser, method: "HEAD" }, limited: false, expected: { kind: "send", username: "spring_bot", page: false, record: false, why: "head" } },
    { name: "a crawler", campaign: live, req: { method: "GET", userAgent: "TelegramBot (like TwitterBot)" }, limited: false, expected: { kind: "send", username: "spring_bot", page: false, record: false, why: "crawler" } },
    { name: "past the rate limit", campaign: live, req: browser, limited: true, expected: { kind: "send", username: "spring_bot", page: false, record: false, why: "rate_limited" } },
  ])("$name", ({ campaign, req, limited, expected }) => {
    let asked = 0;
    expect(decideClick(campaign, req, () => (asked++, limited))).toEqual(expected as never);
    // The limit is asked (a token taken) only for a request that would record a click.
    expect(asked).toBe(expected.kind === "send" && (expected.record || (expected as { why?: string }).why === "rate_limited") ? 1 : 0);
  });
});

describe("the funnel per click parameter", () => {
  test("each counted parameter the click carries adds its value in the event's quarter hour and UTC day; empty ones add nothing", () => {
    const event = { campaignId: 3, status: "wait", occurredAt: Date.UTC(2026, 0, 1, 10, 7) };
    const adds = clickGroupAdds(event, true, { utm_source: "fb", utm_campaign: " ", sub1: "set-a", other: "x" }, ["utm_source", "utm_campaign", "sub1", "sub2"]);
    const base = { campaignId: 3, status: "wait", events: 1, leads: 1 };
    expect(adds).toEqual([
      { ...base, param: "utm_source", value: "fb", span: 15, bucket: Date.UTC(2026, 0, 1, 10, 0) },
      { ...base, param: "utm_source", value: "fb", span: 1440, bucket: Date.UTC(2026, 0, 1) },
      { ...base, param: "sub1", value: "set-a", span: 15, bucket: Date.UTC(2026, 0, 1, 10, 0) },
      { ...base, param: "sub1", value: "set-a", span: 1440, bucket: Date.UTC(2026, 0, 1) },
    ]);
    expect(clickGroupAdds(event, false, { utm_source: "fb" }, ["utm_source"]).map((a) => a.leads)).toEqual([0, 0]);
  });

  const D = 86_400_000;
  const Q = 900_000;
  test.each([
    { name: "a period inside one UTC day: quarters only", since: D + 4 * Q, until: D + 40 * Q, ranges: [{ span: 15, from: D + 4 * Q, to: D + 40 * Q }] },
    { name: "whole UTC days: day rows only", since: D, until: 4 * D, ranges: [{ span: 1440, from: D, to: 4 * D }] },
    {
      name: "Moscow's days (UTC+3): the ends in quarters, the whole days between in days", since: D - 12 * Q, until: 31 * D - 12 * Q,
      ranges: [{ span: 15, from: D - 12 * Q, to: D }, { span: 1440, from: D, to: 30 * D }, { span: 15, from: 30 * D, to: 31 * D - 12 * Q }],
    },
    { name: "across midnight, no whole day", since: D - 4 * Q, until: D + 4 * Q, ranges: [{ span: 15, from: D - 4 * Q, to: D + 4 * Q }] },
    { name: "empty", since: D, until: D, ranges: [] },
  ])("$name", ({ since, until, ranges }) => expect(clickRanges(since, until)).toEqual(ranges as never));

  test("groupOf: values by Starts, the rest in others past 100, without = totals less every value", () => {
    const rows = [
      ...Array.from({ length: 102 }, (_, i) => ({ value: `v${String(i).padStart(3, "0")}`, status: "wait", events: 1, leads: 1 })),
      { value: "v000", status: "wait", events: 2, leads: 2 }, { value: "v000", status: "approve", events: 1, leads: 1 },
    ];
    const totals = { events: { wait: 110, hold: 0, approve: 2, cancel: 0, trash: 0 }, leads: { wait: 110, hold: 0, approve: 2, cancel: 0, trash: 0 } };
    const g = groupOf("sub1", [rows], totals);
    expect(g.values).toHaveLength(100);
    expect(g.values[0]).toMatchObject({ value: "v000", leads: { wait: 3, approve: 1 }, rates: { joins_per_start: 0.3333 } });
    expect(g.others).toMatchObject({ values: 2, leads: { wait: 2 } });
    expect(g.without.leads).toEqual({ wait: 110 - 104, hold: 0, approve: 1, cancel: 0, trash: 0 });
  });
});
