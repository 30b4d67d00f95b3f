import { describe, expect, test } from "bun:test";
import { chooseVariant, languageFits, seedFraction, type VariantChoice } from "../../src/domain/welcome-variant.ts";

const v = (name: string, languages: string[] = [], weight = 1): VariantChoice => ({ name, languages, weight });

describe("languageFits", () => {
  test.each([
    ["ru", "ru", true], ["ru-RU", "ru", true], ["RU", "ru", true], ["pt-br", "pt-br", true], ["pt", "pt-br", false], ["uk", "ru", false], ["en-GB", "en-US", false],
  ] as const)("%s fits %s: %p", (s, w, fits) => expect(languageFits(s, w)).toBe(fits));
});

describe("chooseVariant by language first", () => {
  const variants = [v("ru", ["ru", "uk"]), v("en", ["en"]), v("any")];
  test.each([
    ["ru-RU", 0], ["uk", 1 - 1], ["en-US", 1], ["de", 2], [null, 2],
  ] as const)("language %p → variant %d", (language, index) => {
    for (let s = 0; s < 20; s++) expect(chooseVariant(variants, language, `spring:${s}`)).toBe(index);
  });
  test("no variant for any language: an unmatched language falls back to all of them", () => {
    const only = [v("ru", ["ru"]), v("en", ["en"])];
    const picked = new Set(Array.from({ length: 200 }, (_, s) => chooseVariant(only, "de", `c:${s}`)));
    expect([...picked].sort()).toEqual([0, 1]);
  });
});

describe("chooseVariant by weight, seeded", () => {
  test("the same seed gives the same variant every time (a repeated Start)", () => {
    const variants = [v("a", [], 1), v("b", [], 1), v("c", [], 1)];
    for (let s = 0; s < 50; s++) {
      const first = chooseVariant(variants, "en", `spring:${1000 + s}`);
      for (let again = 0; again < 5; again++) expect(chooseVariant(variants, "en", `spring:${1000 + s}`)).toBe(first);
    }
  });
  test("shares follow the weights (3:1 over 20,000 subscribers, within 2 points)", () => {
    const variants = [v("a", [], 3), v("b", [], 1)];
    let a = 0;
    const n = 20_000;
    for (let s = 0; s < n; s++) if (chooseVariant(variants, null, `spring:${100_000_000 + s * 7919}`) === 0) a++;
    expect(Math.abs(a / n - 0.75)).toBeLessThan(0.02);
  });
  test("a weight picks only among the variants that fit the language", () => {
    const variants = [v("ru-a", ["ru"], 1), v("ru-b", ["ru"], 1), v("en", ["en"], 100)];
    const picked = new Set(Array.from({ length: 300 }, (_, s) => chooseVariant(variants, "ru", `c:${s}`)));
    expect([...picked].sort()).toEqual([0, 1]);
  });
  test("one variant (a plain welcome) is always it", () => expect(chooseVariant([v("only")], "ru", "x")).toBe(0));
  test("seedFraction is stable across releases for a fixed seed (FNV-1a 32-bit, then fmix32)", () => {
    expect(seedFraction("")).toBe(2872998923 / 2 ** 32);
    expect(seedFraction("a")).toBe(444641715 / 2 ** 32);
  });
  test("consecutive subscriber ids spread over the whole range (the high bits move)", () => {
    const fractions = Array.from({ length: 1000 }, (_, i) => seedFraction(`spring:${4_318_000_000 + i}`));
    for (let tenth = 0; tenth < 10; tenth++) {
      const n = fractions.filter((f) => Math.floor(f * 10) === tenth).length;
      expect(n).toBeGreaterThan(60);
      expect(n).toBeLessThan(140);
    }
  });
});
