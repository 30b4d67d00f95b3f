// The config's one schema (src/config/schema.ts): the nearest known word for a misspelt key, the
// duration syntax it publishes, and the JSON Schema published for editors (config/tgcpa.schema.json),
// checked with a standard validator as an editor would. How the reader takes values: config.test.ts.
import { describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { readFileSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { renderConfigJsonSchema } from "../../src/config/json-schema.ts";
import { DURATION_PATTERN } from "../../src/config/schema.ts";
import { editDistance, nearest } from "../../src/config/suggest.ts";
import { parseDuration } from "../../src/lib/duration.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SCHEMA_FILE = resolve(ROOT, "config/tgcpa.schema.json");

describe("the nearest known word", () => {
  test.each([
    ["unsub_windw", "unsub_window", 1],
    ["delivry", "delivery", 1],
    ["dealy", "delay", 1], // two neighbours swapped: one edit
    ["port", "port", 0],
    ["Port", "port", 1],
    ["", "abc", 3],
    ["timeout", "timeout_ms", 3],
  ])("editDistance(%p, %p) = %p", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });

  const CAMPAIGN_KEYS = ["code", "name", "bot", "chat", "paused", "unsub_window", "postbacks", "payouts", "welcome", "auto_approve", "join_request"];
  test.each([
    ["unsub_windw", "unsub_window"],
    ["unsub-window", "unsub_window"],
    ["Paused", "paused"], // case is ignored
    ["auto_aprove", "auto_approve"],
    ["joinrequest", "join_request"],
    ["postback", "postbacks"],
    ["chatid", "chat"],
    ["colour", undefined], // nothing close
    ["foo", undefined], // short words: at most one edit ("bot" is two)
    ["x", undefined],
  ])("%p → %p", (word, expected) => {
    expect(nearest(word, CAMPAIGN_KEYS)).toBe(expected as string | undefined);
  });

  test("the closest wins, and the first of equals", () => {
    expect(nearest("timeout", ["timeout_ms", "timeouts"])).toBe("timeouts");
    expect(nearest("ab", ["ac", "ad"])).toBe("ac");
  });
});

describe("the duration syntax the schema publishes is the one lib/duration.ts reads", () => {
  const pattern = new RegExp(DURATION_PATTERN, "u");
  test.each(["30d", "90s", "250ms", "1h30m", "1.5h", "2w", " 5m ", "3600", "0", "1d2h3m4s5ms", "30 d", "30x", "d", "", "-5s", "1h 30m", "5mm", "1e3", ".5s", "5.s"])("%p", (text) => {
    expect(pattern.test(text)).toBe(parseDuration(text) !== undefined);
  });
});

const KEY = "k-0123456789abcdef0123456789abcdef";

describe("the JSON Schema for editors", () => {
  const published = readFileSync(SCHEMA_FILE, "utf8");

  test("config/tgcpa.schema.json is the schema the code reads by (regenerate: bun src/main.ts config-schema > config/tgcpa.schema.json)", () => {
    expect(published).toBe(renderConfigJsonSchema());
  });

  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addKeyword("errorMessage"); // the YAML language server's own message keyword
  const validate = ajv.compile(JSON.parse(published));
  const problems = (value: unknown) => (validate(value) ? [] : validate.errors!.map((e) => e.instancePath));

  test.each(["config/example.yaml", "deploy/tgcpa.yaml"])("%s names the schema on its first line and passes it", (file) => {
    const text = readFileSync(resolve(ROOT, file), "utf8");
    const schemaRef = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
    // deploy/tgcpa.schema.json is a link to the one file (a copy in the kit): the same schema.
    expect(schemaRef && realpathSync(resolve(dirname(resolve(ROOT, file)), schemaRef))).toBe(realpathSync(SCHEMA_FILE));
    expect(problems(parse(text))).toEqual([]);
  });

  test.each([
    { name: "${VAR} for a number, a word and a boolean", value: { api_keys: ["${K}"], server: { port: "${PORT:-8080}" }, log: { level: "${LEVEL}" }, demo_tracker: "${DEMO}" } },
    { name: "numbers where text is meant", value: { api_keys: [KEY], account_id: 1, campaigns: [{ code: "a", payouts: { approve: { payout: 1.5 } } }] } },
    { name: "empty keys", value: { api_keys: [KEY], server: null, campaigns: [{ code: "a", bot: null, welcome: null, postbacks: null }] } },
    { name: "every kind of template", value: { api_keys: [KEY], postbacks: { wait: "https://t.example/?c={click}", hold: "", approve: [{ url: "https://c.example/", json: { a: "{click}" } }, { destination: "kt" }], destination: ["kt"] } } },
  ])("accepted as the service accepts it: $name", ({ value }) => {
    expect(problems(value)).toEqual([]);
  });

  test.each([
    { name: "a misspelt key", value: { api_keys: [KEY], campaigns: [{ code: "a", unsub_windw: "1d" }] }, at: "/campaigns/0" },
    { name: "a word outside the list", value: { api_keys: [KEY], log: { level: "loud" } }, at: "/log/level" },
    { name: "a port out of range", value: { api_keys: [KEY], server: { port: 70000 } }, at: "/server/port" },
    { name: "a campaign code with -", value: { api_keys: [KEY], campaigns: [{ code: "a-b" }] }, at: "/campaigns/0/code" },
    { name: "a campaign without a code", value: { api_keys: [KEY], campaigns: [{ name: "x" }] }, at: "/campaigns/0" },
    { name: "no API key", value: { server: { port: 1 } }, at: "" },
    { name: "an empty list of API keys", value: { api_keys: [] }, at: "/api_keys" },
    { name: "an API key shorter than 32 characters", value: { api_keys: ["short-key"] }, at: "/api_keys/0" },
    { name: "an inbound key shorter than 32 characters", value: { api_keys: [KEY], inbound_keys: ["short"] }, at: "/inbound_keys/0" },
    { name: "a duration that is not one", value: { api_keys: [KEY], delivery: { retention: "a month" } }, at: "/delivery/retention" },
    { name: "a bot name with a space", value: { api_keys: [KEY], bots: { "my bot": { token: "1:x" } } }, at: "/bots" },
  ])("flagged where the mistake is: $name", ({ value, at }) => {
    expect(problems(value)).toContain(at);
  });
});
