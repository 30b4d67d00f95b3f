// TikTok Events API 2.0 (reference/ad-platforms.md §2): POST {base}/open_api/v1.3/event/track/ with
// the token in the `Access-Token` header (no Bearer); one request carries up to 1,000 events. Errors
// come back with HTTP 200 and a non-zero `code`.
import type { MacroValues } from "../domain/templates.ts";
import type { Classification } from "../domain/verdict.ts";
import { hashedExternalId } from "./hashing.ts";
import {
  baseOf, baseUrlParam, byStatus, checkBaseUrl, concatArrays, eventName, eventSeconds, isObject, jsonObject, parseJson, platformWords, refused,
  retryLater, valueOf, type AdPlatform, type AdResponse, type AdSettings,
} from "./platform.ts";

/** §2.5 (secondary): "Too many requests". Every other non-zero code is refused until it is classified. */
const TOO_MANY_REQUESTS = 40100;
/** §2.5 (secondary): no permission, a bad token: the request's own, whatever events it carries. */
const REQUEST_REFUSALS = new Set([40001, 40105]);

function event(settings: AdSettings, row: MacroValues) {
  const value = valueOf(row);
  // §2.2: page.url is required for web events: the click's landing URL, else the configured page_url.
  const pageUrl = row.landing_url || settings.params.page_url || "";
  return {
    event: eventName(settings, row),
    event_time: eventSeconds(row),
    event_id: row.event,
    // external_id: SHA-256 required; ttclid, IP and user agent never hashed.
    user: {
      external_id: [hashedExternalId(row.subscriber)],
      ...(row.ttclid ? { ttclid: row.ttclid } : {}),
      ...(row.ip ? { ip: row.ip } : {}),
      ...(row.user_agent ? { user_agent: row.user_agent } : {}),
    },
    ...(pageUrl ? { page: { url: pageUrl, ...(row.referrer ? { referrer: row.referrer } : {}) } } : {}),
    ...(value ? { properties: value } : {}),
  };
}

function classify(answer: AdResponse): Classification {
  if (answer.status >= 500) return byStatus(answer);
  const parsed = parseJson(answer.body);
  const code = isObject(parsed) && typeof parsed.code === "number" ? parsed.code : null;
  if (code === null) {
    if (answer.status < 200 || answer.status >= 300) return byStatus(answer);
    return refused("tiktok answered without a code (is base_url the Events API?)");
  }
  // Always the body's code, even on HTTP 200: {"code": 0, "message": "OK", …} is the only success.
  if (code === 0 && answer.status >= 200 && answer.status < 300) return { outcome: "delivered" };
  const words = `tiktok code ${code}: ${platformWords((parsed as Record<string, unknown>).message) || "no message"}`;
  if (code === TOO_MANY_REQUESTS || answer.status === 429) return retryLater(answer, words, true);
  return refused(words);
}

export const tiktokEvents: AdPlatform = {
  name: "tiktok-events",
  platform: "TikTok Events API 2.0",
  params: [
    { name: "pixel_code", required: true, description: "the Pixel Code (event_source_id of web events)" },
    { name: "access_token", required: true, secret: true, description: "the Events API access token, sent as Access-Token; use ${TIKTOK_TOKEN}" },
    { name: "test_event_code", required: false, description: "test mode: the code from Events Manager's test events tool" },
    { name: "page_url", required: false, description: "page.url when the click link was not used (TikTok requires a page URL for web events)" },
    baseUrlParam("https://business-api.tiktok.com"),
  ],
  // §2.2: CompleteRegistration for the join (as for Meta), Lead for the Start.
  defaultEvents: { wait: "Lead", approve: "CompleteRegistration" },
  maxEvents: 1000,
  storedUrl: (s) => `${baseOf(s)}/open_api/v1.3/event/track/`,
  build(settings, rows) {
    const test = settings.params.test_event_code;
    const body = {
      event_source: "web",
      event_source_id: settings.params.pixel_code,
      ...(test ? { test_event_code: test } : {}),
      data: rows.map((row) => event(settings, row)),
    };
    return { body: JSON.stringify(body), contentType: "application/json" };
  },
  batchKey: () => "",
  bodyBatchKey(body) {
    const json = jsonObject(body);
    if (!json || !Array.isArray(json.data)) return null;
    return JSON.stringify([json.event_source, json.event_source_id, json.test_event_code ?? ""]);
  },
  mergeBodies(bodies) {
    const { data: _, ...first } = jsonObject(bodies[0] ?? "") ?? {};
    return { body: JSON.stringify({ ...first, data: concatArrays(bodies, "data") }), contentType: "application/json" };
  },
  refusalMayBeOneEvent(answer) {
    const code = jsonObject(answer.body)?.code;
    return !(typeof code === "number" && REQUEST_REFUSALS.has(code)) && answer.status !== 401 && answer.status !== 403;
  },
  sign: (_url, secret) => ({ "access-token": secret }),
  classify,
  checkEventName: (name) => (name.length > 100 ? "is longer than 100 characters" : null),
  checkParams(params) {
    const base = checkBaseUrl(params.base_url);
    const page = params.page_url === undefined || /^https?:\/\//i.test(params.page_url) ? null : "must be an http(s) URL";
    return [...(base ? [["base_url", base] as [string, string]] : []), ...(page ? [["page_url", page] as [string, string]] : [])];
  },
  notes: "POST /open_api/v1.3/event/track/ with Access-Token; event_source web; errors arrive as HTTP 200 with a non-zero code.",
};
