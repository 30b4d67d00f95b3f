import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../../src/lib/duration.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseDuration: strings", () => {
  const cases: { input: string; expected: number }[] = [
    { input: "250ms", expected: 250 },
    { input: "0s", expected: 0 },
    { input: "90s", expected: 90 * S },
    { input: "5m", expected: 5 * M },
    { input: "2h", expected: 2 * H },
    { input: "30d", expected: 30 * D },
    { input: "1w", expected: 7 * D },
    { input: "1h30m", expected: H + 30 * M },
    { input: "1d2h3m4s5ms", expected: D + 2 * H + 3 * M + 4 * S + 5 },
    { input: "1.5h", expected: 90 * M },
    { input: "0.5s", expected: 500 },
    { input: "  10m  ", expected: 10 * M },
    { input: "3600", expected: H }, // a numeric string is taken in seconds
  ];
  test.each(cases)("$input → $expected ms", ({ input, expected }) => {
    expect(parseDuration(input)).toBe(expected);
  });

  test("5m is minutes and 5ms is milliseconds", () => {
    expect([parseDuration("5m"), parseDuration("5ms")]).toEqual([5 * M, 5]);
  });
});

describe("parseDuration: numbers", () => {
  const cases: { name: string; input: number; unit: "s" | "ms" | undefined; expected: number }[] = [
    { name: "seconds by default", input: 3600, unit: undefined, expected: H },
    { name: "zero", input: 0, unit: undefined, expected: 0 },
    { name: "fractional seconds", input: 1.5, unit: "s", expected: 1500 },
    { name: "milliseconds when asked", input: 250, unit: "ms", expected: 250 },
    { name: "fractional milliseconds are rounded", input: 2.6, unit: "ms", expected: 3 },
  ];
  test.each(cases)("$name", ({ input, unit, expected }) => {
    expect(parseDuration(input, unit)).toBe(expected);
  });

  test("a numeric string follows the number unit too", () => {
    expect(parseDuration("250", "ms")).toBe(250);
  });
});

describe("parseDuration: not a duration", () => {
  const cases: { name: string; input: unknown }[] = [
    { name: "empty string", input: "" },
    { name: "unit without number", input: "h" },
    { name: "number without unit in a compound", input: "1h30" },
    { name: "unknown unit", input: "5y" },
    { name: "minutes spelled out", input: "5min" },
    { name: "space inside", input: "5 m" },
    { name: "negative string", input: "-5s" },
    { name: "negative number", input: -1 },
    { name: "NaN", input: Number.NaN },
    { name: "Infinity", input: Number.POSITIVE_INFINITY },
    { name: "junk after a valid part", input: "10sx" },
    { name: "junk before a valid part", input: "x10s" },
    { name: "uppercase unit", input: "10S" },
    { name: "null", input: null },
    { name: "boolean", input: true },
    { name: "object", input: { s: 1 } },
  ];
  test.each(cases)("$name → undefined", ({ input }) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});

describe("formatDuration", () => {
  const cases: { ms: number; expected: string }[] = [
    { ms: 0, expected: "0ms" },
    { ms: 250, expected: "250ms" },
    { ms: 1500, expected: "1500ms" },
    { ms: 90 * S, expected: "90s" },
    { ms: 5 * M, expected: "5m" },
    { ms: 90 * M, expected: "90m" },
    { ms: 2 * H, expected: "2h" },
    { ms: 30 * D, expected: "30d" },
    { ms: 7 * D, expected: "7d" },
  ];
  test.each(cases)("$ms ms → $expected", ({ ms, expected }) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  test.each([0, 1, 999, 1000, 61 * S, 3 * H + 1, 30 * D, 12345678])("round-trips through parseDuration: %d", (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
