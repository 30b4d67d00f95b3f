// An ad-platform destination as the config gives it (`destinations.<name>` with an ad preset):
// its params checked, its events per status, and one postback template per status that has an
// event. What a schema cannot say is checked here, each problem with its path.
import type { Checker, ConfigPath } from "../config/checker.ts";
import type { DestinationConfig } from "../config/model.ts";
import { STATUSES, type Status } from "../domain/status.ts";
import { compileText, type Template } from "../domain/templates.ts";
import { adVerdictName } from "./index.ts";
import type { AdPlatform, AdSettings } from "./platform.ts";

export interface AdDestination {
  config: DestinationConfig;
  /** The template of each status that has an event; a status without one sends nothing. */
  built: Partial<Record<Status, Template>>;
}

/** Its test mode, by platform, for the message that refuses a test mode it does not have. */
const TEST_MODE: Record<string, string> = {
  "meta-capi": "Meta's test mode is test_event_code",
  "tiktok-events": "TikTok's test mode is test_event_code",
  "yandex-metrica": "Yandex Metrica has no test mode (use a separate counter)",
};

export function readAdDestination(name: string, raw: Record<string, unknown>, platform: AdPlatform, c: Checker): AdDestination | undefined {
  const p: ConfigPath = ["destinations", name];
  const issues = c.issues.length;
  const { preset: _preset, verdict, events, validate_only, ...given } = raw;
  if (verdict !== undefined && verdict !== "preset") {
    c.fail([...p, "verdict"], `an ad-platform destination is judged by ${platform.name}'s own answers (verdict: preset); TikTok, for one, answers errors with HTTP 200`);
  }
  if (validate_only !== undefined && platform.name !== "ga4") c.fail([...p, "validate_only"], `is GA4's test mode; ${TEST_MODE[platform.name]}`);

  const params: Record<string, string> = {};
  for (const param of platform.params) {
    const value = given[param.name] ?? param.default;
    if (value === undefined || value === "") {
      if (param.required) c.fail(p, `${param.name} is required for preset ${platform.name}`);
    } else params[param.name] = String(value);
  }
  const known = platform.params.map((x) => x.name);
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && !known.includes(key)) c.fail([...p, key], `unknown param ${key} for preset ${platform.name} (known: ${known.join(", ")}, events${platform.name === "ga4" ? ", validate_only" : ""})`);
  }
  for (const [param, message] of platform.checkParams(params)) c.fail([...p, param], message);

  const names = readEvents(platform, events as Record<string, string | null> | undefined, [...p, "events"], c);
  if (c.issues.length > issues) return undefined;

  const secret = platform.params.find((x) => x.secret)!.name;
  const settings: AdSettings = {
    params: Object.fromEntries(Object.entries(params).filter(([k]) => k !== secret)),
    events: names,
    validateOnly: validate_only === true,
  };
  const url = compileText(platform.storedUrl(settings), [], false); // checkBaseUrl refused any {macro}
  const built: Partial<Record<Status, Template>> = {};
  for (const status of STATUSES) {
    if (!names[status]) continue;
    built[status] = {
      label: `destinations.${name}.${status}`,
      method: "POST",
      url,
      body: { type: "built", render: (values) => platform.build(settings, [values]) },
      destination: name,
      verdict: adVerdictName(platform, name),
    };
  }
  return { config: { name, preset: platform.name, params, verdict: "preset" }, built };
}

/** The event name of each status: the platform's defaults, replaced per status; null or "" = none. */
function readEvents(platform: AdPlatform, events: Record<string, string | null> | undefined, p: ConfigPath, c: Checker) {
  const names: Partial<Record<Status, string>> = { ...platform.defaultEvents };
  for (const status of STATUSES) {
    if (!events || !Object.hasOwn(events, status)) continue;
    const name = events[status];
    if (name === null || name === undefined || name === "") {
      delete names[status];
      continue;
    }
    const problem = platform.checkEventName(name);
    if (problem) c.fail([...p, status], `"${name}" ${problem}`);
    names[status] = name;
  }
  if (Object.keys(names).length === 0) {
    c.fail(p, Object.keys(platform.defaultEvents).length === 0
      ? "name the goal identifier (Target) to send for at least one status, e.g. approve: telegram_join (a JavaScript-event goal of the counter)"
      : "sends no event for any status");
  }
  return names;
}
