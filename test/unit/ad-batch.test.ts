// Rows sent together to an ad platform: which stored bodies may share a request, the one body they
// make, and which refusals may be one event's (src/adplatforms/batch.ts and each platform's
// bodyBatchKey / mergeBodies / refusalMayBeOneEvent). The merged body must equal what the builder
// makes of the same events in one call — the shape each platform's reference documents.
import { describe, expect, test } from "bun:test";
import { adBatching, MAX_BATCH_ROWS } from "../../src/adplatforms/batch.ts";
import { AD_PLATFORMS } from "../../src/adplatforms/index.ts";
import type { AdSettings } from "../../src/adplatforms/platform.ts";
import { parseConfig } from "../../src/config/load.ts";
import { macroValues, type ClickRecord } from "../../src/domain/templates.ts";
import type { ClaimedPostback } from "../../src/storage/outbox-types.ts";

const AT_MS = 1_765_152_000_000;
const c = parseConfig(JSON.stringify({
  api_keys: ["k-0123456789abcdef0123456789abcdef"], storage: { path: ":memory:" },
  campaigns: [{ code: "spring", chat: -1001234567890 }],
}), {});
const campaign = c.campaigns[0]!;
const platform = (name: string) => AD_PLATFORMS.find((p) => p.name === name)!;
const values = (event: number, subscriber: number, click?: ClickRecord) =>
  macroValues(c.account_id, campaign, { id: event, click: "", subscriber, username: "", chatId: null }, { id: event, status: "approve", occurredAt: AT_MS, payout: null, currency: null }, click);
const settings = (params: Record<string, string>, events: Record<string, string> = { approve: "CompleteRegistration" }): AdSettings =>
  ({ params: { base_url: "https://x.example", encoding: "json", file_part: "file", ...params }, events, validateOnly: false });

describe("a merged body is the body of the same events built in one request", () => {
  const rows = [values(9001, 1), values(9002, 2, { params: { ttclid: "E.C.P.a" } }), values(9003, 3)];

  test.each([
    ["meta-capi", settings({ test_event_code: "TEST1" })],
    ["meta-capi", settings({ encoding: "form" })],
    ["tiktok-events", settings({ pixel_code: "CABCD1234", test_event_code: "T2" })],
  ])("%s", (name, s) => {
    const p = platform(name);
    const alone = rows.map((r) => p.build(s, [r]));
    const keys = alone.map((b) => p.bodyBatchKey(b.body, b.contentType));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).not.toBeNull();
    expect(p.mergeBodies(alone.map((b) => b.body), alone[0]!.contentType)).toEqual(p.build(s, rows));
  });

  test("ga4: rows of one client at one time merge; another client is another request", () => {
    const p = platform("ga4");
    const s = settings({ measurement_id: "G-1" }, { approve: "join_group" });
    const same = [values(9001, 7), values(9002, 7)].map((r) => p.build(s, [r]));
    expect(p.bodyBatchKey(same[0]!.body, null)).toBe(p.bodyBatchKey(same[1]!.body, null));
    expect(p.mergeBodies(same.map((b) => b.body), null)).toEqual(p.build(s, [values(9001, 7), values(9002, 7)]));
    expect(p.bodyBatchKey(p.build(s, [values(9003, 8)]).body, null)).not.toBe(p.bodyBatchKey(same[0]!.body, null));
  });

  test("yandex: one CSV of rows with the same id column; a quoted field is sent alone", () => {
    const p = platform("yandex-metrica");
    const s = settings({}, { approve: "telegram_join" });
    const withYclid = [values(9001, 1, { params: { yclid: "111" } }), values(9002, 2, { params: { yclid: "222" } })];
    const alone = withYclid.map((r) => p.build(s, [r]));
    expect(p.bodyBatchKey(alone[0]!.body, null)).toBe(p.bodyBatchKey(alone[1]!.body, null));
    expect(p.mergeBodies(alone.map((b) => b.body), null)).toEqual(p.build(s, withYclid));
    expect(p.bodyBatchKey(p.build(s, [values(9003, 3)]).body, null)).not.toBe(p.bodyBatchKey(alone[0]!.body, null)); // UserId, not Yclid
    expect(p.bodyBatchKey(p.build(s, [values(9004, 4, { params: { yclid: 'a,"b' } })]).body, null)).toBeNull();
  });
});

describe("a refusal of several events: one event's, or the request's own", () => {
  const answer = (status: number, body: unknown) => ({ kind: "response" as const, status, body: JSON.stringify(body), retryAfterMs: null });
  test.each([
    ["meta-capi", answer(400, { error: { code: 100, error_subcode: 2804003, message: "Invalid parameter" } }), true],
    ["meta-capi", answer(400, { error: { code: 100, error_subcode: 2804019, message: "The parameter $['data'][3]['event_time'] is required." } }), true],
    ["meta-capi", answer(400, { error: { code: 190, message: "The access token could not be decrypted" } }), false],
    ["meta-capi", answer(400, { error: { code: 100, error_subcode: 33, message: "Unsupported post request." } }), false],
    ["meta-capi", answer(400, { error: { code: 200, message: "(#200) Permissions error" } }), false],
    ["tiktok-events", answer(200, { code: 40002, message: "parameter problem" }), true],
    ["tiktok-events", answer(200, { code: 40105, message: "Access token is incorrect or has been revoked" }), false],
    ["ga4", answer(200, { validationMessages: [{ fieldPath: "events", validationCode: "NAME_INVALID", description: "bad" }] }), true],
    ["yandex-metrica", answer(400, { errors: [{ error_type: "invalid_parameter", message: "Некорректное значение " }], code: 400 }), true],
    ["yandex-metrica", answer(403, { errors: [{ error_type: "access_denied", message: "Access is denied" }], code: 403 }), false],
  ])("%s %j → %p", (name, a, expected) => expect(platform(name).refusalMayBeOneEvent(a)).toBe(expected));
});

describe("adBatching: the dispatcher's view", () => {
  const destinations = {
    fb: { name: "fb", preset: "meta-capi", params: { pixel_id: "1", base_url: "http://127.0.0.1:9001" }, verdict: "preset" as const },
    ga: { name: "ga", preset: "ga4", params: { measurement_id: "G-1" }, verdict: "preset" as const },
    kt: { name: "kt", preset: "keitaro", params: { domain: "trk.example" }, verdict: "preset" as const },
  };
  const batching = adBatching(() => destinations);
  const row = (over: Partial<ClaimedPostback>): ClaimedPostback => ({
    id: 1, leadId: 1, host: "127.0.0.1:9001", method: "POST", url: "http://127.0.0.1:9001/v25.0/1/events?access_token=***", body: JSON.stringify({ data: [{ event_id: "1" }] }),
    contentType: "application/json", attempts: 1, earlierAttempts: 0, leaseToken: 1, verdict: "meta-capi@fb", channel: "http", dueAt: 0, ...over,
  });

  test("a host's limit is its platform's (capped at 100 a request); a tracker's host is 1", () => {
    expect(batching.hostLimit("127.0.0.1:9001")).toBe(MAX_BATCH_ROWS);
    expect(batching.hostLimit("www.google-analytics.com")).toBe(25);
    expect(batching.hostLimit("trk.example")).toBe(1);
  });

  test("rows of one destination and URL share a key; another destination, a tracker row or a Bot API call do not", () => {
    const key = batching.keyOf(row({}));
    expect(key).toMatchObject({ limit: MAX_BATCH_ROWS });
    expect(batching.keyOf(row({ id: 2, body: JSON.stringify({ data: [{ event_id: "2" }] }) }))?.key).toBe(key!.key);
    expect(batching.keyOf(row({ verdict: "meta-capi@fb2" }))?.key).not.toBe(key!.key);
    expect(batching.keyOf(row({ verdict: "keitaro", body: null, method: "GET" }))).toBeNull();
    expect(batching.keyOf(row({ channel: "telegram", verdict: null }))).toBeNull();
    expect(JSON.parse(batching.merge([row({}), row({ id: 2, body: JSON.stringify({ data: [{ event_id: "2" }] }) })]).body).data).toEqual([{ event_id: "1" }, { event_id: "2" }]);
  });
});
