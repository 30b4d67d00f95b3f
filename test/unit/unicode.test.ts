import { describe, expect, test } from "bun:test";
import { illFormedField } from "../../src/http/unicode.ts";

/** JSON text → value, so lone surrogates arrive exactly as a client's JSON body brings them. */
const json = (text: string): unknown => JSON.parse(text);

describe("illFormedField", () => {
  const cases: { name: string; value: unknown; expected: string | null }[] = [
    { name: "well-formed strings, numbers, null, nesting", value: json('{"a":"x","b":1,"c":null,"d":[true,{"e":"😀 ключ"}]}'), expected: null },
    { name: "a surrogate pair is well-formed", value: json('{"a":"\\ud83d\\ude00"}'), expected: null },
    { name: "a lone high surrogate in a field", value: json('{"campaign":"c1","click":"\\ud800"}'), expected: "body.click" },
    { name: "a lone low surrogate inside a value", value: json('{"username":"ab\\udfffcd"}'), expected: "body.username" },
    { name: "a reversed pair", value: json('{"payout":"\\ude00\\ud83d"}'), expected: "body.payout" },
    { name: "an element of an array", value: json('{"items":["ok","\\ud800"]}'), expected: "body.items[1]" },
    { name: "a field of an object in an array", value: json('{"items":[{"name":"ok"},{"name":"x\\udc00"}]}'), expected: "body.items[1].name" },
    { name: "an object key", value: json('{"\\ud800":"value"}'), expected: 'body["\uFFFD"]' },
    { name: "a key that is no identifier", value: json('{"we ird":"\\ud800"}'), expected: 'body["we ird"]' },
    { name: "a bare string body", value: json('"\\ud800"'), expected: "body" },
    { name: "a __proto__ key is an ordinary field", value: json('{"__proto__":"\\ud800"}'), expected: "body.__proto__" },
  ];
  test.each(cases)("$name → $expected", ({ value, expected }) => {
    expect(illFormedField(value, "body")).toBe(expected);
  });

  test("a body nested 100,000 levels deep is walked without a stack overflow", () => {
    const deep = json(`${"[".repeat(100_000)}"\\ud800"${"]".repeat(100_000)}`);
    expect(illFormedField(deep, "body")).toStartWith("body[0][0]");
  });

  test("a Blob (multipart file) is not looked into", () => {
    expect(illFormedField({ file: new Blob(["\ud800"]) }, "body")).toBeNull();
  });
});
