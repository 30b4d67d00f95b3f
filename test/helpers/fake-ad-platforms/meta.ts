// Meta's Conversions API on 127.0.0.1 (shared/reference/ad-platforms.md §1): POST
// /{version}/{pixel}/events?access_token=…, the events in `data` (a JSON body, or Graph form fields
// data=<JSON>). Answers: 200 {"events_received", "messages", "fbtrace_id"}; errors in the Graph
// envelope {"error": {message, type, code, error_subcode, is_transient, error_user_title,
// error_user_msg, fbtrace_id}}. The HTTP status of throttling errors is unverified: the fake answers
// every error with 400 (the support page: invalid requests get 4xx), so a client must read the code.
import { ContractTracker, json } from "../fake-trackers/contract-tracker.ts";
import type { Behaviour, Received } from "../fake-trackers/recording-tracker.ts";

export interface MetaError {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_title?: string;
  error_user_msg?: string;
}

/** The documented error bodies (§1.9), by a name for tests; `status`: the HTTP status the fake uses. */
export const META_ERRORS = {
  token_undecryptable: { message: "The access token could not be decrypted", type: "OAuthException", code: 190 },
  token_malformed: { message: "Malformed access token", type: "OAuthException", code: 190 },
  timestamp_too_old: {
    message: "Invalid parameter", type: "OAuthException", code: 100, error_subcode: 2804003, is_transient: false,
    error_user_title: "Event Timestamp Too Old",
    error_user_msg: "The timestamp for this event is too far in the past. Events need to be sent from your server within 7 days of when they occurred. Enter a timestamp that has occurred within the last 7 days.",
  },
  parameter_missing: { message: "The parameter $['data'][0]['event_time'] is required.", type: "OAuthException", code: 100, error_subcode: 2804019, error_user_title: "Server-side API parameter error" },
  object_not_found: {
    message: "Unsupported post request. Object with ID '1234567891234569' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
    type: "GraphMethodException", code: 100, error_subcode: 33,
  },
  permission_missing: { message: "(#10) Application does not have permission for this action", type: "OAuthException", code: 10 },
  permission_200: { message: "(#200) Permissions error", type: "OAuthException", code: 200 },
  session: { message: "Error validating access token: Session has expired", type: "OAuthException", code: 102 },
  unknown_error: { message: "An unknown error has occurred.", type: "OAuthException", code: 1, is_transient: true },
  service_temporary: { message: "An unexpected error has occurred. Please retry your request later.", type: "OAuthException", code: 2, is_transient: true },
  app_rate_limit: { message: "(#4) Application request limit reached", type: "OAuthException", code: 4, is_transient: true },
  user_request_limit: { message: "User request limit reached", type: "OAuthException", code: 17, error_subcode: 2446079 },
  page_rate_limit: { message: "(#32) Page request limit reached", type: "OAuthException", code: 32 },
  app_limit: { message: "(#341) Application limit reached", type: "OAuthException", code: 341 },
  ad_account_calls: { message: "(#613) There have been too many calls from this ad-account", type: "OAuthException", code: 613, error_subcode: 1487742 },
  ad_account_calls_80004: { message: "There have been too many calls to this ad-account. Wait a bit and try again.", type: "OAuthException", code: 80004 },
} satisfies Record<string, MetaError>;
export type MetaErrorName = keyof typeof META_ERRORS;

export interface MetaReceivedEvent {
  event_name: string;
  event_time: number;
  event_id?: string;
  action_source: string;
  event_source_url?: string;
  user_data: Record<string, unknown>;
  custom_data?: Record<string, unknown>;
}

export class FakeMetaCapi extends ContractTracker {
  /** Events accepted, in order, with the test_event_code they came with. */
  readonly events: (MetaReceivedEvent & { test_event_code?: string })[] = [];
  private traces = 0;
  /** When set, every request is answered with this documented error. */
  failWith: MetaErrorName | null = null;

  private constructor(public token: string, readonly pixelId: string, readonly version: string) {
    super();
  }

  static start(opts: { token: string; pixelId: string; version?: string }) {
    return new FakeMetaCapi(opts.token, opts.pixelId, opts.version ?? "v25.0").listen();
  }

  private error(e: MetaError): Behaviour {
    return json({ error: { ...e, fbtrace_id: `AbCdEf${++this.traces}` } }, 400);
  }

  protected answer(req: Received): Behaviour {
    if (req.method !== "POST") return this.error({ message: "Unsupported get request.", type: "GraphMethodException", code: 100 });
    const m = /^\/(v\d+\.\d+)\/([^/]+)\/events$/.exec(req.path);
    if (!m || m[1] !== this.version) return this.error({ message: "Unknown path components", type: "OAuthException", code: 2500 });
    const form = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded") ? new URLSearchParams(req.body) : null;
    const token = req.query.access_token ?? form?.get("access_token") ?? undefined;
    if (!token) return this.error({ message: "An active access token must be used to query information about the current user.", type: "OAuthException", code: 2500 });
    if (token !== this.token) return this.error(META_ERRORS.token_undecryptable);
    if (m[2] !== this.pixelId) return this.error({ ...META_ERRORS.object_not_found, message: META_ERRORS.object_not_found.message.replace("1234567891234569", m[2]!) });
    if (this.failWith) return this.error(META_ERRORS[this.failWith]);
    let body: { data?: unknown; test_event_code?: string };
    try {
      body = form ? { data: JSON.parse(form.get("data") ?? "null"), test_event_code: form.get("test_event_code") ?? undefined } : JSON.parse(req.body);
    } catch {
      return this.error({ message: "Invalid parameter", type: "OAuthException", code: 100 });
    }
    if (!Array.isArray(body.data) || body.data.length === 0 || body.data.length > 1000) {
      return this.error({ message: "The parameter data is required", type: "OAuthException", code: 100, error_subcode: 2804019, error_user_title: "Server-side API parameter error" });
    }
    // One bad event rejects the whole batch (§1.3).
    for (const [i, e] of (body.data as MetaReceivedEvent[]).entries()) {
      for (const field of ["event_name", "event_time", "action_source", "user_data"] as const) {
        if (e[field] === undefined || e[field] === null) {
          return this.error({ message: `The parameter $['data'][${i}]['${field}'] is required.`, type: "OAuthException", code: 100, error_subcode: 2804019, error_user_title: "Server-side API parameter error" });
        }
      }
      if (e.action_source === "website" && (!e.event_source_url || !e.user_data.client_user_agent)) {
        return this.error({ message: `The parameter $['data'][${i}]['event_source_url'] is required.`, type: "OAuthException", code: 100, error_subcode: 2804019, error_user_title: "Server-side API parameter error" });
      }
      if (e.event_time < Date.now() / 1000 - 7 * 86_400) return this.error(META_ERRORS.timestamp_too_old);
    }
    for (const e of body.data as MetaReceivedEvent[]) this.events.push({ ...e, ...(body.test_event_code ? { test_event_code: body.test_event_code } : {}) });
    return json({ events_received: body.data.length, messages: [], fbtrace_id: `AbCdEf${++this.traces}` });
  }
}
