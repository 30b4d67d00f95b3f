// The requests of the ad-platform destinations, from a config through renderRequest — the path a
// lead event's rows take — for known inputs: every expected hash and field is written here from
// shared/reference/ad-platforms.md (hashes computed with sha256sum), not computed by src code.
import { describe, expect, test } from "bun:test";
import { AD_PLATFORMS } from "../../src/adplatforms/index.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Status } from "../../src/domain/status.ts";
import { macroValues, renderRequest, type ClickRecord } from "../../src/domain/templates.ts";

// printf '%s' 123456789 | sha256sum
const TG_USER_HASH = "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225";
const TOKENS = { meta: "EAAB-meta-secret-token", tiktok: "tt-secret-token", ga4: "ga4-api-secret", yandex: "y0_yandex-oauth-token" };
const AT_MS = 1_765_152_000_000;

const config = (destinations: Record<string, unknown>, postbacks: Record<string, unknown>) => parseConfig(JSON.stringify({
  api_keys: ["k-0123456789abcdef0123456789abcdef"], storage: { path: ":memory:" }, destinations, postbacks,
  campaigns: [{ code: "spring", chat: -1001234567890, payouts: { approve: { payout: "1.5", currency: "usd" } } }],
}), {});

const click: ClickRecord = {
  params: { fbclid: "IwAR2xYz_AbC", ttclid: "E.C.P.tt123", yclid: "9283746501", client_id: "123456.7654321", ym_client_id: "133591247640966458", utm_source: "fb" },
  fbc: "fb.1.1765151000000.IwAR2xYz_AbC", fbp: "fb.1.1596403881668.1116446470",
  ip: "2001:db8::7", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)", referrer: "https://m.facebook.com/", landingUrl: "https://landing.example/tg?utm_source=fb",
};

/** The rendered request of one destination's template for status, for lead 123456789's event 9001. */
function render(destinations: Record<string, unknown>, status: Status, withClick: ClickRecord | undefined) {
  const c = config(destinations, { destination: Object.keys(destinations) });
  const campaign = c.campaigns[0]!;
  const values = macroValues(c.account_id, campaign, { id: 42, click: "", subscriber: 123456789, username: "alice", chatId: campaign.chat },
    { id: 9001, status, occurredAt: AT_MS, payout: null, currency: null }, withClick);
  return c.postbacks[status].map((t) => ({ template: t, ...renderRequest(t, values) }));
}

const META = { fb: { preset: "meta-capi", pixel_id: "1234567890", access_token: TOKENS.meta } };
const TIKTOK = { tt: { preset: "tiktok-events", pixel_code: "CABCD1234", access_token: TOKENS.tiktok } };
const GA4 = { ga: { preset: "ga4", measurement_id: "G-ABC123", api_secret: TOKENS.ga4 } };
const YANDEX = { ym: { preset: "yandex-metrica", counter_id: "987654", oauth_token: TOKENS.yandex, events: { approve: "telegram_join" } } };

const noSecret = (req: { url: string; body: string | null }) => {
  for (const token of Object.values(TOKENS)) expect(`${req.url} ${req.body}`).not.toContain(token);
};

describe("meta-capi", () => {
  test("with the click link: website, the landing URL, hashed external id, fbc/fbp/IP/UA as they are, value and currency", () => {
    const [req] = render({ fb: { ...META.fb, test_event_code: "TEST12345" } }, "approve", click);
    expect(req!.method).toBe("POST");
    expect(req!.url).toBe("https://graph.facebook.com/v25.0/1234567890/events?access_token=***");
    expect(req!.contentType).toBe("application/json");
    expect(JSON.parse(req!.body!)).toEqual({
      data: [{
        event_name: "CompleteRegistration", event_time: 1_765_152_000, event_id: "9001",
        action_source: "website", event_source_url: "https://landing.example/tg?utm_source=fb",
        user_data: {
          external_id: [TG_USER_HASH], fbc: "fb.1.1765151000000.IwAR2xYz_AbC", fbp: "fb.1.1596403881668.1116446470",
          client_ip_address: "2001:db8::7", client_user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)",
        },
        custom_data: { value: 1.5, currency: "USD" },
      }],
      test_event_code: "TEST12345",
    });
    expect(req!.template.verdict).toBe("meta-capi@fb");
    noSecret(req!);
  });

  test("without the click link: chat, no event_source_url, the external id alone; never business_messaging", () => {
    const [req] = render(META, "wait", undefined);
    const body = JSON.parse(req!.body!);
    expect(body).toEqual({ data: [{ event_name: "Lead", event_time: 1_765_152_000, event_id: "9001", action_source: "chat", user_data: { external_id: [TG_USER_HASH] } }] });
    expect(req!.body).not.toContain("business_messaging");
  });

  test("a landing URL without a user agent is chat: Meta requires client_user_agent for website events", () => {
    const [req] = render(META, "approve", { ...click, userAgent: "" });
    expect(JSON.parse(req!.body!).data[0]).toMatchObject({ action_source: "chat" });
    expect(JSON.parse(req!.body!).data[0].event_source_url).toBeUndefined();
  });

  test("encoding form: data=<JSON> and test_event_code as Graph form fields", () => {
    const [req] = render({ fb: { ...META.fb, encoding: "form", test_event_code: "T1" } }, "wait", undefined);
    expect(req!.contentType).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(req!.body!);
    expect(JSON.parse(form.get("data")!)[0]).toMatchObject({ event_name: "Lead", event_id: "9001" });
    expect(form.get("test_event_code")).toBe("T1");
  });

  test("statuses without an event send nothing; events replace the defaults", () => {
    expect(render(META, "cancel", undefined)).toEqual([]);
    const [req] = render({ fb: { ...META.fb, events: { approve: "Subscribe", wait: null } } }, "approve", undefined);
    expect(JSON.parse(req!.body!).data[0].event_name).toBe("Subscribe");
    expect(render({ fb: { ...META.fb, events: { wait: null } } }, "wait", undefined)).toEqual([]);
  });
});

describe("tiktok-events", () => {
  test("web event: pixel code, hashed external id, ttclid/IP/UA as they are, the landing page, value", () => {
    const [req] = render({ tt: { ...TIKTOK.tt, test_event_code: "TEST777" } }, "approve", click);
    expect(req!.url).toBe("https://business-api.tiktok.com/open_api/v1.3/event/track/");
    expect(JSON.parse(req!.body!)).toEqual({
      event_source: "web", event_source_id: "CABCD1234", test_event_code: "TEST777",
      data: [{
        event: "CompleteRegistration", event_time: 1_765_152_000, event_id: "9001",
        user: { external_id: [TG_USER_HASH], ttclid: "E.C.P.tt123", ip: "2001:db8::7", user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)" },
        page: { url: "https://landing.example/tg?utm_source=fb", referrer: "https://m.facebook.com/" },
        properties: { value: 1.5, currency: "USD" },
      }],
    });
    noSecret(req!);
  });

  test("without the click link: page_url stands for the page; without it, no page", () => {
    const [withPage] = render({ tt: { ...TIKTOK.tt, page_url: "https://t.me/spring_channel" } }, "wait", undefined);
    expect(JSON.parse(withPage!.body!).data[0]).toMatchObject({ event: "Lead", page: { url: "https://t.me/spring_channel" }, user: { external_id: [TG_USER_HASH] } });
    const [without] = render(TIKTOK, "wait", undefined);
    expect(JSON.parse(without!.body!).data[0].page).toBeUndefined();
  });
});

describe("ga4", () => {
  test("the click's GA client id, the hashed user id, microseconds, join_group with the channel, value and currency", () => {
    const [req] = render(GA4, "approve", click);
    expect(req!.url).toBe("https://www.google-analytics.com/mp/collect?measurement_id=G-ABC123&api_secret=***");
    expect(JSON.parse(req!.body!)).toEqual({
      client_id: "123456.7654321", user_id: TG_USER_HASH, timestamp_micros: 1_765_152_000_000_000,
      events: [{ name: "join_group", params: { event_id: "9001", group_id: "-1001234567890", value: 1.5, currency: "USD" } }],
    });
    noSecret(req!);
  });

  test("without a client id the hashed Telegram user id stands for it; validate_only goes to /debug/mp/collect", () => {
    const [req] = render({ ga: { ...GA4.ga, validate_only: true } }, "wait", undefined);
    expect(req!.url).toBe("https://www.google-analytics.com/debug/mp/collect?measurement_id=G-ABC123&api_secret=***");
    expect(JSON.parse(req!.body!)).toEqual({
      client_id: TG_USER_HASH, user_id: TG_USER_HASH, timestamp_micros: 1_765_152_000_000_000, validation_behavior: "ENFORCE_RECOMMENDATIONS",
      events: [{ name: "generate_lead", params: { event_id: "9001" } }],
    });
  });
});

describe("yandex-metrica", () => {
  const csvOf = (req: { body: string | null; contentType: string | null }, part = "file") => {
    const boundary = /boundary=(.+)$/.exec(req.contentType!)![1]!;
    const [, head, content] = new RegExp(`^--${boundary}\\r\\n([\\s\\S]*?)\\r\\n\\r\\n([\\s\\S]*)\\r\\n--${boundary}--\\r\\n$`).exec(req.body!)!;
    expect(head).toContain(`Content-Disposition: form-data; name="${part}"; filename="conversions.csv"`);
    return content!;
  };

  test("a CSV upload: Yclid, the goal, seconds, price and currency", () => {
    const [req] = render(YANDEX, "approve", click);
    expect(req!.url).toBe("https://api-metrika.yandex.net/management/v1/counter/987654/offline_conversions/upload");
    expect(req!.contentType).toStartWith("multipart/form-data; boundary=");
    expect(csvOf(req!)).toBe("Yclid,Target,DateTime,Price,Currency\r\n9283746501,telegram_join,1765152000,1.5,USD\r\n");
    noSecret(req!);
  });

  test("no yclid: the Metrica ClientId from the click; neither: the hashed Telegram user id as UserId; file_part names the part", () => {
    const [client] = render(YANDEX, "approve", { ...click, params: { ym_client_id: "133591247640966458" } });
    expect(csvOf(client!)).toBe("ClientId,Target,DateTime,Price,Currency\r\n133591247640966458,telegram_join,1765152000,1.5,USD\r\n");
    const [user] = render({ ym: { ...YANDEX.ym, file_part: "upload", events: { wait: "tg_start" } } }, "wait", undefined);
    expect(csvOf(user!, "upload")).toBe(`UserId,Target,DateTime\r\n${TG_USER_HASH},tg_start,1765152000\r\n`);
  });

  test("a value from the click that needs quoting is quoted (RFC 4180)", () => {
    const [req] = render(YANDEX, "approve", { params: { ym_client_id: 'a,"b' } });
    expect(csvOf(req!)).toContain('\r\n"a,""b",telegram_join,');
  });
});

describe("one request can carry several events (the batching will call the builders so)", () => {
  const c = config({ ...META, ...TIKTOK, ...GA4, ...YANDEX }, {});
  const campaign = c.campaigns[0]!;
  const rows = [9001, 9002].map((id, i) => macroValues(c.account_id, campaign, { id: 42, click: "", subscriber: 123456789, username: "", chatId: null },
    { id, status: i === 0 ? "wait" : "approve", occurredAt: AT_MS, payout: null, currency: null }, click));
  const settings = (events: Record<string, string>, params: Record<string, string> = {}) => ({ params: { base_url: "https://x.example", encoding: "json", ...params }, events, validateOnly: false });
  const platform = (name: string) => AD_PLATFORMS.find((p) => p.name === name)!;

  test("meta: both events in data, each with its own event id and name", () => {
    const body = JSON.parse(platform("meta-capi").build(settings({ wait: "Lead", approve: "CompleteRegistration" }), rows).body);
    expect(body.data.map((e: any) => [e.event_id, e.event_name])).toEqual([["9001", "Lead"], ["9002", "CompleteRegistration"]]);
  });

  test("tiktok: both in data; ga4: both in events of one client (their batch keys match)", () => {
    const tiktok = JSON.parse(platform("tiktok-events").build(settings({ wait: "Lead", approve: "CompleteRegistration" }, { pixel_code: "P" }), rows).body);
    expect(tiktok.data.map((e: any) => e.event_id)).toEqual(["9001", "9002"]);
    const ga = platform("ga4");
    expect(ga.batchKey(rows[0]!)).toBe(ga.batchKey(rows[1]!));
    const body = JSON.parse(ga.build(settings({ wait: "generate_lead", approve: "join_group" }), rows).body);
    expect(body.events.map((e: any) => [e.name, e.params.event_id])).toEqual([["generate_lead", "9001"], ["join_group", "9002"]]);
  });

  test("yandex: one CSV with a line per event; rows with another id column get another batch", () => {
    const ym = platform("yandex-metrica");
    const built = ym.build(settings({ wait: "tg_start", approve: "tg_join" }, { file_part: "file" }), rows);
    expect(built.body).toContain("Yclid,Target,DateTime\r\n9283746501,tg_start,1765152000\r\n9283746501,tg_join,1765152000\r\n");
    const other = macroValues(c.account_id, campaign, { id: 43, click: "", subscriber: 1, username: "", chatId: null }, { id: 9003, status: "approve", occurredAt: AT_MS, payout: null, currency: null });
    expect(ym.batchKey(other)).not.toBe(ym.batchKey(rows[0]!));
  });
});
