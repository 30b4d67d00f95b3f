import { expect, test } from "bun:test";
import { csvCell, csvLine, type Cell } from "../../src/export/csv.ts";

test.each<[Cell, string]>([
  ["plain", "plain"],
  ["", ""],
  [null, ""],
  [undefined, ""],
  [42, "42"],
  [-1001234567890, "-1001234567890"], // a number is never taken for a formula
  [Number.NaN, ""],
  ["a,b", '"a,b"'],
  ['say "hi"', '"say ""hi"""'],
  ["two\nlines", '"two\nlines"'],
  ["cr\rhere", '"cr\rhere"'],
  ["=1+1", "'=1+1"],
  ["+1+1", "'+1+1"],
  ["-2+3", "'-2+3"],
  ["@SUM(A1)", "'@SUM(A1)"],
  ["\t=1", "'\t=1"],
  ["\r=1", "\"'\r=1\""],
  ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
  ["a=b", "a=b"], // only the first character makes a formula
  ["'quoted", "'quoted"],
])("csvCell(%p) → %p", (value, expected) => {
  expect(csvCell(value)).toBe(expected);
});

test("a record ends with CRLF", () => {
  expect(csvLine(["id", 1, null, "x,y"])).toBe('id,1,,"x,y"\r\n');
});
