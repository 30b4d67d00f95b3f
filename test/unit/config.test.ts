import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError, loadConfigFile, parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/model.ts";
import type { ConfigIssue } from "../../src/config/checker.ts";
import { renderRequest } from "../../src/domain/templates.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

type Env = Record<string, string | undefined>;

/** Lines joined with "\n", so that line numbers in expectations are easy to read. */
const yaml = (...lines: string[]) => lines.join("\n") + "\n";

function issuesOf(text: string, env: Env = {}): ConfigIssue[] {
  try {
    parseConfig(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError, the config loaded");
}

describe("a minimal config gets the documented defaults", () => {
  test("api_keys only", () => {
    expect(parseConfig(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]"), {})).toEqual({
      source: null,
      server: { host: "0.0.0.0", port: 8080, public_url: null, trusted_proxies: [], metrics_public: true },
      storage: { path: "data/tgcpa.db", synchronous: "FULL", busy_timeout_ms: 5000, driver: "sqlite", url: null, pool_size: 10, idempotency_mib_per_api_key: 64 },
      rate_limits: {
        inbound_per_minute: 600, inbound_bad_key_per_minute: 30, webhook_per_minute: 6000, requests_in_progress_per_client: 128,
        api_key_failures_per_minute: 20, api_key_failures_all_per_minute: 200, click_per_minute: 120,
      },
      log: { level: "info", format: "json", access: true },
      dashboard: {
        timezone: "UTC", session_ttl_ms: 7 * D,
        click_groups: ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "sub1", "sub2", "sub3", "sub4", "sub5"],
      },
      account_id: "1",
      api_keys: ["k-0123456789abcdef0123456789abcdef"],
      inbound_keys: [],
      demo_tracker: false,
      delivery: {
        timeout_ms: 10_000,
        max_in_flight: 64,
        per_host_in_flight: 8,
        allow_hosts: [],
        retry_ladder_ms: [0, 10 * S, M, 5 * M, 30 * M, 2 * H, 6 * H, 12 * H, 24 * H],
        jitter: 0.2,
        lease_ms: 60_000,
        max_redirects: 3,
        circuit_failures: 5,
        circuit_cooldown_ms: 60_000,
        retention_ms: 30 * D,
        shutdown_grace_ms: 10_000,
      },
      bots: {},
      destinations: {},
      postbacks: { wait: [], hold: [], approve: [], cancel: [], trash: [] },
      campaigns: [],
      alerts: null,
    } satisfies Config);
  });

  test("a campaign with only a code", () => {
    const config = parseConfig(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring"), {});
    expect(config.campaigns).toEqual([
      { code: "spring", name: "spring", bot: null, chat: null, paused: false, unsub_window_ms: 0, postbacks: null, payouts: {}, welcome: null, costs: [], auto_approve: false, join_request: false,
        approve_after_ms: 0, approve_after_leave: "skip", min_quality: null, below_min_quality: "trash", join_requests: null, click_link: { mode: "redirect", click_param: null } },
    ]);
  });

  test("keys shorter than 32 characters are refused with the reason, where they are and how to make one; the key is not repeated", () => {
    const issues = issuesOf(yaml('api_keys: ["a"]', "inbound_keys: [k-0123456789abcdef0123456789abcdef, short-inbound-key]"));
    const reason = "is shorter than 32 characters, too easy to guess; make one with: openssl rand -hex 32";
    expect(issues).toEqual([
      { path: "api_keys[0]", line: 1, message: reason },
      { path: "inbound_keys[1]", line: 2, message: reason },
    ]);
    // 32 characters pass
    expect(parseConfig(yaml(`api_keys: ["${"x".repeat(32)}"]`), {}).api_keys).toEqual(["x".repeat(32)]);
  });

  test("no api_keys is refused", () => {
    expect(issuesOf(yaml("server: { port: 8080 }"))).toEqual([
      { path: "api_keys", line: expect.any(Number) as unknown as number, message: expect.stringContaining("API key") as unknown as string },
    ]);
  });
});

describe("values read from the config", () => {
  const cases: { name: string; text: string; pick: (c: Config) => unknown; expected: unknown }[] = [
    { name: "unsub_window as a duration string", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: [{ code: a, unsub_window: 30d }]"), pick: (c) => c.campaigns[0]!.unsub_window_ms, expected: 30 * D },
    { name: "unsub_window as a plain number is seconds", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: [{ code: a, unsub_window: 3600 }]"), pick: (c) => c.campaigns[0]!.unsub_window_ms, expected: H },
    { name: "custom retry ladder", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { retry_ladder: [0s, 30s, 1h] }"), pick: (c) => c.delivery.retry_ladder_ms, expected: [0, 30 * S, H] },
    { name: "lease_ms defaults to 2× a long timeout", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { timeout_ms: 45000 }"), pick: (c) => c.delivery.lease_ms, expected: 90_000 },
    { name: "public_url loses its trailing slash", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server: { public_url: 'https://tg.example.com/' }"), pick: (c) => c.server.public_url, expected: "https://tg.example.com" },
    { name: "chat id as a number", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: [{ code: a, chat: -1001234567890 }]"), pick: (c) => c.campaigns[0]!.chat, expected: -1001234567890 },
    { name: "trusted_proxies: addresses and CIDRs of both families", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server: { trusted_proxies: [127.0.0.1, '::1', 10.0.0.0/8, 'FD00::/8'] }"), pick: (c) => c.server.trusted_proxies, expected: ["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"] },
    { name: "log.format pretty", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "log: { format: pretty }"), pick: (c) => c.log, expected: { level: "info", format: "pretty", access: true } },
    { name: "without a file, a relative storage.path stays as written", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "storage: { path: db/x.db }"), pick: (c) => c.storage.path, expected: "db/x.db" },
    { name: "allow_hosts are lowercased", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { allow_hosts: [Tracker.LAN, 10.0.0.0/8] }"), pick: (c) => c.delivery.allow_hosts, expected: ["tracker.lan", "10.0.0.0/8"] },
    {
      name: "a campaign that sets one template gets its own five (others empty, no per-event fallback)",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks: { wait: 'https://g.example/w?c={click}' }", "campaigns: [{ code: a, postbacks: { approve: 'https://c.example/a?c={click}' } }]"),
      pick: (c) => Object.fromEntries(Object.entries(c.campaigns[0]!.postbacks!).map(([s, ts]) => [s, ts.map((t) => t.label)])),
      expected: { wait: [], hold: [], approve: ["campaigns[0].postbacks.approve"], cancel: [], trash: [] },
    },
  ];
  test.each(cases)("$name", ({ text, pick, expected }) => {
    expect(pick(parseConfig(text, {}))).toEqual(expected);
  });
});

describe("${VAR} substitution", () => {
  const cases: { name: string; text: string; env: Env; pick: (c: Config) => unknown; expected: unknown }[] = [
    { name: "${VAR} set", text: yaml('api_keys: ["${KEY}"]'), env: { KEY: "s3cret-0123456789abcdef0123456789abcdef" }, pick: (c) => c.api_keys, expected: ["s3cret-0123456789abcdef0123456789abcdef"] },
    { name: "${VAR:-default} unset uses the default", text: yaml('api_keys: ["${KEY:-fallback-0123456789abcdef0123456789abcdef}"]'), env: {}, pick: (c) => c.api_keys, expected: ["fallback-0123456789abcdef0123456789abcdef"] },
    { name: "${VAR:-default} set uses the variable", text: yaml('api_keys: ["${KEY:-fallback-0123456789abcdef0123456789abcdef}"]'), env: { KEY: "real-0123456789abcdef0123456789abcdef" }, pick: (c) => c.api_keys, expected: ["real-0123456789abcdef0123456789abcdef"] },
    { name: "${VAR:-default} set but empty uses the default", text: yaml('api_keys: ["${KEY:-fallback-0123456789abcdef0123456789abcdef}"]'), env: { KEY: "" }, pick: (c) => c.api_keys, expected: ["fallback-0123456789abcdef0123456789abcdef"] },
    { name: "inside a longer string", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", 'storage: { path: "${DIR}/tgcpa.db" }'), env: { DIR: "/var/lib/tgcpa" }, pick: (c) => c.storage.path, expected: "/var/lib/tgcpa/tgcpa.db" },
    { name: "several in one string", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", 'server: { public_url: "https://${HOST}:${P}" }'), env: { HOST: "tg.example.com", P: "8443" }, pick: (c) => c.server.public_url, expected: "https://tg.example.com:8443" },
    { name: "numeric ${PORT} becomes a number", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server:", "  port: ${PORT}"), env: { PORT: "9090" }, pick: (c) => c.server.port, expected: 9090 },
    { name: "numeric default ${PORT:-8081} becomes a number", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server:", "  port: ${PORT:-8081}"), env: {}, pick: (c) => c.server.port, expected: 8081 },
    { name: "inside a template URL", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", 'postbacks: { wait: "https://${TRK}/pb?c={click}" }'), env: { TRK: "trk.example.com" }, pick: (c) => renderRequest(c.postbacks.wait[0]!, { click: "x" } as never).url, expected: "https://trk.example.com/pb?c=x" },
    // A secret made of digits must arrive as it is written in the environment.
    { name: "an all-digit secret keeps its leading zeros", text: yaml('api_keys: ["${KEY}"]'), env: { KEY: "00123456789012345678901234567890123" }, pick: (c) => c.api_keys, expected: ["00123456789012345678901234567890123"] },
    { name: "a long all-digit secret keeps every digit", text: yaml('inbound_keys: ["${KEY}"]', "api_keys: [k-0123456789abcdef0123456789abcdef]"), env: { KEY: "12345678901234567890123456789012345" }, pick: (c) => c.inbound_keys, expected: ["12345678901234567890123456789012345"] },
  ];
  test.each(cases)("$name", ({ text, env, pick, expected }) => {
    expect(pick(parseConfig(text, env))).toEqual(expected);
  });

  const missing: { name: string; text: string; path: string; line: number; variable: string }[] = [
    { name: "in api_keys", text: yaml('api_keys: ["${TGCPA_API_KEY}"]'), path: "api_keys[0]", line: 1, variable: "TGCPA_API_KEY" },
    {
      name: "in a bot token",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots:", "  main:", '    token: "${TG_BOT_TOKEN}"'),
      path: "bots.main.token", line: 4, variable: "TG_BOT_TOKEN",
    },
  ];
  test.each(missing)("a missing variable is reported with its path: $name", ({ text, path, line, variable }) => {
    const issues = issuesOf(text);
    expect(issues).toContainEqual({ path, line, message: expect.stringContaining(variable) as unknown as string });
  });
});

describe("an unknown key names the nearest known one, with its path and line", () => {
  test.each([
    { text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: a", "    unsub_windw: 1d"), path: "campaigns[0].unsub_windw", line: 4, message: 'unknown key "unsub_windw" (did you mean "unsub_window"?)' },
    { text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivry: { timeout_ms: 5000 }"), path: "delivry", line: 2, message: 'unknown key "delivry" (did you mean "delivery"?)' },
    { text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server:", "  prot: 80"), path: "server.prot", line: 3, message: 'unknown key "prot" (did you mean "port"?)' },
    { text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { timeout: 5000 }"), path: "delivery.timeout", line: 2, message: 'unknown key "timeout" (did you mean "timeout_ms"?)' },
    { text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "destinations:", "  kt: { preset: keitaro, domain: t.example, key: abc, verdcit: status }"), path: "destinations.kt.verdcit", line: 3, message: 'unknown key "verdcit" (did you mean "verdict"?)' },
    { text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks: { aprove: 'https://t.example/?c={click}' }"), path: "postbacks.aprove", line: 2, message: 'unknown key "aprove" (did you mean "approve"?)' },
    {
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "dashboard: { colour: red }"), path: "dashboard.colour", line: 2,
      message: 'unknown key "colour" (expected one of: timezone, session_ttl, click_groups)',
    },
  ])("$path", ({ text, path, line, message }) => {
    expect(issuesOf(text)).toEqual([{ path, line, message }]);
  });
});

describe("values as people and ${ENV} write them", () => {
  const cases: { name: string; text: string; env?: Env; pick: (c: Config) => unknown; expected: unknown }[] = [
    { name: "a whole number from ${VAR}", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "storage: { busy_timeout_ms: '${T}' }"), env: { T: "250" }, pick: (c) => c.storage.busy_timeout_ms, expected: 250 },
    { name: "a fraction from ${VAR}", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { jitter: '${J}' }"), env: { J: "0.5" }, pick: (c) => c.delivery.jitter, expected: 0.5 },
    { name: "true and false from ${VAR}", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "demo_tracker: '${DEMO}'"), env: { DEMO: "true" }, pick: (c) => c.demo_tracker, expected: true },
    { name: "a chat id from ${VAR}", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: [{ code: a, chat: '${CHAT}' }]"), env: { CHAT: "-1001234567890" }, pick: (c) => c.campaigns[0]!.chat, expected: -1001234567890 },
    { name: "a duration from ${VAR}", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: [{ code: a, unsub_window: '${W:-2d}' }]"), pick: (c) => c.campaigns[0]!.unsub_window_ms, expected: 2 * 86_400_000 },
    { name: "a word in any case, given back as documented", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "storage: { synchronous: '${SYNC}' }", "log: { level: DEBUG }"), env: { SYNC: "normal" }, pick: (c) => [c.storage.synchronous, c.log.level], expected: ["NORMAL", "debug"] },
    { name: "a number where text is meant", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "account_id: 7", "campaigns: [{ code: a, payouts: { approve: { payout: 1.5 } } }]"), pick: (c) => [c.account_id, c.campaigns[0]!.payouts.approve?.payout], expected: ["7", "1.5"] },
    { name: "a payout written as a number", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: [{ code: a, payouts: { approve: { payout: 1.5 } } }]"), pick: (c) => c.campaigns[0]!.payouts, expected: { approve: { payout: "1.5", currency: "" } } },
    { name: "an empty key is left out: its default applies", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server:", "  port:", "log:"), pick: (c) => [c.server.port, c.log], expected: [8080, { level: "info", format: "json", access: true }] },
    { name: "lease_ms left out follows timeout_ms", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { timeout_ms: 40000 }"), pick: (c) => c.delivery.lease_ms, expected: 80_000 },
    { name: "max_per_second left out follows paid_broadcast", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots: { a: { token: '1:x' }, b: { token: '2:y', paid_broadcast: true } }"), pick: (c) => [c.bots.a!.max_per_second, c.bots.b!.max_per_second], expected: [25, 1000] },
    { name: "an empty retry step is 0s", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery:", "  retry_ladder:", "    -", "    - 1m"), pick: (c) => c.delivery.retry_ladder_ms, expected: [0, 60_000] },
  ];
  test.each(cases)("$name", ({ text, env, pick, expected }) => {
    expect(pick(parseConfig(text, env ?? {}))).toEqual(expected);
  });

  const refused: { name: string; text: string; env?: Env; path: string; message: string }[] = [
    { name: "a fraction where a whole number is meant", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server: { port: '${P}' }"), env: { P: "80.5" }, path: "server.port", message: "must be a whole number" },
    { name: "a number out of range", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server: { port: 70000 }"), path: "server.port", message: "must be between 0 and 65535" },
    { name: "yes is not true", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "demo_tracker: 'yes'"), path: "demo_tracker", message: "must be true or false" },
    { name: "1 is not true", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "demo_tracker: 1"), path: "demo_tracker", message: "must be true or false" },
    { name: "a word outside the list", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots: { a: { token: '1:x', mode: push } }"), path: "bots.a.mode", message: "must be one of: polling, webhook" },
    { name: "a duration that is not one, quoted in the message", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { retention: 'a month' }"), path: "delivery.retention", message: '"a month" must be a duration such as 90s, 5m, 2h, 30d (a plain number is seconds)' },
    { name: "a negative duration", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { circuit_cooldown: -5 }"), path: "delivery.circuit_cooldown", message: "must be a duration such as 90s, 5m, 2h, 30d (a plain number is seconds)" },
    { name: "a mapping where a list is meant", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns: { code: a }"), path: "campaigns", message: "must be a list" },
    { name: "a required key left empty", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots: { a: { token: } }"), path: "bots.a.token", message: "is required" },
    { name: "an empty key in a list", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef, '']"), path: "api_keys[1]", message: "is shorter than 32 characters, too easy to guess; make one with: openssl rand -hex 32" },
    { name: "an empty list of API keys", text: yaml("api_keys: []"), path: "api_keys", message: "at least one API key is required to protect /api" },
    { name: "a template that is neither text, a mapping nor a list", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks: { wait: 5 }"), path: "postbacks.wait", message: '"5" is not an http(s) URL' },
    { name: "a template that is true", text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks: { wait: true }"), path: "postbacks.wait", message: "must be a string, a mapping or a list" },
  ];
  test.each(refused)("refused: $name", ({ text, env, path, message }) => {
    expect(issuesOf(text, env).map((i) => ({ path: i.path, message: i.message }))).toEqual([{ path, message }]);
  });

  test("a token that does not look like one is refused without repeating it (a secret)", () => {
    const issues = issuesOf(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots: { a: { token: 's3cr3t-value' } }"));
    expect(issues).toEqual([{ path: "bots.a.token", line: 2, message: "does not look like a BotFather token (digits:letters)" }]);
  });

  test("a bot named __proto__ is kept as a bot, not taken as the object's prototype", () => {
    const config = parseConfig(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots:", "  __proto__: { token: '1:x' }", "campaigns: [{ code: a, bot: __proto__ }]"), {});
    expect(Object.keys(config.bots)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(config.bots)).toBe(Object.prototype);
    expect(config.campaigns[0]!.bot).toBe("__proto__");
  });

  test("issues are listed in the order of the file", () => {
    const text = yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: a", "    bot: ghost", "server: { port: -1 }", "delivery: { jitter: 2 }");
    expect(issuesOf(text).map((i) => [i.line, i.path])).toEqual([[4, "campaigns[0].bot"], [5, "server.port"], [6, "delivery.jitter"]]);
  });
});

describe("dashboard", () => {
  test("timezone takes an IANA name (spelled canonically) and session_ttl a duration", () => {
    const config = parseConfig(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "dashboard:", "  timezone: europe/moscow", "  session_ttl: 12h"), {});
    expect(config.dashboard).toEqual({ timezone: "Europe/Moscow", session_ttl_ms: 12 * H, click_groups: expect.any(Array) as unknown as string[] });
  });

  test.each([
    ["Moscow", "unknown time zone \"Moscow\""],
    ["+03:00", "unknown time zone \"+03:00\""],
    ["Mars/Olympus_Mons", "unknown time zone"],
  ])("timezone %p is refused with its path and line", (tz, message) => {
    const issues = issuesOf(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "dashboard:", `  timezone: "${tz}"`));
    expect(issues).toEqual([{ path: "dashboard.timezone", line: 3, message: expect.stringContaining(message) as unknown as string }]);
  });

  test.each(["1m", "400d", "soon"])("session_ttl %p is refused", (ttl) => {
    const issues = issuesOf(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "dashboard:", `  session_ttl: ${ttl}`));
    expect(issues.map((i) => [i.path, i.line])).toEqual([["dashboard.session_ttl", 3]]);
  });

  test("an unknown key under dashboard is an error", () => {
    expect(issuesOf(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "dashboard: { tz: UTC }")).map((i) => i.path)).toEqual(["dashboard.tz"]);
  });
});

describe("errors are reported with path and line", () => {
  test("broken YAML reports a line number", () => {
    const issues = issuesOf(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server:", "  port: 8080", "  host: a: b", "log: { level: info }"));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.line).toBe(4);
    expect(issues[0]!.message).toStartWith("YAML:");
  });

  test("a duplicate key is a YAML error with a line", () => {
    const issues = issuesOf(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "log: { level: info }", "api_keys: [j]"));
    expect(issues[0]!.message).toMatch(/unique/i);
    expect(issues[0]!.line).toBe(3);
  });

  test("several errors are reported at once, each with its path and line", () => {
    const text = yaml(
      /* 1 */ "api_keys: [k-0123456789abcdef0123456789abcdef]",
      /* 2 */ "delivery:",
      /* 3 */ "  jitter: 5",
      /* 4 */ "campaigns:",
      /* 5 */ "  - code: ok1",
      /* 6 */ "  - code: bad-code",
      /* 7 */ "    unsub_window: forever",
      /* 8 */ "  - code: ok1",
    );
    expect(issuesOf(text).map(({ path, line }) => ({ path, line }))).toEqual([
      { path: "delivery.jitter", line: 3 },
      { path: "campaigns[1].code", line: 6 },
      { path: "campaigns[1].unsub_window", line: 7 },
      { path: "campaigns[2].code", line: 8 },
    ]);
  });

  const single: { name: string; text: string; path: string; line: number; message: string | RegExp }[] = [
    {
      name: "duplicate campaign code",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring", "  - code: spring"),
      path: "campaigns[1].code", line: 4, message: /already used by campaigns\[0\]/,
    },
    {
      name: "campaign code containing -",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring-2025"),
      path: "campaigns[0].code", line: 3, message: '"spring-2025"',
    },
    {
      name: "unknown macro in a campaign's approve template",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring", "    postbacks:", '      approve: "https://x.example/pb?c={clickid}"'),
      path: "campaigns[0].postbacks.approve", line: 5, message: "{clickid}",
    },
    {
      name: "unknown macro in the second template of a list",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks:", "  approve:", '    - "https://a.example/pb?c={click}"', '    - "https://b.example/pb?c={sub_id}"'),
      path: "postbacks.approve[1]", line: 5, message: "{sub_id}",
    },
    {
      name: "unknown macro in a JSON body",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks:", "  approve: { url: 'https://a.example/pb', json: { c: '{clik}' } }"),
      path: "postbacks.approve.json.c", line: 3, message: "{clik}",
    },
    {
      name: "unknown top-level key (typo delivry)",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivry: { timeout_ms: 5000 }"),
      path: "delivry", line: 2, message: "unknown key",
    },
    {
      name: "unknown top-level key written as a block mapping points at the key's line",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivry:", "  timeout_ms: 5000"),
      path: "delivry", line: 2, message: "unknown key",
    },
    {
      name: "unknown nested key",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: a", "    unsub_windw: 1d"),
      path: "campaigns[0].unsub_windw", line: 4, message: "unknown key",
    },
    {
      name: "campaign bot that names no bot",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots:", "  main: { token: '123:abc' }", "campaigns:", "  - code: a", "    bot: mian"),
      path: "campaigns[0].bot", line: 6, message: 'no bot named "mian"',
    },
    {
      name: "lease_ms equal to timeout_ms",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery:", "  timeout_ms: 20000", "  lease_ms: 20000"),
      path: "delivery.lease_ms", line: 4, message: "longer than delivery.timeout_ms",
    },
    {
      name: "lease_ms shorter than timeout_ms",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery:", "  timeout_ms: 20000", "  lease_ms: 5000"),
      path: "delivery.lease_ms", line: 4, message: "longer than delivery.timeout_ms",
    },
    {
      name: "template with an ftp:// URL",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks:", '  wait: "ftp://x.example/pb?c={click}"'),
      path: "postbacks.wait", line: 3, message: "not an http(s) URL",
    },
    {
      name: "template that is only a macro",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "postbacks:", '  wait: "{click}"'),
      path: "postbacks.wait", line: 3, message: "not an http(s) URL",
    },
    {
      name: "template without a scheme",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: a", "    postbacks:", '      hold: "x.example/pb?c={click}"'),
      path: "campaigns[0].postbacks.hold", line: 5, message: "not an http(s) URL",
    },
    {
      name: "allow_hosts entry that is not a CIDR",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery:", '  allow_hosts: ["10.0.0.0/abc"]'),
      path: "delivery.allow_hosts[0]", line: 3, message: "not a CIDR",
    },
    {
      name: "trusted_proxies entry that is a hostname",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server:", "  trusted_proxies: [127.0.0.1, proxy.lan]"),
      path: "server.trusted_proxies[1]", line: 3, message: '"proxy.lan" is not an IP address or a CIDR',
    },
    {
      name: "trusted_proxies entry in a shorthand ipaddr.js would take (127.1)",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server: { trusted_proxies: ['127.1'] }"),
      path: "server.trusted_proxies[0]", line: 2, message: "not an IP address or a CIDR",
    },
    {
      name: "trusted_proxies CIDR with a prefix longer than 128",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "server: { trusted_proxies: ['fd00::/129'] }"),
      path: "server.trusted_proxies[0]", line: 2, message: "not an IP address or a CIDR",
    },
    {
      name: "log.format that is neither json nor pretty",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "log:", "  format: text"),
      path: "log.format", line: 3, message: "json, pretty",
    },
    {
      name: "allow_hosts CIDR with an IPv4 prefix longer than 32",
      text: yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery:", '  allow_hosts: ["10.0.0.0/33"]'),
      path: "delivery.allow_hosts[0]", line: 3, message: "not a CIDR",
    },
  ];
  test.each(single)("$name", ({ text, path, line, message }) => {
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(path);
    expect(issues[0]!.line).toBe(line);
    if (typeof message === "string") expect(issues[0]!.message).toContain(message);
    else expect(issues[0]!.message).toMatch(message);
  });

  test("lease_ms longer than timeout_ms is accepted", () => {
    expect(parseConfig(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivery: { timeout_ms: 20000, lease_ms: 20001 }"), {}).delivery.lease_ms).toBe(20_001);
  });

  test("the ConfigError message lists every issue with path and line", () => {
    let message = "";
    try {
      parseConfig(yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "delivry: 1", "campaigns: [{ code: a-b }]"), {}, "/etc/tgcpa.yaml");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("/etc/tgcpa.yaml");
    expect(message).toContain("delivry (line 2)");
    expect(message).toContain("campaigns[0].code (line 3)");
  });
});

describe("the returned config is frozen", () => {
  const config = parseConfig(
    yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "campaigns:", "  - code: spring", "    postbacks: { approve: 'https://x.example/?c={click}' }"),
    {},
  );
  const mutations: { name: string; mutate: () => void; read: () => unknown; before: unknown }[] = [
    { name: "top-level field", mutate: () => { (config as { account_id: string }).account_id = "2"; }, read: () => config.account_id, before: "1" },
    { name: "nested server.port", mutate: () => { (config.server as { port: number }).port = 1; }, read: () => config.server.port, before: 8080 },
    { name: "api_keys.push", mutate: () => { config.api_keys.push("evil"); }, read: () => config.api_keys, before: ["k-0123456789abcdef0123456789abcdef"] },
    { name: "retry ladder step", mutate: () => { config.delivery.retry_ladder_ms[1] = 0; }, read: () => config.delivery.retry_ladder_ms[1], before: 10_000 },
    { name: "campaign code", mutate: () => { config.campaigns[0]!.code = "other"; }, read: () => config.campaigns[0]!.code, before: "spring" },
    { name: "campaign template list", mutate: () => { config.campaigns[0]!.postbacks!.approve.pop(); }, read: () => config.campaigns[0]!.postbacks!.approve.length, before: 1 },
  ];
  test.each(mutations)("$name cannot be changed", ({ mutate, read, before }) => {
    expect(read()).toEqual(before);
    expect(mutate).toThrow(TypeError); // test files are ES modules: strict mode
    expect(read()).toEqual(before);
  });
});

describe("the shipped example config", () => {
  const path = resolve(import.meta.dir, "../../config/example.yaml");

  test("loads without any environment", () => {
    const config = loadConfigFile(path, {});
    expect(config.source).toBe(path);
    expect(config.server.port).toBe(8080);
    expect(config.api_keys).toEqual(["demo-key-change-me-before-any-real-use"]);
    expect(config.campaigns.map((c) => c.code)).toEqual(["demo"]);
    expect(config.campaigns[0]!.unsub_window_ms).toBe(30 * D);
    expect(config.postbacks.approve).toHaveLength(1);
    expect(config.postbacks.hold).toHaveLength(0);
  });

  test("PORT from the environment reaches the port and the templates", () => {
    const config = loadConfigFile(path, { PORT: "9999" });
    expect(config.server.port).toBe(9999);
    expect(config.postbacks.wait[0]!.url.source).toStartWith("http://127.0.0.1:9999/");
  });

  test("a missing file is a ConfigError, not a crash", () => {
    expect(() => loadConfigFile(resolve(import.meta.dir, "no-such-config.yaml"), {})).toThrow(ConfigError);
  });
});

describe("relative paths are taken from the config file's folder, not the working directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-config-paths-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "etc", "media"), { recursive: true });
  writeFileSync(join(dir, "etc", "media", "welcome.jpg"), "jpeg");
  const load = (...lines: string[]) => {
    const file = join(dir, "etc", "tgcpa.yaml");
    writeFileSync(file, yaml("api_keys: [k-0123456789abcdef0123456789abcdef]", "bots: { main: { token: '1:abc' } }", ...lines));
    return loadConfigFile(file, {});
  };

  test("storage.path and a welcome photo, relative", () => {
    const config = load("storage: { path: data/t.db }", "campaigns: [{ code: a, bot: main, welcome: { text: hi, photo: media/welcome.jpg } }]");
    expect(config.storage.path).toBe(join(dir, "etc", "data", "t.db"));
    expect(config.campaigns[0]!.welcome![0]!.media).toEqual({ kind: "photo", path: join(dir, "etc", "media", "welcome.jpg") });
  });

  test("the default storage.path lands beside the config too", () => {
    expect(load().storage.path).toBe(join(dir, "etc", "data", "tgcpa.db"));
  });

  test("absolute paths and :memory: are kept", () => {
    expect(load("storage: { path: /var/lib/tgcpa/tgcpa.db }").storage.path).toBe("/var/lib/tgcpa/tgcpa.db");
    expect(load("storage: { path: ':memory:' }").storage.path).toBe(":memory:");
  });

  test("a missing media file is reported with the path it was looked for at", () => {
    let issues: ConfigIssue[] = [];
    try {
      load("campaigns: [{ code: a, bot: main, welcome: { text: hi, video: media/promo.mp4 } }]");
    } catch (err) {
      issues = (err as ConfigError).issues;
    }
    expect(issues).toEqual([{
      path: "campaigns[0].welcome.video", line: 3,
      message: `file ${join(dir, "etc", "media", "promo.mp4")} does not exist (a relative path is taken from the config file's folder)`,
    }]);
  });
});
