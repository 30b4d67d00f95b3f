// The config's one schema (src/config/schema.ts): how the reader takes values as people and ${ENV}
// write them, the nearest known key for a misspelt one, and the JSON Schema published for editors
// (config/tgcpa.schema.json), checked with a standard validator as an editor would.
import { describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { renderConfigJsonSchema } from "../../src/config/json-schema.ts";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/model.ts";
import { DURATION_PATTERN } from "../../src/config/schema.ts";
import { editDistance, nearest } from "../../src/config/suggest.ts";
import { parseDuration } from "../../src/lib/duration.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SCHEMA_FILE = resolve(ROOT, "config/tgcpa.schema.json");
const yaml = (...lines: string[]) => lines.join("\n") + "\n";
type Env = Record<string, string | undefined>;

function issuesOf(text: string, env: Env = {}) {
  try {
    parseConfig(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError, the config loaded");
}

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

describe("an unknown key names the nearest known one, with its path and line", () => {
  test.each([
    { text: yaml("api_keys: [k]", "campaigns:", "  - code: a", "    unsub_windw: 1d"), path: "campaigns[0].unsub_windw", line: 4, message: 'unknown key "unsub_windw" (did you mean "unsub_window"?)' },
    { text: yaml("api_keys: [k]", "delivry: { timeout_ms: 5000 }"), path: "delivry", line: 2, message: 'unknown key "delivry" (did you mean "delivery"?)' },
    { text: yaml("api_keys: [k]", "server:", "  prot: 80"), path: "server.prot", line: 3, message: 'unknown key "prot" (did you mean "port"?)' },
    { text: yaml("api_keys: [k]", "delivery: { timeout: 5000 }"), path: "delivery.timeout", line: 2, message: 'unknown key "timeout" (did you mean "timeout_ms"?)' },
    { text: yaml("api_keys: [k]", "destinations:", "  kt: { preset: keitaro, domain: t.example, key: abc, verdcit: status }"), path: "destinations.kt.verdcit", line: 3, message: 'unknown key "verdcit" (did you mean "verdict"?)' },
    { text: yaml("api_keys: [k]", "postbacks: { aprove: 'https://t.example/?c={click}' }"), path: "postbacks.aprove", line: 2, message: 'unknown key "aprove" (did you mean "approve"?)' },
    {
      text: yaml("api_keys: [k]", "dashboard: { colour: red }"), path: "dashboard.colour", line: 2,
      message: 'unknown key "colour" (expected one of: timezone, session_ttl)',
    },
  ])("$path", ({ text, path, line, message }) => {
    expect(issuesOf(text)).toEqual([{ path, line, message }]);
  });
});

describe("values as people and ${ENV} write them", () => {
  const cases: { name: string; text: string; env?: Env; pick: (c: Config) => unknown; expected: unknown }[] = [
    { name: "a whole number from ${VAR}", text: yaml("api_keys: [k]", "storage: { busy_timeout_ms: '${T}' }"), env: { T: "250" }, pick: (c) => c.storage.busy_timeout_ms, expected: 250 },
    { name: "a fraction from ${VAR}", text: yaml("api_keys: [k]", "delivery: { jitter: '${J}' }"), env: { J: "0.5" }, pick: (c) => c.delivery.jitter, expected: 0.5 },
    { name: "true and false from ${VAR}", text: yaml("api_keys: [k]", "demo_tracker: '${DEMO}'"), env: { DEMO: "true" }, pick: (c) => c.demo_tracker, expected: true },
    { name: "a chat id from ${VAR}", text: yaml("api_keys: [k]", "campaigns: [{ code: a, chat: '${CHAT}' }]"), env: { CHAT: "-1001234567890" }, pick: (c) => c.campaigns[0]!.chat, expected: -1001234567890 },
    { name: "a duration from ${VAR}", text: yaml("api_keys: [k]", "campaigns: [{ code: a, unsub_window: '${W:-2d}' }]"), pick: (c) => c.campaigns[0]!.unsub_window_ms, expected: 2 * 86_400_000 },
    { name: "a word in any case, given back as documented", text: yaml("api_keys: [k]", "storage: { synchronous: '${SYNC}' }", "log: { level: DEBUG }"), env: { SYNC: "normal" }, pick: (c) => [c.storage.synchronous, c.log.level], expected: ["NORMAL", "debug"] },
    { name: "a number where text is meant", text: yaml("api_keys: [12345]", "account_id: 7"), pick: (c) => [c.api_keys, c.account_id], expected: [["12345"], "7"] },
    { name: "a payout written as a number", text: yaml("api_keys: [k]", "campaigns: [{ code: a, payouts: { approve: { payout: 1.5 } } }]"), pick: (c) => c.campaigns[0]!.payouts, expected: { approve: { payout: "1.5", currency: "" } } },
    { name: "an empty key is left out: its default applies", text: yaml("api_keys: [k]", "server:", "  port:", "log:"), pick: (c) => [c.server.port, c.log], expected: [8080, { level: "info", format: "json" }] },
    { name: "lease_ms left out follows timeout_ms", text: yaml("api_keys: [k]", "delivery: { timeout_ms: 40000 }"), pick: (c) => c.delivery.lease_ms, expected: 80_000 },
    { name: "max_per_second left out follows paid_broadcast", text: yaml("api_keys: [k]", "bots: { a: { token: '1:x' }, b: { token: '2:y', paid_broadcast: true } }"), pick: (c) => [c.bots.a!.max_per_second, c.bots.b!.max_per_second], expected: [25, 1000] },
    { name: "an empty retry step is 0s", text: yaml("api_keys: [k]", "delivery:", "  retry_ladder:", "    -", "    - 1m"), pick: (c) => c.delivery.retry_ladder_ms, expected: [0, 60_000] },
  ];
  test.each(cases)("$name", ({ text, env, pick, expected }) => {
    expect(pick(parseConfig(text, env ?? {}))).toEqual(expected);
  });

  const refused: { name: string; text: string; env?: Env; path: string; message: string }[] = [
    { name: "a fraction where a whole number is meant", text: yaml("api_keys: [k]", "server: { port: '${P}' }"), env: { P: "80.5" }, path: "server.port", message: "must be a whole number" },
    { name: "a number out of range", text: yaml("api_keys: [k]", "server: { port: 70000 }"), path: "server.port", message: "must be between 0 and 65535" },
    { name: "yes is not true", text: yaml("api_keys: [k]", "demo_tracker: 'yes'"), path: "demo_tracker", message: "must be true or false" },
    { name: "1 is not true", text: yaml("api_keys: [k]", "demo_tracker: 1"), path: "demo_tracker", message: "must be true or false" },
    { name: "a word outside the list", text: yaml("api_keys: [k]", "bots: { a: { token: '1:x', mode: push } }"), path: "bots.a.mode", message: "must be one of: polling, webhook" },
    { name: "a duration that is not one, quoted in the message", text: yaml("api_keys: [k]", "delivery: { retention: 'a month' }"), path: "delivery.retention", message: '"a month" must be a duration such as 90s, 5m, 2h, 30d (a plain number is seconds)' },
    { name: "a negative duration", text: yaml("api_keys: [k]", "delivery: { circuit_cooldown: -5 }"), path: "delivery.circuit_cooldown", message: "must be a duration such as 90s, 5m, 2h, 30d (a plain number is seconds)" },
    { name: "a mapping where a list is meant", text: yaml("api_keys: [k]", "campaigns: { code: a }"), path: "campaigns", message: "must be a list" },
    { name: "a required key left empty", text: yaml("api_keys: [k]", "bots: { a: { token: } }"), path: "bots.a.token", message: "is required" },
    { name: "an empty key in a list", text: yaml("api_keys: [k, '']"), path: "api_keys[1]", message: "must not be empty" },
    { name: "an empty list of API keys", text: yaml("api_keys: []"), path: "api_keys", message: "at least one API key is required to protect /api" },
    { name: "a template that is neither text, a mapping nor a list", text: yaml("api_keys: [k]", "postbacks: { wait: 5 }"), path: "postbacks.wait", message: '"5" is not an http(s) URL' },
    { name: "a template that is true", text: yaml("api_keys: [k]", "postbacks: { wait: true }"), path: "postbacks.wait", message: "must be a string, a mapping or a list" },
  ];
  test.each(refused)("refused: $name", ({ text, env, path, message }) => {
    expect(issuesOf(text, env).map((i) => ({ path: i.path, message: i.message }))).toEqual([{ path, message }]);
  });

  test("a token that does not look like one is refused without repeating it (a secret)", () => {
    const issues = issuesOf(yaml("api_keys: [k]", "bots: { a: { token: 's3cr3t-value' } }"));
    expect(issues).toEqual([{ path: "bots.a.token", line: 2, message: "does not look like a BotFather token (digits:letters)" }]);
  });

  test("a bot named __proto__ is kept as a bot, not taken as the object's prototype", () => {
    const config = parseConfig(yaml("api_keys: [k]", "bots:", "  __proto__: { token: '1:x' }", "campaigns: [{ code: a, bot: __proto__ }]"), {});
    expect(Object.keys(config.bots)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(config.bots)).toBe(Object.prototype);
    expect(config.campaigns[0]!.bot).toBe("__proto__");
  });

  test("issues are listed in the order of the file", () => {
    const text = yaml("api_keys: [k]", "campaigns:", "  - code: a", "    bot: ghost", "server: { port: -1 }", "delivery: { jitter: 2 }");
    expect(issuesOf(text).map((i) => [i.line, i.path])).toEqual([[4, "campaigns[0].bot"], [5, "server.port"], [6, "delivery.jitter"]]);
  });
});

describe("the duration syntax the schema publishes is the one lib/duration.ts reads", () => {
  const pattern = new RegExp(DURATION_PATTERN, "u");
  test.each(["30d", "90s", "250ms", "1h30m", "1.5h", "2w", " 5m ", "3600", "0", "1d2h3m4s5ms", "30 d", "30x", "d", "", "-5s", "1h 30m", "5mm", "1e3", ".5s", "5.s"])("%p", (text) => {
    expect(pattern.test(text)).toBe(parseDuration(text) !== undefined);
  });
});

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
    expect(schemaRef && resolve(dirname(resolve(ROOT, file)), schemaRef)).toBe(SCHEMA_FILE);
    expect(problems(parse(text))).toEqual([]);
  });

  test.each([
    { name: "${VAR} for a number, a word and a boolean", value: { api_keys: ["${K}"], server: { port: "${PORT:-8080}" }, log: { level: "${LEVEL}" }, demo_tracker: "${DEMO}" } },
    { name: "numbers where text is meant", value: { api_keys: [123], account_id: 1, campaigns: [{ code: "a", payouts: { approve: { payout: 1.5 } } }] } },
    { name: "empty keys", value: { api_keys: ["k"], server: null, campaigns: [{ code: "a", bot: null, welcome: null, postbacks: null }] } },
    { name: "every kind of template", value: { api_keys: ["k"], postbacks: { wait: "https://t.example/?c={click}", hold: "", approve: [{ url: "https://c.example/", json: { a: "{click}" } }, { destination: "kt" }], destination: ["kt"] } } },
  ])("accepted as the service accepts it: $name", ({ value }) => {
    expect(problems(value)).toEqual([]);
  });

  test.each([
    { name: "a misspelt key", value: { api_keys: ["k"], campaigns: [{ code: "a", unsub_windw: "1d" }] }, at: "/campaigns/0" },
    { name: "a word outside the list", value: { api_keys: ["k"], log: { level: "loud" } }, at: "/log/level" },
    { name: "a port out of range", value: { api_keys: ["k"], server: { port: 70000 } }, at: "/server/port" },
    { name: "a campaign code with -", value: { api_keys: ["k"], campaigns: [{ code: "a-b" }] }, at: "/campaigns/0/code" },
    { name: "a campaign without a code", value: { api_keys: ["k"], campaigns: [{ name: "x" }] }, at: "/campaigns/0" },
    { name: "no API key", value: { server: { port: 1 } }, at: "" },
    { name: "an empty list of API keys", value: { api_keys: [] }, at: "/api_keys" },
    { name: "a duration that is not one", value: { api_keys: ["k"], delivery: { retention: "a month" } }, at: "/delivery/retention" },
    { name: "a bot name with a space", value: { api_keys: ["k"], bots: { "my bot": { token: "1:x" } } }, at: "/bots" },
  ])("flagged where the mistake is: $name", ({ value, at }) => {
    expect(problems(value)).toContain(at);
  });
});
