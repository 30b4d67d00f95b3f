/**
 * The click link end to end (SPEC §9): GET /c/{campaign} on the real service records the click
 * (parameters within bounds, Meta's cookies or an fbc built from the fbclid, the client address
 * through a trusted proxy, user agent, referrer, URL) and redirects to the bot; the Start that
 * carries its token (through a fake Bot API on 127.0.0.1) attaches the click to the lead, and its
 * parameters fill the macros of a tracker postback and of each ad platform's request (fakes that
 * answer in each platform's words). Crawlers and HEAD record nothing; unknown, paused and
 * not-yet-connected campaigns answer a page; a payload over 64 characters is refused where it is made.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeGa4, FakeMetaCapi, FakeTikTokEvents, FakeYandexMetrica } from "../helpers/fake-ad-platforms/index.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { queryDb } from "../helpers/service/database.ts";
import { listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { runCommand } from "../helpers/service/subprocess.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const TOKEN = "7000001:click-link-bot_TOKEN";
const GHOST = "7000002:never-answers_TOKEN"; // unknown to the fake: getMe fails, the username stays unknown
const CHAT = tg.channel(-1007000000001, "Spring channel");
const BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0]";

let api: FakeBotApi;
let tracker: RecordingTracker;
let meta: FakeMetaCapi;
let tiktok: FakeTikTokEvents;
let ga4: FakeGa4;
let yandex: FakeYandexMetrica;
let svc: TestService;
let clock: FakeClock;
let base: string;

const PB = (t: RecordingTracker) => `${t.base}/pb?click={click}&status={status}&campaign={campaign}&src={utm_source}&s1={sub1}&ad={param:ad_id}`
  + "&ip={ip}&ua={user_agent}&fbc={fbc}&fbp={fbp}&ref={referrer}&lp={landing_url}&gclid={gclid}";

beforeAll(async () => {
  api = await FakeBotApi.start();
  api.addBot({ token: TOKEN, username: "spring_bot" });
  [tracker, meta, tiktok, ga4, yandex] = await Promise.all([
    RecordingTracker.start(),
    FakeMetaCapi.start({ token: "meta-token-0001", pixelId: "1234567890" }),
    FakeTikTokEvents.start({ token: "tiktok-token-0001", pixelCode: "CABCD1234" }),
    FakeGa4.start(),
    FakeYandexMetrica.start({ token: "yandex-token-0001", counterId: "987654" }),
  ]);
  // Meta refuses events older than 7 days, Yandex one in the future: the clock stays just behind real time.
  clock = new FakeClock(Date.now() - 5 * 60_000);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: base, trusted_proxies: ["127.0.0.1"] },
    rate_limits: { click_per_minute: 0 }, // the limit has its own service below
    bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot }, ghost: { token: GHOST, mode: "polling", api_root: api.apiRoot } },
    destinations: {
      fb: { preset: "meta-capi", pixel_id: "1234567890", access_token: "meta-token-0001", base_url: meta.base },
      tt: { preset: "tiktok-events", pixel_code: "CABCD1234", access_token: "tiktok-token-0001", base_url: tiktok.base },
      ga: { preset: "ga4", measurement_id: "G-ABC123", api_secret: "ga4-secret-0001", base_url: ga4.base },
      ym: { preset: "yandex-metrica", counter_id: "987654", oauth_token: "yandex-token-0001", events: { approve: "telegram_join" }, base_url: yandex.base },
    },
    campaigns: [
      { code: "spring", bot: "main", chat: CHAT.id, postbacks: { wait: PB(tracker), approve: [{ destination: "fb" }, { destination: "tt" }, { destination: "ga" }, { destination: "ym" }] } },
      {
        code: "tracked", bot: "main", chat: CHAT.id - 1, click_link: { click_param: "subid" }, postbacks: { wait: `${tracker.base}/trk?click={click}&status={status}` },
        welcome: { text: "Hi from {utm_source}", button: { text: "More", url: "https://landing.example/thanks?src={utm_source}&ad={param:ad}" } },
      },
      { code: "page", bot: "main", chat: CHAT.id - 2, click_link: { mode: "page" } },
      { code: "frozen", bot: "main", chat: CHAT.id - 3, paused: true },
      { code: "nobot" },
      { code: "off", bot: "main", chat: CHAT.id - 4, click_link: { mode: "off" } },
      { code: "early", bot: "ghost", chat: CHAT.id - 5 },
    ],
  }, { clock, port });
  await eventually(async () => (await svc.api("GET", "/api/campaigns")).body.items[0].deep_link !== null, 5000, "getMe");
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([api, tracker, meta, tiktok, ga4, yandex].map((f) => f?.close()));
});

async function click(path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(`${base}${path}`, { method, headers: { "user-agent": BROWSER, ...headers }, redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), headers: res.headers, text: await res.text() };
}

const tokenOf = (location: string | null) => /start=[A-Za-z0-9_]+-([A-Za-z0-9_-]{12})$/.exec(location ?? "")?.[1] ?? null;
const clickRow = async (token: string) => (await queryDb<Record<string, any>>(`${svc.dir}/tgcpa.db`, "SELECT * FROM clicks WHERE token = ?", [token]))[0] ?? null;
const clickCount = async () => (await queryDb<{ n: number }>(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM clicks"))[0]!.n;

/** A Start through getUpdates; resolves once the update is applied. */
async function start(user: ReturnType<typeof tg.user>, payload: string) {
  const id = api.enqueue(TOKEN, tg.startMessage(user, payload));
  await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items.find((b: any) => b.name === "main").polling_offset ?? 0) > id, 5000, `update ${id} applied`);
}

async function joinChat(user: ReturnType<typeof tg.user>) {
  const id = api.enqueue(TOKEN, tg.chatMember(CHAT, user, "left", "member"));
  await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items.find((b: any) => b.name === "main").polling_offset ?? 0) > id, 5000, `update ${id} applied`);
}

const leadOf = async (subscriber: number, campaign = "spring") =>
  (await svc.api("GET", `/api/leads?subscriber=${subscriber}&campaign=${campaign}`)).body.items[0];

describe("the click link records the click and sends the visitor to the bot", () => {
  test("every parameter, Meta's fbp cookie and an fbc built from the fbclid, the client behind the trusted proxy, agent, referrer, URL", async () => {
    const query = "utm_source=fb&utm_source=second&sub1=set-a&ad_id=42&fbclid=IwAR2xYz_AbC&gclid=Cj0KCQ";
    const r = await click(`/c/spring?${query}`, { "x-forwarded-for": "198.51.100.7", referer: "https://m.facebook.com/", cookie: "_fbp=fb.1.1596403881668.1116446470; other=1" });
    expect(r.status).toBe(302);
    expect(r.location).toMatch(/^https:\/\/t\.me\/spring_bot\?start=spring-[A-Za-z0-9_-]{12}$/);
    expect(r.location!.length - "https://t.me/spring_bot?start=".length).toBeLessThanOrEqual(64);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const row = (await clickRow(tokenOf(r.location)!))!;
    expect(JSON.parse(row.params)).toEqual({ utm_source: "fb", sub1: "set-a", ad_id: "42", fbclid: "IwAR2xYz_AbC", gclid: "Cj0KCQ" });
    expect(row).toMatchObject({
      fbc: `fb.1.${clock.now()}.IwAR2xYz_AbC`, fbp: "fb.1.1596403881668.1116446470", ip: "198.51.100.7", user_agent: BROWSER,
      referrer: "https://m.facebook.com/", landing_url: `${base}/c/spring?${query}`, cut: 1, created_at: clock.now(),
    });
    expect(await svc.api("GET", "/metrics").then((m) => m.body as string)).toContain('tgcpa_clicks_total{result="recorded"}');
  });

  test("an _fbc cookie is taken as it is; without a trusted proxy's header the peer is the client", async () => {
    const r = await click("/c/spring?fbclid=IwAR_other", { cookie: "_fbc=fb.1.1700000000000.IwAR_cookie" });
    expect(await clickRow(tokenOf(r.location)!)).toMatchObject({ fbc: "fb.1.1700000000000.IwAR_cookie", ip: "127.0.0.1" });
  });

  test("bounded: 50 parameters of at most 64-byte names, values cut to 512 bytes; the visitor still goes on", async () => {
    const many = Array.from({ length: 60 }, (_, i) => `p${i}=${i}`).join("&");
    const r = await click(`/c/spring?long=${"x".repeat(600)}&${many}`);
    expect(r.status).toBe(302);
    const row = (await clickRow(tokenOf(r.location)!))!;
    const params = JSON.parse(row.params);
    expect(Object.keys(params)).toHaveLength(50);
    expect(params.long).toHaveLength(512);
    expect(row.cut).toBe(1 + 11);
  });

  test("a link-preview crawler and a HEAD are sent on without a click", async () => {
    const before = await clickCount();
    for (const ua of ["TelegramBot (like TwitterBot)", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "WhatsApp/2.23.20.0 A", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Twitterbot/1.0"]) {
      const r = await click("/c/spring?utm_source=fb", { "user-agent": ua });
      expect([ua, r.status, r.location]).toEqual([ua, 302, "https://t.me/spring_bot?start=spring"]);
    }
    const head = await click("/c/spring?utm_source=fb", {}, "HEAD");
    expect([head.status, head.location, head.text]).toEqual([302, "https://t.me/spring_bot?start=spring", ""]);
    expect(await clickCount()).toBe(before);
  });

  test("page mode: \"Open in Telegram\" with the tg:// link and the t.me link, loading nothing from elsewhere", async () => {
    const r = await click("/c/page?utm_source=ig");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
    const token = /start=page-([A-Za-z0-9_-]{12})"/.exec(r.text)?.[1];
    expect(token).toBeDefined();
    expect(r.text).toContain(`href="tg://resolve?domain=spring_bot&amp;start=page-${token}"`);
    expect(r.text).toContain(`href="https://t.me/spring_bot?start=page-${token}"`);
    expect(r.text).not.toMatch(/<script|src=/);
    expect(JSON.parse((await clickRow(token!))!.params)).toEqual({ utm_source: "ig" });
  });

  test.each([
    ["/c/nope", 404, "Link not found", "unknown_campaign"],
    ["/c/nobot", 404, "Link not found", "no_bot"],
    ["/c/off", 404, "Link not found", "click_link_off"],
    ["/c/frozen", 410, "Campaign paused", "campaign_paused"],
    ["/c/early", 503, "Try again in a minute", "bot_not_connected"],
  ])("%s answers %d with a plain page, no redirect, no click", async (path, status, title, reason) => {
    const before = await clickCount();
    const r = await click(`${path}?utm_source=fb`);
    expect([r.status, r.location, r.headers.get("content-type")]).toEqual([status, null, "text/html; charset=utf-8"]);
    expect(r.text).toContain(`<h1>${title}</h1>`);
    if (status === 503) expect(r.headers.get("retry-after")).toBe("30");
    expect(await clickCount()).toBe(before);
    expect(await svc.api("GET", "/metrics").then((m) => m.body as string)).toContain(`tgcpa_clicks_total{result="${reason}"}`);
  });
});

describe("the token resolves at Start", () => {
  test("the click is the lead's: its parameters fill a tracker postback and each ad platform's request", async () => {
    const query = "utm_source=fb&sub1=set-b&ad_id=77&fbclid=IwAR_lead&ttclid=E.C.P.tt123&client_id=111.222&yclid=9876543210";
    const r = await click(`/c/spring?${query}`, { "x-forwarded-for": "203.0.113.50", referer: "https://l.facebook.com/", cookie: "_fbp=fb.1.1.555" });
    const token = tokenOf(r.location)!;
    const user = tg.user(910001);
    await start(user, `spring-${token}`);
    const lead = await leadOf(user.id);
    expect(lead.click).toBe(token); // no click_param: the token is the lead's {click}
    const landing = `${base}/c/spring?${query}`;
    await tracker.waitUntil(() => tracker.received.some((q) => q.path === "/pb" && q.query.click === token), 5000, "the wait postback");
    expect(tracker.received.find((q) => q.query.click === token)!.query).toEqual({
      click: token, status: "wait", campaign: "spring", src: "fb", s1: "set-b", ad: "77", ip: "203.0.113.50", ua: BROWSER,
      fbc: `fb.1.${clock.now()}.IwAR_lead`, fbp: "fb.1.1.555", ref: "https://l.facebook.com/", lp: landing, gclid: "",
    });
    const detail = await svc.api("GET", `/api/leads/${lead.id}`);
    expect(detail.body.click_record).toMatchObject({ token, ip: "203.0.113.50", landing_url: landing, params: { utm_source: "fb", ttclid: "E.C.P.tt123" } });

    await joinChat(user);
    await eventually(async () => (await listPostbacks(svc, `&lead=${lead.id}`)).filter((p) => p.status === "approve").every((p) => p.state === "delivered"), 5000, "approve sent");
    const approveEvent = (await svc.api("GET", `/api/leads/${lead.id}`)).body.events.find((e: any) => e.status === "approve");
    const ev = meta.events.find((e) => e.event_id === String(approveEvent.id))!;
    expect(ev).toMatchObject({
      event_name: "CompleteRegistration", action_source: "website", event_source_url: landing,
      user_data: { fbc: `fb.1.${clock.now()}.IwAR_lead`, fbp: "fb.1.1.555", client_ip_address: "203.0.113.50", client_user_agent: BROWSER },
    });
    const tt = tiktok.events.find((e) => e.event_id === String(approveEvent.id))!;
    expect(tt.user).toMatchObject({ ttclid: "E.C.P.tt123", ip: "203.0.113.50", user_agent: BROWSER });
    expect(tt.page).toEqual({ url: landing, referrer: "https://l.facebook.com/" });
    const ga = ga4.collected.find((c) => c.events.some((e: any) => e.params?.event_id === String(approveEvent.id)))!;
    expect(ga.client_id).toBe("111.222");
    const upload = yandex.uploads.find((u) => u.rows.some((row) => row[0] === "9876543210"))!;
    expect(upload.header).toEqual(["Yclid", "Target", "DateTime"]);
  });

  test("with click_link.click_param the tracker's click id rides the click, past the 64 characters of a deep link", async () => {
    const subid = `trk-${"a1b2c3d4".repeat(10)}`; // 84 characters: no deep link could carry it
    const r = await click(`/c/tracked?subid=${subid}&utm_source=push&ad=a+b`);
    const user = tg.user(910002);
    await start(user, `tracked-${tokenOf(r.location)}`);
    expect((await leadOf(user.id, "tracked")).click).toBe(subid);
    await tracker.waitUntil(() => tracker.received.some((q) => q.path === "/trk" && q.query.click === subid), 5000, "the tracker's postback");
    // The welcome's macros have the click too.
    const welcome = await api.waitForCall("sendMessage", (c) => c.params.chat_id === user.id);
    expect(welcome.params.text).toBe("Hi from push");
    expect(welcome.params.reply_markup).toEqual({ inline_keyboard: [[{ text: "More", url: "https://landing.example/thanks?src=push&ad=a%20b" }]] });
  });

  test("a wait through POST /api/events carrying a token attaches its click as a Start does", async () => {
    const token = tokenOf((await click("/c/spring?utm_source=own_bot")).location)!;
    const res = await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 910006, status: "wait", click: token });
    expect(res.status).toBe(200);
    expect((await svc.api("GET", `/api/leads/${res.body.lead.id}`)).body.click_record).toMatchObject({ token, params: { utm_source: "own_bot" } });
  });

  test("a token of another campaign, or one no click made, is a tracker's click id as before", async () => {
    const other = tokenOf((await click("/c/tracked?subid=x")).location)!;
    const user = tg.user(910003);
    await start(user, `spring-${other}`);
    const lead = await leadOf(user.id);
    expect(lead.click).toBe(other);
    expect((await svc.api("GET", `/api/leads/${lead.id}`)).body.click_record).toBeNull();
    const stranger = tg.user(910004);
    await start(stranger, "spring-AAAAAAAAAAAA");
    expect((await svc.api("GET", `/api/leads/${(await leadOf(stranger.id)).id}`)).body.click_record).toBeNull();
  });

  test("a lead that started without a click gets the click of its next Start through the link (wait again, with the click)", async () => {
    const user = tg.user(910005);
    await start(user, "spring");
    const token = tokenOf((await click("/c/spring?utm_source=late")).location)!;
    await start(user, `spring-${token}`);
    const lead = await leadOf(user.id);
    expect(lead.click).toBe(token);
    await tracker.waitUntil(() => tracker.received.some((q) => q.query.click === token && q.query.src === "late"), 5000, "wait again with the click");
  });
});

describe("a payload over 64 characters is refused where it is made", () => {
  test("check-config: a campaign code that leaves its click token no room, naming the code, its line and the fix", async () => {
    const long = "c".repeat(52);
    const file = join(svc.dir, "long-code.yaml");
    writeFileSync(file, [
      `api_keys: [${API_KEY}]`, "bots:", "  main: { token: \"123456:ABC-token\" }", "campaigns:",
      `  - code: ${"d".repeat(51)}`, "    bot: main", `  - code: ${long}`, "    bot: main", `  - code: ${long}x`, "    bot: main", "    click_link: { mode: off }",
    ].join("\n"));
    const run = await runCommand(["check-config", file]);
    expect(run.code).toBe(1);
    const lines = `${run.stdout}${run.stderr}`.split("\n").filter((l) => l.includes("campaigns["));
    expect(lines).toEqual([expect.stringContaining(`campaigns[1].code (line 7): "${long}" is 52 characters: the click link's Start payload (code, "-", a 12-character token) would be 65, and Telegram carries at most 64; shorten the code to 51 characters or set click_link.mode: off`)]);
  });

  test("GET /api/campaigns shows the click link and how long a tracker's click id may be", async () => {
    const items = (await svc.api("GET", "/api/campaigns")).body.items;
    expect(items.find((c: any) => c.code === "spring")).toMatchObject({ click_link: `${base}/c/spring`, click_link_mode: "redirect", max_click_length: 57 });
    expect(items.find((c: any) => c.code === "nobot")).toMatchObject({ click_link: null, max_click_length: 58 });
    expect(items.find((c: any) => c.code === "off")).toMatchObject({ click_link: null, click_link_mode: "off" });
  });

  test("POST /api/campaigns/{code}/test names body.click and the limit", async () => {
    const res = await svc.api("POST", "/api/campaigns/spring/test", { click: "x".repeat(58) });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe("body.click");
    expect(res.body.error.message).toContain("would be 65 characters; Telegram carries at most 64, so with the code \"spring\" a click id may be at most 57 characters");
    expect((await svc.api("POST", "/api/campaigns/spring/test", { click: "x".repeat(57) })).status).toBe(200);
    // A campaign without a bot has no deep link: its clicks come through POST /api/events, of any length.
    expect((await svc.api("POST", "/api/campaigns/nobot/test", { click: "x".repeat(300) })).status).toBe(200);
  });
});

describe("the funnel by a click parameter", () => {
  test("GET /api/stats?group=utm_source counts the leads of each value; without it the answer is as before", async () => {
    for (const [i, src] of [[1, "fbads"], [2, "fbads"], [3, "tiktok"]] as const) {
      const user = tg.user(920000 + i);
      await start(user, `spring-${tokenOf((await click(`/c/spring?utm_source=${src}`)).location)}`);
      if (i !== 2) await joinChat(user);
    }
    // The two answers below are compared whole, postbacks' states included: none still on its way.
    await outboxSettled(svc);
    const since = new Date(clock.now() - 86_400_000).toISOString().slice(0, 10);
    const grouped = (await svc.api("GET", `/api/stats?since=${since}&campaign=spring&group=utm_source`)).body;
    const value = (v: string) => grouped.group.values.find((x: any) => x.value === v);
    expect(value("fbads").leads).toMatchObject({ wait: 2, approve: 1 });
    expect(value("fbads").rates.joins_per_start).toBe(0.5);
    expect(value("tiktok").leads).toMatchObject({ wait: 1, approve: 1 });
    expect(grouped.group.without.leads.wait).toBe(grouped.totals.leads.wait - grouped.group.values.reduce((n: number, v: any) => n + v.leads.wait, 0));
    const plain = (await svc.api("GET", `/api/stats?since=${since}&campaign=spring`)).body;
    expect(plain.group).toBeUndefined();
    expect(plain.totals).toEqual(grouped.totals);
    const wrong = await svc.api("GET", "/api/stats?group=fbclid");
    expect([wrong.status, wrong.body.error.details[0].field]).toEqual([422, "query.group"]);
    expect(wrong.body.error.message).toContain("one of utm_source, utm_medium");
  });
});

describe("retention", () => {
  test("clicks no lead came from go after delivery.retention; a lead's click stays with the lead", async () => {
    const unused = async () => (await queryDb<{ n: number }>(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM clicks c WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.click_id = c.id)"))[0]!.n;
    const used = async () => (await queryDb<{ n: number }>(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM clicks c WHERE EXISTS (SELECT 1 FROM leads l WHERE l.click_id = c.id)"))[0]!.n;
    const kept = await used();
    expect(await unused()).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
    clock.advance(31 * 86_400_000); // past the default 30d; the hourly run fires on the way
    await eventually(async () => (await unused()) === 0, 5000, "unused clicks pruned");
    expect(await used()).toBe(kept);
  });
});

describe("clicks are rate-limited per client address", () => {
  test("past rate_limits.click_per_minute the visitor goes on to the bot without a click; an untrusted X-Forwarded-For is the same client", async () => {
    const api2 = await FakeBotApi.start();
    api2.addBot({ token: TOKEN, username: "spring_bot" });
    const limited = await startTestService({
      rate_limits: { click_per_minute: 2 },
      bots: { main: { token: TOKEN, mode: "polling", api_root: api2.apiRoot } },
      campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
    });
    try {
      await eventually(async () => (await limited.api("GET", "/api/campaigns")).body.items[0].deep_link !== null, 5000, "getMe");
      const go = (xff: string) => fetch(`${limited.url}/c/spring?utm_source=fb`, { headers: { "user-agent": BROWSER, "x-forwarded-for": xff }, redirect: "manual" }).then((r) => r.headers.get("location"));
      const locations = [await go("198.51.100.1"), await go("198.51.100.2"), await go("198.51.100.3")];
      expect(locations.map((l) => tokenOf(l) !== null)).toEqual([true, true, false]);
      expect(locations[2]).toBe("https://t.me/spring_bot?start=spring");
      expect((await queryDb<{ n: number }>(`${limited.dir}/tgcpa.db`, "SELECT count(*) AS n FROM clicks"))[0]!.n).toBe(2);
      expect(await limited.api("GET", "/metrics").then((m) => m.body as string)).toContain('tgcpa_clicks_total{result="rate_limited"} 1');
    } finally {
      await limited.stop();
      await api2.close();
    }
  });
});
