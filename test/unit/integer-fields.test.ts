import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { coerceIntegerText, integerFields } from "../../src/http/integer-fields.ts";
import { Int } from "../../src/http/schema.ts";

describe("coerceIntegerText", () => {
  const cases: [string, unknown, unknown][] = [
    ["decimal text", "42", 42],
    ["a negative id", "-1001234567890", -1001234567890],
    ["16 digits, safe", "9007199254740991", 9007199254740991],
    ["past the safe range: left for validation to refuse", "9007199254740993", "9007199254740993"],
    ["17 digits", "12345678901234567", "12345678901234567"],
    ["a fraction", "1.5", "1.5"],
    ["an exponent", "1e3", "1e3"],
    ["hex", "0x10", "0x10"],
    ["blank", " ", " "],
    ["a space before", " 5", " 5"],
    ["empty", "", ""],
    ["already a number", 7, 7],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      const values: Record<string, unknown> = { n: input, other: "42" };
      coerceIntegerText(values, ["n"]);
      expect(values).toEqual({ n: expected, other: "42" }); // only the named field
    });
  }
  test("not an object: nothing happens", () => {
    expect(() => coerceIntegerText(undefined, ["n"])).not.toThrow();
    expect(() => coerceIntegerText(["1"], ["0"])).not.toThrow();
  });
});

test("integerFields lists each route's top-level integer fields of query, path and body", () => {
  const app = new Elysia()
    .get("/a/:id", () => "", { params: t.Object({ id: Int() }), query: t.Object({ limit: t.Optional(Int()), q: t.Optional(t.String()) }) })
    .post("/b", () => "", { body: t.Object({ n: Int(), inner: t.Object({ m: Int() }) }) })
    .get("/c", () => "");
  expect([...integerFields(app.routes)]).toEqual([
    ["GET /a/:id", { query: ["limit"], params: ["id"], body: [] }],
    ["POST /b", { query: [], params: [], body: ["n"] }],
  ]);
});
