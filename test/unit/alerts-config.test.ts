// alerts: in the config — read into milliseconds and a local time, every mistake named with its path
// and line, the webhook URL never repeated in a message (it is a secret).
import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";

const KEY = "k-0123456789abcdef0123456789abcdef";
const base = ["api_keys: [" + KEY + "]", "bots:", '  main: { token: "123:abc" }'];
const read = (...lines: string[]) => parseConfig([...base, ...lines].join("\n"), {});
const issues = (...lines: string[]) => {
  try {
    read(...lines);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path} (line ${i.line}): ${i.message}`);
    throw err;
  }
};

describe("alerts config", () => {
  test("left out: no alerts", () => {
    expect(read().alerts).toBeNull();
  });

  test("the defaults, off, a digest time and the zone from dashboard.timezone", () => {
    const a = parseConfig([...base, "dashboard: { timezone: Europe/Moscow }", "alerts:", "  telegram: { bot: main, chat: -100123 }", "  no_starts: off", '  digest: "09:30"'].join("\n"), {}).alerts!;
    expect(a).toEqual({
      telegram: { bot: "main", chat: -100123 }, webhook: null,
      after_ms: { bot_down: 300_000, bot_rights: 900_000, host_failing: 600_000, no_starts: null, storage_unwritable: 60_000 },
      digest: { hour: 9, minute: 30 }, timezone: "Europe/Moscow", spacing_ms: 900_000, recover_after_ms: 120_000, check_every_ms: 60_000,
    });
    expect(read("alerts:", "  webhook: { url: https://hooks.example.com/x }", "  timezone: Asia/Kolkata").alerts).toMatchObject({ webhook: { url: "https://hooks.example.com/x", format: "json" }, timezone: "Asia/Kolkata" });
  });

  test("each mistake named where it is", () => {
    expect(issues("alerts:", "  digest: 9am")).toEqual([
      "alerts (line 4): names no destination: add telegram: {bot, chat} and/or webhook: {url}",
      'alerts.digest (line 5): "9am" must be a local time HH:MM, such as 09:00',
    ]);
    expect(issues("alerts:", "  telegram: { bot: nobot, chat: 1 }", "  host_failing: soon", "  check_every: 1s", "  timezone: Mars/Base")).toEqual([
      'alerts.telegram.bot (line 5): no bot named "nobot" under bots',
      'alerts.host_failing (line 6): "soon" must be a duration such as 5m, 2h (a plain number is seconds), or off',
      "alerts.check_every (line 7): must be between 10s and 1h",
      'alerts.timezone (line 8): unknown time zone "Mars/Base" (an IANA name such as UTC, Europe/Moscow or Asia/Kolkata)',
    ]);
    const secret = "https://hooks.slack.com/services/T000/B000/SECRETSECRET";
    const bad = issues("alerts:", `  webhook: { url: "${secret}", format: teams }`);
    expect(bad).toEqual([expect.stringMatching(/^alerts\.webhook\.format \(line 5\): /)]);
    expect(bad.join("")).not.toContain("SECRETSECRET");
    const scheme = issues("alerts:", '  webhook: { url: "ftp://hooks.example.com/SECRETSECRET" }');
    expect(scheme).toEqual([expect.stringMatching(/^alerts\.webhook\.url \(line 5\): .*must be an http\(s\) URL$/)]);
    expect(scheme.join("")).not.toContain("SECRETSECRET");
  });
});
