import { describe, expect, test } from "bun:test";
import { formatAmount, isDate, parseAmount, parseCostCsv, perHead, revenueOf } from "../../src/domain/money.ts";

describe("parseAmount / formatAmount (millionths, exact)", () => {
  test.each([
    ["12.5", 12_500_000], ["12,50", 12_500_000], ["0", 0], ["-3", -3_000_000], ["0.000001", 1], [7, 7_000_000], [" 1.25 ", 1_250_000],
    ["1.0000001", null], ["1e3", null], ["", null], ["abc", null], ["1.2.3", null], ["1234567890123", null],
  ] as const)("%p → %p", (text, micros) => expect(parseAmount(text)).toBe(micros));
  test.each([[12_500_000, "12.50"], [1, "0.000001"], [1_666_667, "1.666667"], [-2_500_000, "-2.50"], [0, "0.00"], [100_000, "0.10"]] as const)("%d → %s", (m, s) => {
    expect(formatAmount(m)).toBe(s);
  });
  test("0.1 + 0.2 in millionths is exactly 0.30", () => expect(formatAmount(parseAmount("0.1")! + parseAmount("0.2")!)).toBe("0.30"));
});

describe("revenueOf: an event earns its payout only when it was reported", () => {
  const usd = { payout: "1.50", currency: "usd" };
  test.each([
    ["configured payout, reported", { payout: null, currency: null }, usd, true, { micros: 1_500_000, currency: "USD" }],
    ["an inbound postback's payout wins", { payout: "3", currency: "EUR" }, usd, true, { micros: 3_000_000, currency: "EUR" }],
    ["an inbound payout without currency takes none", { payout: "3", currency: null }, undefined, true, { micros: 3_000_000, currency: "" }],
    ["withheld or skipped: nothing", { payout: null, currency: null }, usd, false, null],
    ["no payout configured", { payout: null, currency: null }, undefined, true, null],
    ["a payout that is not a number", { payout: "{x}", currency: null }, undefined, true, null],
    ["a zero payout", { payout: "0", currency: "USD" }, undefined, true, null],
  ] as const)("%s", (_n, event, configured, reported, expected) => expect(revenueOf(event, configured, reported)).toEqual(expected as never));
});

test("perHead rounds to a millionth; no head, no ratio", () => {
  expect(perHead(5_000_000, 3)).toBe(1_666_667);
  expect(perHead(5_000_000, 0)).toBeNull();
  expect(perHead(5_000_000, null)).toBeNull();
});

test.each([["2024-02-29", true], ["2023-02-29", false], ["2024-13-01", false], ["2024-1-01", false]] as const)("isDate(%s) = %p", (s, ok) => expect(isDate(s)).toBe(ok));

describe("parseCostCsv: every line or its problems, by line number", () => {
  const known = (c: string) => c === "spring" || c === "autumn";
  test("a header, blank lines, ; as separator, quoted cells", () => {
    const r = parseCostCsv('campaign,date,amount,currency\nspring,2024-05-01,50,usd\n\n"autumn","2024-05-01","12.5","EUR"\nspring;2024-05-02;0;USD\n', known);
    expect(r.problems).toEqual([]);
    expect(r.lines).toEqual([
      { line: 2, campaign: "spring", date: "2024-05-01", micros: 50_000_000, currency: "USD" },
      { line: 4, campaign: "autumn", date: "2024-05-01", micros: 12_500_000, currency: "EUR" },
      { line: 5, campaign: "spring", date: "2024-05-02", micros: 0, currency: "USD" },
    ]);
  });
  test("each bad line is named", () => {
    const r = parseCostCsv([
      "spring,2024-05-01,50,USD", "winter,2024-05-01,1,USD", "spring,2024-02-30,1,USD", "spring,2024-05-02,-1,USD", "spring,2024-05-03,1,dollars",
      "spring,2024-05-01,60,USD", "spring,2024-05-04,1",
    ].join("\n"), known);
    expect(r.problems).toEqual([
      { line: 2, message: 'unknown campaign "winter"' },
      { line: 3, message: '"2024-02-30" is not a date (YYYY-MM-DD)' },
      { line: 4, message: '"-1" is not an amount such as 12.50 (0 or more, up to 6 decimals)' },
      { line: 5, message: '"dollars" is not a currency code such as USD or EUR' },
      { line: 6, message: "spring 2024-05-01 is already on line 1" },
      { line: 7, message: "has 3 fields; expected 4: campaign,date,amount,currency" },
    ]);
  });
});
