import { describe, expect, test } from "bun:test";
import { bodyFieldDetails, declaredParams, unknownParamDetails, unknownParams } from "../../src/http/unknown-params.ts";

describe("unknownParams", () => {
  const declared = ["state", "status", "limit"];
  const cases: [string, string[]][] = [
    ["http://h/api/postbacks", []],
    ["http://h/api/postbacks?state=failed&limit=5", []],
    ["http://h/api/postbacks?key=abc", []],
    ["http://h/api/postbacks?statu=approve", ["statu"]],
    ["http://h/api/postbacks?foo=1&state=x&foo=2&Key=k", ["foo", "Key"]],
    ["http://h/api/postbacks?", []],
    ["http://h/api/postbacks?%73tate=x", []], // percent-encoded "state"
  ];
  test.each(cases)("%s → %p", (url, expected) => {
    expect(unknownParams(url, declared)).toEqual(expected);
  });
});

test("declaredParams reads each route's query schema; a route without one declares none", () => {
  const map = declaredParams([
    { method: "GET", path: "/api/leads", hooks: { query: { type: "object", properties: { campaign: {}, limit: {} } } } },
    { method: "GET", path: "/api/bots", hooks: {} },
  ], "query");
  expect(Object.fromEntries(map)).toEqual({ "GET /api/leads": ["campaign", "limit"], "GET /api/bots": [] });
});

test("declaredParams reads each route's body fields; routes without an object body are not checked", () => {
  const map = declaredParams([
    { method: "POST", path: "/api/postbacks/retry", hooks: { body: { type: "object", properties: { state: {}, dry_run: {} } } } },
    { method: "POST", path: "/api/config/reload", hooks: {} },
  ], "body");
  expect(Object.fromEntries(map)).toEqual({ "POST /api/postbacks/retry": ["state", "dry_run"] });
});

test.each([
  [{ dry_run: true }, []],
  [undefined, []],
  [{ dryrun: true, campain: "x" }, [
    { field: "body.dryrun", message: "unknown field (known: state, dry_run)" },
    { field: "body.campain", message: "unknown field (known: state, dry_run)" },
  ]],
  [[], [{ field: "body", message: "must be a JSON object" }]],
  ["text", [{ field: "body", message: "must be a JSON object" }]],
])("bodyFieldDetails(%p)", (body, expected) => {
  expect(bodyFieldDetails(body, ["state", "dry_run"])).toEqual(expected);
});

test("unknownParamDetails names the parameter and what the route takes", () => {
  expect(unknownParamDetails(["x"], ["a", "b"])).toEqual([{ field: "query.x", message: "unknown parameter (known: a, b)" }]);
  expect(unknownParamDetails(["x"], [])).toEqual([{ field: "query.x", message: "unknown parameter (this route takes no query parameters)" }]);
});
