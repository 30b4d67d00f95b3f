// Meta Conversions API (reference/ad-platforms.md §1): POST {base}/{version}/{pixel}/events with
// the token in `access_token`; one request carries up to 1,000 events in `data`.
import type { MacroValues } from "../domain/templates.ts";
import type { Classification } from "../domain/verdict.ts";
import { hashedExternalId } from "./hashing.ts";
import {
  baseOf, baseUrlParam, byStatus, checkBaseUrl, enc, eventName, eventSeconds, isObject, jsonObject, parseJson, platformWords, refused,
  retryLater, valueOf, type AdPlatform, type AdResponse, type AdSettings, type BuiltBody,
} from "./platform.ts";

/** §1.9: codes that are retried, those that are rate limits (retried after a minute at least), those that never work. */
const TRANSIENT = new Set([1, 2]);
const RATE_LIMITS = new Set([4, 17, 32, 341, 613, 80004, 368]); // 368: blocked for a while; do not hammer
const PERMANENT = new Set([10, 100, 102, 190]);
const isPermanent = (code: number) => PERMANENT.has(code) || (code >= 200 && code <= 299);

/**
 * One server event. `action_source` (§1.4): `website` with `event_source_url` when the visitor
 * passed the click link's page (its URL and user agent are known: Meta requires
 * `client_user_agent` for website events), else `chat` ("via a messaging app"); never
 * `business_messaging`, which is for Messenger, Instagram and WhatsApp only.
 */
function serverEvent(settings: AdSettings, row: MacroValues) {
  const website = row.landing_url !== "" && row.user_agent !== "";
  const value = valueOf(row);
  return {
    event_name: eventName(settings, row),
    event_time: eventSeconds(row),
    event_id: row.event,
    action_source: website ? "website" : "chat",
    ...(website ? { event_source_url: row.landing_url } : {}),
    // §1.5: external_id hashed; fbc, fbp, IP and user agent never hashed.
    user_data: {
      external_id: [hashedExternalId(row.subscriber)],
      ...(row.fbc ? { fbc: row.fbc } : {}),
      ...(row.fbp ? { fbp: row.fbp } : {}),
      ...(row.ip ? { client_ip_address: row.ip } : {}),
      ...(row.user_agent ? { client_user_agent: row.user_agent } : {}),
    },
    ...(value ? { custom_data: value } : {}),
  };
}

const isForm = (contentType: string | null) => (contentType ?? "").startsWith("application/x-www-form-urlencoded");

/** A stored body as {data, test_event_code}, JSON or Graph form fields. */
function readBody(body: string, contentType: string | null): { data: unknown[]; test: string } | null {
  if (isForm(contentType)) {
    const form = new URLSearchParams(body);
    const data = parseJson(form.get("data") ?? "");
    return Array.isArray(data) ? { data, test: form.get("test_event_code") ?? "" } : null;
  }
  const json = jsonObject(body);
  return json && Array.isArray(json.data) ? { data: json.data, test: typeof json.test_event_code === "string" ? json.test_event_code : "" } : null;
}

function bodyOf(data: unknown[], test: string, form: boolean): BuiltBody {
  if (form) return { body: `data=${enc(JSON.stringify(data))}${test ? `&test_event_code=${enc(test)}` : ""}`, contentType: "application/x-www-form-urlencoded" };
  return { body: JSON.stringify({ data, ...(test ? { test_event_code: test } : {}) }), contentType: "application/json" };
}

/** §1.9: refusals that are the request's own (its token, its permissions, its pixel), whatever events it carries. */
function refusalMayBeOneEvent(answer: AdResponse): boolean {
  const error = jsonObject(answer.body)?.error;
  if (!isObject(error) || typeof error.code !== "number") return answer.status !== 401 && answer.status !== 403;
  const code = error.code;
  if (code === 190 || code === 102 || code === 10 || (code >= 200 && code <= 299)) return false;
  return !(code === 100 && error.error_subcode === 33); // object not found: the pixel id
}

function classify(answer: AdResponse): Classification {
  const parsed = parseJson(answer.body);
  const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : null;
  // §1.9: classify on error.code / error_subcode / is_transient, never on the HTTP status alone.
  if (error && typeof error.code === "number") {
    const code = error.code;
    const sub = typeof error.error_subcode === "number" ? `/${error.error_subcode}` : "";
    const title = platformWords(error.error_user_title);
    const words = `meta code ${code}${sub}${title ? ` (${title})` : ""}: ${platformWords(error.message) || "no message"}`;
    if (isPermanent(code)) return refused(words);
    if (TRANSIENT.has(code)) return retryLater(answer, words, false);
    if (RATE_LIMITS.has(code)) return retryLater(answer, words, true);
    if (error.is_transient === true) return retryLater(answer, words, false);
    if (error.is_transient === false) return refused(words);
    const status = byStatus(answer);
    // An unknown code in a 2xx is not a success; elsewhere the HTTP status decides.
    if (status.outcome === "delivered") return refused(words);
    return status.outcome === "retry" ? retryLater(answer, words, false) : refused(words);
  }
  if (answer.status < 200 || answer.status >= 300) return byStatus(answer);
  // The documented success: {"events_received": n, "messages": [], "fbtrace_id": "…"}.
  if (isObject(parsed) && typeof parsed.events_received === "number") return { outcome: "delivered" };
  return refused("meta answered without events_received (is base_url the Graph API?)");
}

export const metaCapi: AdPlatform = {
  name: "meta-capi",
  platform: "Meta Conversions API",
  params: [
    { name: "pixel_id", required: true, description: "the pixel (dataset) id from Events Manager" },
    { name: "access_token", required: true, secret: true, description: "the Conversions API access token; use ${META_CAPI_TOKEN}" },
    { name: "api_version", required: false, default: "v25.0", description: "Graph API version" },
    { name: "test_event_code", required: false, description: "test mode: the code from Events Manager → Test Events (remove it in production: test events still count)" },
    { name: "encoding", required: false, default: "json", description: "request body: json, or form (data=… as Graph form fields)" },
    baseUrlParam("https://graph.facebook.com"),
  ],
  // §1.3: a free channel join is a registration, not a paid Subscribe; a Start in the bot is a Lead.
  defaultEvents: { wait: "Lead", approve: "CompleteRegistration" },
  maxEvents: 1000,
  storedUrl: (s) => `${baseOf(s)}/${enc(s.params.api_version!)}/${enc(s.params.pixel_id!)}/events?access_token=***`,
  build(settings, rows) {
    return bodyOf(rows.map((row) => serverEvent(settings, row)), settings.params.test_event_code ?? "", settings.params.encoding === "form");
  },
  batchKey: () => "",
  bodyBatchKey(body, contentType) {
    const read = readBody(body, contentType);
    return read ? `test_event_code=${read.test}` : null;
  },
  mergeBodies(bodies, contentType) {
    const read = bodies.map((b) => readBody(b, contentType));
    return bodyOf(read.flatMap((r) => r?.data ?? []), read[0]?.test ?? "", isForm(contentType));
  },
  refusalMayBeOneEvent,
  sign(url, secret) {
    url.searchParams.set("access_token", secret);
    return {};
  },
  classify,
  checkEventName: (name) => (name.length > 100 ? "is longer than 100 characters" : null),
  checkParams(params) {
    const problems: [string, string][] = [];
    const base = checkBaseUrl(params.base_url);
    if (base) problems.push(["base_url", base]);
    if (!/^v\d+\.\d+$/.test(params.api_version ?? "")) problems.push(["api_version", `"${params.api_version}" is not a Graph API version such as v25.0`]);
    if (!["json", "form"].includes(params.encoding ?? "")) problems.push(["encoding", "must be json or form"]);
    return problems;
  },
  notes: "POST /{api_version}/{pixel_id}/events?access_token=…; action_source website (landing URL and user agent known) or chat; external_id = SHA-256 of the Telegram user id.",
};
