/**
 * Ad-platform destinations end to end: config `destinations` → lead events → the outbox and the
 * real dispatcher → fakes on 127.0.0.1 that answer as Meta, TikTok, GA4 and Yandex do
 * (helpers/fake-ad-platforms/, shared/reference/ad-platforms.md). The expected hashes are written
 * here (sha256sum), not computed by src code.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { storedText } from "../helpers/db-inspect.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeGa4, FakeMetaCapi, FakeTikTokEvents, FakeYandexMetrica, META_ERRORS, TIKTOK_ERRORS, YANDEX_ERRORS } from "../helpers/fake-ad-platforms/index.ts";
import { json } from "../helpers/fake-trackers/contract-tracker.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { applyEvent, listPostbacks } from "../helpers/service/api-client.ts";
import { testConfig, type ConfigInput } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKENS = { meta: "EAAB-meta-token-3f9a1c0d", tiktok: "tt-access-token-88d1e2f4", ga4: "ga4ApiSecret51b7XyZ", yandex: "y0_AgAAAAyandexOauth6c2d" };
const ROTATED_META = "EAAB-rotated-token-7e4b9a2c";
// printf '%s' <subscriber> | sha256sum
const HASH_123456789 = "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225";
const CHAT = -1001234567890;

let meta: FakeMetaCapi;
let tiktok: FakeTikTokEvents;
let ga4: FakeGa4;
let yandex: FakeYandexMetrica;
let svc: TestService;
let clock: FakeClock;
let config: ConfigInput;
/** Every API answer the tests read, for the leak check at the end. */
const answers: string[] = [];

const destinations = (metaToken: string) => ({
  fb: { preset: "meta-capi", pixel_id: "1234567890", access_token: metaToken, test_event_code: "TEST123", base_url: meta.base },
  tt: { preset: "tiktok-events", pixel_code: "CABCD1234", access_token: TOKENS.tiktok, page_url: "https://t.me/spring_channel", base_url: tiktok.base },
  ga: { preset: "ga4", measurement_id: "G-ABC123", api_secret: TOKENS.ga4, base_url: ga4.base },
  ym: { preset: "yandex-metrica", counter_id: "987654", oauth_token: TOKENS.yandex, events: { approve: "telegram_join" }, base_url: yandex.base },
});

async function api(method: string, path: string, body?: unknown) {
  const res = await svc.api(method, path, body);
  answers.push(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

const rowsOf = async (lead: number) => (await listPostbacks(svc, `&lead=${lead}`)).sort((a, b) => a.id - b.id);
const settled = (lead: number) => eventually(async () => (await rowsOf(lead)).every((p) => p.state !== "pending"), 5000, `lead ${lead}'s postbacks settled`);

beforeAll(async () => {
  [meta, tiktok, ga4, yandex] = await Promise.all([
    FakeMetaCapi.start({ token: TOKENS.meta, pixelId: "1234567890" }),
    FakeTikTokEvents.start({ token: TOKENS.tiktok, pixelCode: "CABCD1234" }),
    FakeGa4.start(),
    FakeYandexMetrica.start({ token: TOKENS.yandex, counterId: "987654" }),
  ]);
  // Meta refuses events older than 7 days, Yandex a DateTime in the future: the fake clock starts
  // a little behind real time and is moved on by a few minutes at most.
  clock = new FakeClock(Date.now() - 10 * 60_000);
  config = {
    delivery: { retry_ladder: ["0s", "1m", "1m"] },
    destinations: destinations(TOKENS.meta),
    campaigns: [{ code: "c1", chat: CHAT, payouts: { approve: { payout: "2.5", currency: "EUR" } }, postbacks: { destination: ["fb", "tt", "ga", "ym"] } }],
  };
  svc = await startTestService(config, { clock });
  config = testConfig(svc.dir, config);
}, 30_000);

// Each test leaves the fakes and the config as they started, whatever it did or wherever it failed.
afterEach(async () => {
  meta.failWith = tiktok.failWith = yandex.failWith = null;
  meta.token = TOKENS.meta;
  for (const fake of [meta, tiktok, ga4, yandex]) fake.override(null);
  svc.writeConfig(config);
  expect((await svc.api("POST", "/api/config/reload", {})).status).toBe(200);
});

afterAll(async () => {
  await svc?.stop();
  await Promise.all([meta, tiktok, ga4, yandex].map((f) => f?.close()));
});

describe("each platform receives its own request, and its answer decides", () => {
  test("a Start and a join: event names, event ids, the hashed Telegram user id, value and currency; all delivered", async () => {
    const wait = await applyEvent(svc, { subscriber: 123456789, status: "wait" });
    const approve = await applyEvent(svc, { subscriber: 123456789, status: "approve" });
    await settled(wait.lead);
    const rows = await rowsOf(wait.lead);
    expect(rows.map((p) => [p.template, p.state])).toEqual([
      ["destinations.fb.wait", "delivered"], ["destinations.tt.wait", "delivered"], ["destinations.ga.wait", "delivered"],
      ["destinations.fb.approve", "delivered"], ["destinations.tt.approve", "delivered"], ["destinations.ga.approve", "delivered"], ["destinations.ym.approve", "delivered"],
    ]);
    const seconds = Math.floor(clock.now() / 1000);

    const metaEvents = meta.events.filter((e) => [String(wait.event), String(approve.event)].includes(e.event_id!));
    expect(metaEvents).toEqual([
      { event_name: "Lead", event_time: seconds, event_id: String(wait.event), action_source: "chat", user_data: { external_id: [HASH_123456789] }, test_event_code: "TEST123" },
      {
        event_name: "CompleteRegistration", event_time: seconds, event_id: String(approve.event), action_source: "chat",
        user_data: { external_id: [HASH_123456789] }, custom_data: { value: 2.5, currency: "EUR" }, test_event_code: "TEST123",
      },
    ]);
    expect(meta.received.at(-1)!.query.access_token).toBe(TOKENS.meta);

    const tiktokEvents = tiktok.events.filter((e) => [String(wait.event), String(approve.event)].includes(e.event_id!));
    expect(tiktokEvents.map((e) => [e.event, e.user, e.page, e.properties])).toEqual([
      ["Lead", { external_id: [HASH_123456789] }, { url: "https://t.me/spring_channel" }, undefined],
      ["CompleteRegistration", { external_id: [HASH_123456789] }, { url: "https://t.me/spring_channel" }, { value: 2.5, currency: "EUR" }],
    ]);
    expect(tiktok.received.at(-1)!.headers["access-token"]).toBe(TOKENS.tiktok);

    const collected = ga4.collected.filter((r) => r.user_id === HASH_123456789);
    expect(collected.map((r) => [r.api_secret, r.measurement_id, r.client_id, r.timestamp_micros, r.events])).toEqual([
      [TOKENS.ga4, "G-ABC123", HASH_123456789, seconds * 1_000_000, [{ name: "generate_lead", params: { event_id: String(wait.event) } }]],
      [TOKENS.ga4, "G-ABC123", HASH_123456789, seconds * 1_000_000, [{ name: "join_group", params: { event_id: String(approve.event), group_id: String(CHAT), value: 2.5, currency: "EUR" } }]],
    ]);

    expect(yandex.uploads.at(-1)).toEqual({
      counter: "987654", header: ["UserId", "Target", "DateTime", "Price", "Currency"], rows: [[HASH_123456789, "telegram_join", String(seconds), "2.5", "EUR"]], filename: "conversions.csv",
    });
    expect(yandex.received.at(-1)!.headers.authorization).toBe(`OAuth ${TOKENS.yandex}`);

    // Stored and shown with the secret replaced; the attempt log too.
    const fb = rows.find((p) => p.template === "destinations.fb.approve")!;
    expect(fb.url).toBe(`${meta.base}/v25.0/1234567890/events?access_token=***`);
    expect(rows.find((p) => p.template === "destinations.ga.approve")!.url).toBe(`${ga4.base}/mp/collect?measurement_id=G-ABC123&api_secret=***`);
    const detail = await api("GET", `/api/postbacks/${fb.id}`);
    expect(detail.body.attempts.map((a: any) => [a.url, a.http_status, a.outcome])).toEqual([[fb.url, 200, "delivered"]]);
  });

  test("a token rotated by a reload is used for a row already queued", async () => {
    meta.failWith = "service_temporary"; // code 2: retried
    const { lead } = await applyEvent(svc, { subscriber: 2002, status: "wait" });
    // The outcome of the first attempt is stored (a claim already counts the attempt, its reason comes with the outcome).
    await eventually(async () => (await rowsOf(lead)).find((p) => p.template === "destinations.fb.wait")?.reason != null, 5000, "first attempt's outcome");
    const row = (await rowsOf(lead)).find((p) => p.template === "destinations.fb.wait")!;
    expect(row).toMatchObject({ state: "pending", reason: "platform retry: meta code 2: An unexpected error has occurred. Please retry your request later." });

    meta.failWith = null;
    meta.token = ROTATED_META; // the old token is now refused with code 190
    svc.writeConfig({ ...config, destinations: destinations(ROTATED_META) });
    expect((await api("POST", "/api/config/reload", {})).status).toBe(200);
    clock.advance(60_000);
    await eventually(async () => (await rowsOf(lead)).find((p) => p.id === row.id)?.state === "delivered", 5000, "retried with the new token");
    expect(meta.received.at(-1)!.query.access_token).toBe(ROTATED_META);
    const detail = await api("GET", `/api/postbacks/${row.id}`);
    expect(detail.body.attempts.map((a: any) => [a.outcome, a.error])).toEqual([
      ["retry", "platform retry: meta code 2: An unexpected error has occurred. Please retry your request later."], ["delivered", null],
    ]);
  });

  test("a refused token: rejected with Meta's words, not retried; a destination removed by a reload refuses its queued rows", async () => {
    meta.token = "EAAB-some-other-token";
    const { lead } = await applyEvent(svc, { subscriber: 3003, status: "wait" });
    await settled(lead);
    const fb = (await rowsOf(lead)).find((p) => p.template === "destinations.fb.wait")!;
    expect(fb).toMatchObject({ state: "rejected", attempts: 1, last_http_status: 400, reason: "platform refused: meta code 190: The access token could not be decrypted" });
    meta.token = TOKENS.meta;

    tiktok.override(() => ({ status: 503, body: "upstream" }));
    const second = await applyEvent(svc, { subscriber: 3004, status: "wait" });
    await eventually(async () => (await rowsOf(second.lead)).find((p) => p.template === "destinations.tt.wait")?.reason != null, 5000, "tiktok's first attempt's outcome");
    const { tt: _, ...withoutTikTok } = destinations(TOKENS.meta);
    svc.writeConfig({ ...config, destinations: withoutTikTok, campaigns: [{ ...(config.campaigns as any[])[0], postbacks: { destination: ["fb", "ga", "ym"] } }] });
    expect((await api("POST", "/api/config/reload", {})).status).toBe(200);
    clock.advance(60_000);
    await settled(second.lead);
    const tt = (await rowsOf(second.lead)).find((p) => p.template === "destinations.tt.wait")!;
    expect(tt).toMatchObject({ state: "rejected", reason: "no_destination: destination \"tt\" is no longer configured: its access_token cannot be filled in" });
  });
});

describe("every documented answer → its verdict (sent through the campaign test endpoint)", () => {
  const sendTest = async (template: string) => {
    const res = await api("POST", "/api/campaigns/c1/test", { status: "approve", subscriber: 4004, send: true });
    expect(res.status).toBe(200);
    return res.body.requests.find((r: any) => r.template === template).result as { outcome: string; reason: string | null; http_status: number | null };
  };

  const metaCases = Object.entries({
    token_undecryptable: "rejected", token_malformed: "rejected", timestamp_too_old: "rejected", parameter_missing: "rejected", object_not_found: "rejected",
    permission_missing: "rejected", permission_200: "rejected", session: "rejected", unknown_error: "retry", service_temporary: "retry",
    app_rate_limit: "retry", user_request_limit: "retry", page_rate_limit: "retry", app_limit: "retry", ad_account_calls: "retry", ad_account_calls_80004: "retry",
  } satisfies Record<keyof typeof META_ERRORS, string>);
  test.each(metaCases)("meta %s → %s", async (name, outcome) => {
    meta.failWith = name as keyof typeof META_ERRORS;
    const result = await sendTest("destinations.fb.approve");
    meta.failWith = null;
    expect(result.outcome).toBe(outcome);
    expect(result.reason).toContain(`meta code ${META_ERRORS[name as keyof typeof META_ERRORS].code}`);
    expect(result.reason).toContain(META_ERRORS[name as keyof typeof META_ERRORS].message.slice(0, 40));
  });

  const tiktokCases = Object.entries({ no_permission: "rejected", bad_parameter: "rejected", too_many_requests: "retry", token_revoked: "rejected" } satisfies Record<keyof typeof TIKTOK_ERRORS, string>);
  test.each(tiktokCases)("tiktok %s (HTTP 200) → %s", async (name, outcome) => {
    tiktok.failWith = name as keyof typeof TIKTOK_ERRORS;
    const result = await sendTest("destinations.tt.approve");
    tiktok.failWith = null;
    expect(result).toMatchObject({ outcome, http_status: 200 });
    expect(result.reason).toContain(`tiktok code ${TIKTOK_ERRORS[name as keyof typeof TIKTOK_ERRORS].code}: ${TIKTOK_ERRORS[name as keyof typeof TIKTOK_ERRORS].message}`);
  });

  const yandexCases = Object.entries({
    backend_error: "retry", quota_requests_by_uid: "retry", quota_delegate_requests: "retry", invalid_parameter: "rejected", missing_parameter: "rejected",
    unauthorized: "rejected", invalid_token: "rejected", access_denied: "rejected", not_found: "rejected",
  } satisfies Record<keyof typeof YANDEX_ERRORS, string>);
  test.each(yandexCases)("yandex %s → %s", async (name, outcome) => {
    yandex.failWith = name as keyof typeof YANDEX_ERRORS;
    const result = await sendTest("destinations.ym.approve");
    yandex.failWith = null;
    const e = YANDEX_ERRORS[name as keyof typeof YANDEX_ERRORS];
    expect(result).toMatchObject({ outcome, http_status: e.status, reason: `platform ${outcome === "retry" ? "retry" : "refused"}: yandex ${e.error_type}: ${e.message}` });
  });

  test("the successes: meta, tiktok, ga4 and yandex all delivered", async () => {
    const res = await api("POST", "/api/campaigns/c1/test", { status: "approve", subscriber: 4005, send: true });
    expect(res.body.requests.map((r: any) => [r.template, r.result.outcome, r.result.http_status])).toEqual([
      ["destinations.fb.approve", "delivered", 200], ["destinations.tt.approve", "delivered", 200], ["destinations.ga.approve", "delivered", 204], ["destinations.ym.approve", "delivered", 200],
    ]);
  });

  test("ga4: the validation endpoint's messages refuse, 5xx is retried", async () => {
    ga4.override(() => json({ validationMessages: [{ fieldPath: "events", description: "Event at index: [0] has invalid name [_badEventName]. Names must start with an alphabetic character.", validationCode: "NAME_INVALID" }] }));
    const refused = await sendTest("destinations.ga.approve");
    ga4.override(() => ({ status: 503, body: "" }));
    const retried = await sendTest("destinations.ga.approve");
    ga4.override(null);
    expect(refused).toMatchObject({ outcome: "rejected", reason: "platform refused: ga4 validation NAME_INVALID at events: Event at index: [0] has invalid name [_badEventName]. Names must start with an alphabetic character." });
    expect(retried).toMatchObject({ outcome: "retry", http_status: 503 });
  });
});

describe("GET /api/presets", () => {
  test("lists the four ad platforms with their params, the secret marked, default events and the stored URL", async () => {
    const res = await api("GET", "/api/presets");
    expect(res.status).toBe(200);
    const ads = res.body.ad_platforms as any[];
    expect(ads.map((p) => [p.name, p.params.filter((x: any) => x.secret).map((x: any) => x.name), p.default_events, p.example])).toEqual([
      ["meta-capi", ["access_token"], { wait: "Lead", approve: "CompleteRegistration" }, "https://graph.facebook.com/v25.0/YOUR_PIXEL_ID/events?access_token=***"],
      ["tiktok-events", ["access_token"], { wait: "Lead", approve: "CompleteRegistration" }, "https://business-api.tiktok.com/open_api/v1.3/event/track/"],
      ["ga4", ["api_secret"], { wait: "generate_lead", approve: "join_group" }, "https://www.google-analytics.com/mp/collect?measurement_id=YOUR_MEASUREMENT_ID&api_secret=***"],
      ["yandex-metrica", ["oauth_token"], {}, "https://api-metrika.yandex.net/management/v1/counter/YOUR_COUNTER_ID/offline_conversions/upload"],
    ]);
    expect((res.body.items as any[]).map((p) => p.name)).not.toContain("meta-capi"); // the tracker presets' list is as it was
  });
});

describe("secrets", () => {
  test("no token or API secret in the logs, any API answer, the attempt log, the database", async () => {
    for (const path of ["/api/campaigns", "/api/presets", "/api/stats", "/api/leads?limit=500"]) expect((await api("GET", path)).status).toBe(200);
    const rows = await listPostbacks(svc);
    answers.push(JSON.stringify(rows));
    expect(rows.length).toBeGreaterThan(10);
    for (const p of rows) expect((await api("GET", `/api/postbacks/${p.id}`)).status).toBe(200);
    // the traffic really reached the fakes with the secrets
    expect(meta.received.some((r) => r.query.access_token === TOKENS.meta)).toBe(true);
    expect(ga4.collected.some((r) => r.api_secret === TOKENS.ga4)).toBe(true);

    const stored = await storedText(`${svc.dir}/tgcpa.db`);
    const places = { logs: svc.logs.join(""), answers: answers.join("\n"), database: stored };
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(places)) {
      for (const secret of [...Object.values(TOKENS), ROTATED_META]) {
        for (const form of new Set([secret, encodeURIComponent(secret)])) if (text.includes(form)) leaks.push(`${secret} in ${where}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(places.database).toContain("access_token=***");
  }, 30_000);
});
