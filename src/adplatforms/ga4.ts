// GA4 Measurement Protocol (reference/ad-platforms.md §3): POST {base}/mp/collect?measurement_id=…
// &api_secret=…; one request is one client with up to 25 events. /mp/collect answers 2xx to
// everything that arrives; /debug/mp/collect (validate_only) checks the events and records nothing.
import type { MacroValues } from "../domain/templates.ts";
import type { Classification } from "../domain/verdict.ts";
import { hashedExternalId } from "./hashing.ts";
import {
  baseOf, baseUrlParam, byStatus, checkBaseUrl, concatArrays, enc, eventName, eventSeconds, isObject, jsonObject, parseJson, platformWords, refused,
  valueOf, type AdPlatform, type AdResponse, type AdSettings,
} from "./platform.ts";
import { HTML_PAGE_REASON, isHtmlPage } from "../domain/verdict.ts";

/** §3.3: event names ≤ 40 characters, letters, digits and _, starting with a letter; some are reserved. */
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const RESERVED_EVENTS = new Set(["ad_activeview", "ad_click", "ad_exposure", "ad_query", "ad_reward", "adunit_exposure", "app_background",
  "app_clear_data", "app_exception", "app_remove", "app_store_refund", "app_update", "app_upgrade", "dynamic_link_app_open",
  "dynamic_link_app_update", "dynamic_link_first_open", "error", "first_open", "first_visit", "in_app_purchase", "notification_dismiss",
  "notification_foreground", "notification_open", "notification_receive", "os_update", "page_view", "screen_view", "session_start", "user_engagement"]);

/**
 * The GA client id: the one the site's GA tag made, passed by the landing page as the click's
 * `client_id` parameter; without it, the hashed Telegram user id — an event GA records, but
 * without the visit and so without the ad click (§3.2).
 */
const clientId = (row: MacroValues) => row["param:client_id"] || hashedExternalId(row.subscriber);

function event(settings: AdSettings, row: MacroValues) {
  const name = eventName(settings, row);
  const value = valueOf(row);
  return {
    name,
    params: {
      event_id: row.event,
      ...(name === "join_group" ? { group_id: row.chat || row.campaign } : {}),
      ...(value ?? {}),
    },
  };
}

function classify(answer: AdResponse): Classification {
  if (answer.status < 200 || answer.status >= 300) return byStatus(answer);
  if (isHtmlPage(answer.body)) return { outcome: "rejected", reason: HTML_PAGE_REASON };
  // The validation endpoint: {"validationMessages": [{fieldPath, description, validationCode}]}; empty = valid.
  const parsed = parseJson(answer.body);
  const messages = isObject(parsed) && Array.isArray(parsed.validationMessages) ? parsed.validationMessages : [];
  if (messages.length === 0) return { outcome: "delivered" };
  const first = isObject(messages[0]) ? messages[0] : {};
  const code = platformWords(first.validationCode);
  const field = platformWords(first.fieldPath);
  return refused(`ga4 validation${code ? ` ${code}` : ""}${field ? ` at ${field}` : ""}: ${platformWords(first.description) || "no description"}`);
}

export const ga4: AdPlatform = {
  name: "ga4",
  platform: "Google Analytics 4 Measurement Protocol",
  params: [
    { name: "measurement_id", required: true, description: "the web stream's measurement id (G-…)" },
    { name: "api_secret", required: true, secret: true, description: "a Measurement Protocol API secret of the stream; use ${GA4_API_SECRET}" },
    baseUrlParam("https://www.google-analytics.com"),
  ],
  // §3.2: join_group is the closest recommended event to a channel join; generate_lead for the Start.
  defaultEvents: { wait: "generate_lead", approve: "join_group" },
  maxEvents: 25,
  storedUrl: (s) => `${baseOf(s)}/${s.validateOnly ? "debug/mp/collect" : "mp/collect"}?measurement_id=${enc(s.params.measurement_id!)}&api_secret=***`,
  build(settings, rows) {
    const first = rows[0]!;
    const body = {
      client_id: clientId(first),
      user_id: hashedExternalId(first.subscriber),
      // Unix time in microseconds; rows of one request share it (batchKey).
      timestamp_micros: eventSeconds(first) * 1_000_000,
      ...(settings.validateOnly ? { validation_behavior: "ENFORCE_RECOMMENDATIONS" } : {}),
      events: rows.map((row) => event(settings, row)),
    };
    return { body: JSON.stringify(body), contentType: "application/json" };
  },
  batchKey: (row) => `${clientId(row)} ${row.subscriber} ${row.time}`,
  // One client, one user, one time per request (§3.3: 25 events of one client); the rest of the body is equal then.
  bodyBatchKey(body) {
    const json = jsonObject(body);
    if (!json || !Array.isArray(json.events)) return null;
    return JSON.stringify([json.client_id, json.user_id, json.timestamp_micros, json.validation_behavior ?? ""]);
  },
  mergeBodies(bodies) {
    const { events: _, ...first } = jsonObject(bodies[0] ?? "") ?? {};
    return { body: JSON.stringify({ ...first, events: concatArrays(bodies, "events") }), contentType: "application/json" };
  },
  // The validation endpoint names each bad event; /mp/collect refuses nothing.
  refusalMayBeOneEvent: (answer) => answer.status !== 401 && answer.status !== 403,
  sign(url, secret) {
    url.searchParams.set("api_secret", secret);
    return {};
  },
  classify,
  checkEventName(name) {
    if (!EVENT_NAME.test(name)) return "must be 1-40 letters, digits or _, starting with a letter (GA4's rule)";
    if (RESERVED_EVENTS.has(name) || /^(_|firebase_|ga_|google_|gtag\.)/.test(name)) return "is reserved by GA4";
    return null;
  },
  checkParams(params) {
    const base = checkBaseUrl(params.base_url);
    return base ? [["base_url", base]] : [];
  },
  notes: "POST /mp/collect?measurement_id=…&api_secret=…; validate_only: true sends to /debug/mp/collect. GA4 takes no IP or user agent here.",
};
