// Verdicts from each ad platform's own answers (shared/reference/ad-platforms.md §1.9, §2.5, §3.4,
// §4.4, §8), through the rule a row's stored verdict name selects (`<preset>@<destination>`).
import { describe, expect, test } from "bun:test";
import { classifyAttempt, reasonClass, THROTTLE_FLOOR_MS, type Classification } from "../../src/domain/verdict.ts";
import { verdictByName } from "../../src/presets/presets.ts";
import { META_ERRORS, TIKTOK_ERRORS, YANDEX_ERRORS } from "../helpers/fake-ad-platforms/index.ts";

const judge = (preset: string, status: number, body: unknown, retryAfterMs: number | null = null): Classification =>
  classifyAttempt({ kind: "response", status, body: typeof body === "string" ? body : JSON.stringify(body), retryAfterMs }, verdictByName(`${preset}@dest`));

type Expected = "delivered" | "rejected" | "retry" | "retry-throttled";
const outcomeOf = (c: Classification): Expected => (c.outcome === "retry" ? (c.minDelayMs >= THROTTLE_FLOOR_MS ? "retry-throttled" : "retry") : c.outcome);

describe("meta-capi: error.code / error_subcode / is_transient, not the HTTP status", () => {
  const envelope = (e: object) => ({ error: { ...e, fbtrace_id: "AbC" } });
  const cases: { name: string; status: number; body: unknown; expected: Expected; words?: string }[] = [
    { name: "success", status: 200, body: { events_received: 1, messages: [], fbtrace_id: "AbC" }, expected: "delivered" },
    { name: "success without messages (fixture)", status: 200, body: { events_received: 1, fbtrace_id: "facebook_trace_id" }, expected: "delivered" },
    { name: "190 token could not be decrypted, 400", status: 400, body: envelope(META_ERRORS.token_undecryptable), expected: "rejected", words: "meta code 190: The access token could not be decrypted" },
    { name: "190 with HTTP 500 (a fixture's status)", status: 500, body: envelope(META_ERRORS.token_undecryptable), expected: "rejected", words: "code 190" },
    { name: "190 malformed token", status: 400, body: envelope(META_ERRORS.token_malformed), expected: "rejected", words: "Malformed access token" },
    { name: "100/2804003 timestamp too old", status: 400, body: envelope(META_ERRORS.timestamp_too_old), expected: "rejected", words: "meta code 100/2804003 (Event Timestamp Too Old): Invalid parameter" },
    { name: "100/2804019 parameter error", status: 400, body: envelope(META_ERRORS.parameter_missing), expected: "rejected", words: "2804019" },
    { name: "100/33 object not found (wrong pixel)", status: 400, body: envelope(META_ERRORS.object_not_found), expected: "rejected", words: "meta code 100/33" },
    { name: "10 permission", status: 403, body: envelope(META_ERRORS.permission_missing), expected: "rejected" },
    { name: "200 permission", status: 403, body: envelope(META_ERRORS.permission_200), expected: "rejected" },
    { name: "299 permission range", status: 400, body: envelope({ message: "x", code: 299 }), expected: "rejected" },
    { name: "102 session", status: 400, body: envelope(META_ERRORS.session), expected: "rejected" },
    { name: "1 unknown error", status: 500, body: envelope(META_ERRORS.unknown_error), expected: "retry" },
    { name: "2 temporary", status: 503, body: envelope(META_ERRORS.service_temporary), expected: "retry" },
    { name: "2 temporary even with HTTP 400", status: 400, body: envelope(META_ERRORS.service_temporary), expected: "retry" },
    { name: "4 app rate limit", status: 400, body: envelope(META_ERRORS.app_rate_limit), expected: "retry-throttled" },
    { name: "17 user request limit", status: 400, body: envelope(META_ERRORS.user_request_limit), expected: "retry-throttled", words: "meta code 17/2446079: User request limit reached" },
    { name: "32 page rate limit", status: 400, body: envelope(META_ERRORS.page_rate_limit), expected: "retry-throttled" },
    { name: "341 app limit", status: 400, body: envelope(META_ERRORS.app_limit), expected: "retry-throttled" },
    { name: "613 ad-account calls", status: 400, body: envelope(META_ERRORS.ad_account_calls), expected: "retry-throttled" },
    { name: "80004 ad-account calls", status: 400, body: envelope(META_ERRORS.ad_account_calls_80004), expected: "retry-throttled" },
    { name: "368 blocked for a while", status: 400, body: envelope({ message: "blocked", code: 368 }), expected: "retry-throttled" },
    { name: "an unlisted code, is_transient true", status: 400, body: envelope({ message: "x", code: 9007, is_transient: true }), expected: "retry" },
    { name: "an unlisted code, is_transient false", status: 500, body: envelope({ message: "x", code: 9007, is_transient: false }), expected: "rejected" },
    { name: "an unlisted code in a 2xx is not a success", status: 200, body: envelope({ message: "x", code: 9007 }), expected: "rejected" },
    { name: "a listed permanent code in a 2xx", status: 200, body: envelope(META_ERRORS.token_undecryptable), expected: "rejected" },
    { name: "an unlisted code with a 5xx", status: 502, body: envelope({ message: "x", code: 9007 }), expected: "retry" },
    { name: "5xx without an envelope", status: 502, body: "Bad Gateway", expected: "retry" },
    { name: "429 without an envelope", status: 429, body: "", expected: "retry-throttled" },
    { name: "404 without an envelope", status: 404, body: "Not Found", expected: "rejected" },
    { name: "200 without events_received", status: 200, body: "OK", expected: "rejected", words: "without events_received" },
    { name: "200 HTML page", status: 200, body: "<!DOCTYPE html><html></html>", expected: "rejected" },
  ];
  test.each(cases)("$name → $expected", ({ status, body, expected, words }) => {
    const c = judge("meta-capi", status, body);
    expect(outcomeOf(c)).toBe(expected);
    if (words) expect((c as { reason: string }).reason).toContain(words);
    if (c.outcome !== "delivered") expect((c as { reason: string }).reason).not.toContain("fbtrace");
  });
});

describe("tiktok-events: the body's code, even on HTTP 200", () => {
  const reply = (code: number, message: string) => ({ code, message, request_id: "20261208", data: {} });
  const cases: { name: string; status: number; body: unknown; expected: Expected; words?: string }[] = [
    { name: "code 0 OK", status: 200, body: reply(0, "OK"), expected: "delivered" },
    { name: "40100 too many requests", status: 200, body: reply(TIKTOK_ERRORS.too_many_requests.code, TIKTOK_ERRORS.too_many_requests.message), expected: "retry-throttled", words: "tiktok code 40100" },
    { name: "40001 no permission", status: 200, body: reply(40001, TIKTOK_ERRORS.no_permission.message), expected: "rejected", words: "tiktok code 40001: No permission" },
    { name: "40002 parameter", status: 200, body: reply(40002, TIKTOK_ERRORS.bad_parameter.message), expected: "rejected", words: "40002" },
    { name: "40105 token", status: 200, body: reply(40105, TIKTOK_ERRORS.token_revoked.message), expected: "rejected", words: "Access token is incorrect or has been revoked" },
    { name: "an unknown non-zero code", status: 200, body: reply(51234, "Something else"), expected: "rejected", words: "51234" },
    { name: "HTTP 5xx", status: 503, body: "upstream", expected: "retry" },
    { name: "HTTP 5xx with a code", status: 500, body: reply(50000, "System error"), expected: "retry" },
    { name: "HTTP 429", status: 429, body: "", expected: "retry-throttled" },
    { name: "HTTP 404 page", status: 404, body: "404 page not found", expected: "rejected" },
    { name: "200 without a code", status: 200, body: "OK", expected: "rejected", words: "without a code" },
    { name: "200 with code 0 as a string is not TikTok's success", status: 200, body: { code: "0", message: "OK" }, expected: "rejected" },
  ];
  test.each(cases)("$name → $expected", ({ status, body, expected, words }) => {
    const c = judge("tiktok-events", status, body);
    expect(outcomeOf(c)).toBe(expected);
    if (words) expect((c as { reason: string }).reason).toContain(words);
  });
});

describe("ga4: 2xx delivered, 5xx retried; the validation endpoint's messages refuse", () => {
  const cases: { name: string; status: number; body: unknown; expected: Expected; words?: string }[] = [
    { name: "/mp/collect 204, no body", status: 204, body: "", expected: "delivered" },
    { name: "/mp/collect 200", status: 200, body: "", expected: "delivered" },
    { name: "validation: no messages", status: 200, body: { validationMessages: [] }, expected: "delivered" },
    {
      name: "validation: invalid name", status: 200, expected: "rejected", words: "ga4 validation NAME_INVALID at events: Event at index: [0] has invalid name [_badEventName]",
      body: { validationMessages: [{ fieldPath: "events", description: "Event at index: [0] has invalid name [_badEventName]. Names must start with an alphabetic character.", validationCode: "NAME_INVALID" }] },
    },
    { name: "5xx", status: 500, body: "", expected: "retry" },
    { name: "429", status: 429, body: "", expected: "retry-throttled" },
    { name: "4xx", status: 400, body: "", expected: "rejected" },
    { name: "an HTML page", status: 200, body: "<html><body>sign in</body></html>", expected: "rejected" },
  ];
  test.each(cases)("$name → $expected", ({ status, body, expected, words }) => {
    const c = judge("ga4", status, body);
    expect(outcomeOf(c)).toBe(expected);
    if (words) expect((c as { reason: string }).reason).toContain(words);
  });
});

describe("yandex-metrica: error_type first, then the HTTP status", () => {
  const error = (e: { status: number; error_type: string; message: string }) => ({ errors: [{ error_type: e.error_type, message: e.message }], code: e.status, message: e.message });
  const cases: { name: string; status: number; body: unknown; expected: Expected; words?: string }[] = [
    { name: "200 uploading", status: 200, body: { uploading: { id: 1, status: "UPLOADED", line_quantity: 1 } }, expected: "delivered" },
    { name: "503 backend_error", status: 503, body: error(YANDEX_ERRORS.backend_error), expected: "retry", words: "yandex backend_error: Сервис временно недоступен" },
    { name: "429 quota_requests_by_uid", status: 429, body: error(YANDEX_ERRORS.quota_requests_by_uid), expected: "retry-throttled" },
    { name: "420 quota_delegate_requests", status: 420, body: error(YANDEX_ERRORS.quota_delegate_requests), expected: "retry-throttled" },
    { name: "420 without a body", status: 420, body: "", expected: "retry-throttled" },
    { name: "400 invalid_parameter", status: 400, body: error(YANDEX_ERRORS.invalid_parameter), expected: "rejected", words: "yandex invalid_parameter" },
    { name: "400 missing_parameter", status: 400, body: error(YANDEX_ERRORS.missing_parameter), expected: "rejected" },
    { name: "401 unauthorized", status: 401, body: error(YANDEX_ERRORS.unauthorized), expected: "rejected" },
    { name: "403 invalid_token", status: 403, body: error(YANDEX_ERRORS.invalid_token), expected: "rejected" },
    { name: "403 access_denied", status: 403, body: error(YANDEX_ERRORS.access_denied), expected: "rejected" },
    { name: "404 not_found", status: 404, body: error(YANDEX_ERRORS.not_found), expected: "rejected" },
    { name: "a 200 that carries errors is not delivered", status: 200, body: error({ status: 200, error_type: "invalid_parameter", message: "bad" }), expected: "rejected" },
    { name: "an unknown error_type with a 5xx", status: 500, body: error({ status: 500, error_type: "something_new", message: "x" }), expected: "retry" },
    { name: "an unknown error_type with a 2xx", status: 200, body: error({ status: 200, error_type: "something_new", message: "x" }), expected: "rejected" },
    { name: "a 200 without uploading", status: 200, body: "OK", expected: "rejected", words: "without an uploading object" },
    { name: "a 502 page", status: 502, body: "Bad Gateway", expected: "retry" },
  ];
  test.each(cases)("$name → $expected", ({ status, body, expected, words }) => {
    const c = judge("yandex-metrica", status, body);
    expect(outcomeOf(c)).toBe(expected);
    if (words) expect((c as { reason: string }).reason).toContain(words);
  });
});

describe("reasons and metrics classes", () => {
  test("a platform's refusal and its retry have their own classes; Retry-After is kept", () => {
    const refusal = judge("meta-capi", 400, { error: META_ERRORS.token_undecryptable });
    expect(reasonClass((refusal as { reason: string }).reason)).toBe("platform_refused");
    const retry = judge("tiktok-events", 200, { code: 40100, message: "Too many requests" }, 30_000);
    expect(retry).toMatchObject({ outcome: "retry", retryAfterMs: 30_000, minDelayMs: THROTTLE_FLOOR_MS });
    expect(reasonClass((retry as { reason: string }).reason)).toBe("platform_retry");
  });

  test("a network error is retried for every platform; a stored name without a known platform is judged as before", () => {
    for (const preset of ["meta-capi", "tiktok-events", "ga4", "yandex-metrica"]) {
      expect(classifyAttempt({ kind: "error", error: "network", message: "ECONNREFUSED" }, verdictByName(`${preset}@d`)).outcome).toBe("retry");
    }
    expect(classifyAttempt({ kind: "response", status: 200, body: "{\"code\":40105}", retryAfterMs: null }, verdictByName("nosuch@d")).outcome).toBe("delivered");
  });
});
