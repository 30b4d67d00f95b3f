// The dashboard and Swagger UI in a real browser (Chromium through playwright-core): sign-in and the
// session, the overview's counts after a scripted journey, the chart, Retry and bulk retry against a
// fake Keitaro, the campaign page, and Swagger UI offline with "Try it out". Every request the pages
// make is recorded: none may leave the service's origin.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeKeitaro } from "../helpers/fake-trackers/index.ts";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKEN = "424242:dashboard-test-bot_TOKEN";
const CHAT = tg.channel(-1009000000001, "Spring channel");
const incorrect = { status: 200, body: "Incorrect postback code", headers: { "content-type": "text/plain; charset=utf-8" } };

let botApi: FakeBotApi;
let keitaro: FakeKeitaro;
let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  botApi = await FakeBotApi.start();
  botApi.addBot({ token: TOKEN, username: "spring_test_bot" });
  keitaro = await FakeKeitaro.start({ key: "e89bcbe" });
  const port = await freePort();
  svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    dashboard: { timezone: "Europe/Moscow" },
    bots: { main: { token: TOKEN, mode: "polling", api_root: botApi.apiRoot } },
    destinations: { kt: { preset: "keitaro", domain: keitaro.base, key: "e89bcbe" } },
    postbacks: { destination: "kt" },
    campaigns: [
      { code: "c1", name: "Spring", bot: "main", chat: CHAT.id, unsub_window: "30d" },
      { code: "c2", unsub_window: "30d" },
      { code: "c3" },
    ],
  }, { port });
  // The bot is admin in the campaign's chat, without the right to create invite links.
  const update = botApi.enqueue(TOKEN, tg.myChatMember(CHAT, { id: 424242, username: "spring_test_bot" }, "left", "administrator", { can_invite_users: false }));
  await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items[0].polling_offset ?? 0) > update, 10_000, "my_chat_member applied");
  browser = await openBrowser(svc.url);
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: svc.url });
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await keitaro?.close();
  await botApi?.close();
});

const signIn = async (key: string) => {
  await page.fill("#signin-key", key);
  await page.click("#signin-form button[type=submit]");
};
const text = (selector: string) => page.locator(selector).first().innerText();
/** Waits until the dashboard shows the route in the address bar (not the one before). */
// Functions passed to the page run there, with the DOM (not in the types of this file); strings
// would be refused by the page's Content-Security-Policy (no eval).
const settled = () => page.waitForFunction(() => {
  const { document, location } = globalThis as any;
  const main = document.getElementById("main");
  return !!main && main.dataset.rendered === location.hash && !main.hasAttribute("aria-busy");
});
const open = async (hash: string) => {
  await page.goto(`${svc.url}/dashboard${hash}`);
  await settled();
};
const event = async (body: Record<string, unknown>) => expect((await svc.api("POST", "/api/events", body)).status).toBe(200);

describe("sign-in and the session", () => {
  test("nothing shows without a key; a wrong key is refused; the right one opens the dashboard", async () => {
    await page.goto(`${svc.url}/dashboard`);
    await page.waitForSelector("#signin:not([hidden])");
    expect(await page.locator("#app").isHidden()).toBe(true);
    expect(await page.locator("#signin-key").getAttribute("type")).toBe("password");
    await signIn("not-the-key");
    await page.waitForSelector("#signin-error:has-text('Wrong API key')");
    await signIn(API_KEY);
    await page.waitForSelector("#app:not([hidden]) [data-metric=wait]");
    expect(await page.locator("#signin").isHidden()).toBe(true);
  }, 30_000);

  test("the session is an HttpOnly, SameSite=Strict cookie that scripts cannot read; a reload does not ask again", async () => {
    const cookies = await browser.context.cookies(svc.url);
    const session = cookies.find((c) => c.name === "tgcpa_session")!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/", secure: false });
    expect(session.expires * 1000 - Date.now()).toBeGreaterThan(6 * 86_400_000); // dashboard.session_ttl, 7 days by default
    expect(session.value).not.toContain(API_KEY);
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).not.toContain("tgcpa_session");
    await page.reload();
    await page.waitForSelector("#app:not([hidden]) [data-metric=wait]");
    expect(await page.locator("#signin").isHidden()).toBe(true);
  }, 30_000);

  test("sign-out ends the session: the dashboard asks again and the old cookie opens nothing", async () => {
    const old = (await browser.context.cookies(svc.url)).find((c) => c.name === "tgcpa_session")!.value;
    await page.click("#signout");
    await page.waitForSelector("#signin:not([hidden])");
    await page.reload();
    await page.waitForSelector("#signin:not([hidden])");
    expect((await browser.context.cookies(svc.url)).find((c) => c.name === "tgcpa_session")).toBeUndefined();
    expect((await fetch(`${svc.url}/api/leads`, { headers: { cookie: `tgcpa_session=${old}` } })).status).toBe(401);
    await signIn(API_KEY);
    await page.waitForSelector("#app:not([hidden]) [data-metric=wait]");
  }, 30_000);
});

describe("overview", () => {
  test("after a scripted journey it shows each campaign's funnel, rates and postbacks, and a chart of joins and leaves per day", async () => {
    for (const s of [1, 2, 3, 4]) await event({ campaign: "c1", subscriber: s, status: "wait", click: `c1-${s}` });
    await event({ campaign: "c1", subscriber: 4, status: "hold" });
    for (const s of [1, 2, 3]) await event({ campaign: "c1", subscriber: s, status: "approve" });
    await event({ campaign: "c1", subscriber: 1, status: "approve" }); // a duplicate changes nothing
    await event({ campaign: "c1", subscriber: 2, status: "cancel" });
    await event({ campaign: "c1", subscriber: 3, status: "trash" });
    await event({ campaign: "c2", subscriber: 10, status: "wait", click: "c2-10" });
    await event({ campaign: "c2", subscriber: 10, status: "approve" });
    // 12 postbacks to Keitaro (every applied event fires one with the preset); all accepted.
    await keitaro.waitForCount(12);
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 5000, "outcomes stored");

    await open(`#/overview`);
    await page.waitForSelector("[data-campaign=c1][data-metric=wait]");
    const cell = (campaign: string, metric: string) => text(`[data-campaign=${campaign}][data-metric=${metric}]`);
    const row = async (campaign: string) => Promise.all(["wait", "hold", "approve", "cancel", "trash", "joins_per_start", "leaves_per_join", "postbacks_delivered", "postbacks_rejected"].map((m) => cell(campaign, m)));
    expect(await row("c1")).toEqual(["4", "1", "3", "1", "1", "75 %", "33 %", "10", "0"]);
    expect(await row("c2")).toEqual(["1", "0", "1", "0", "0", "100 %", "0 %", "2", "0"]);
    expect(await text(".stat[data-metric=approve] .value")).toBe("4");
    expect(await text(".stat[data-metric=wait] .sub")).toBe("5 events");
    expect(await text(".stat[data-metric=postbacks_delivered] .value")).toBe("12");
    // Rates of unique leads: 5 starts, 1 join request, 4 joins, 1 leave, 1 ban. None of the 4 joins
    // came through the request (subscriber 4 asked and was never let in): Request → join is 0 %, not 4 ÷ 1.
    const rate = (key: string) => text(`.stat[data-metric=${key}] .value`);
    expect(await Promise.all(["joins_per_start", "join_requests_per_start", "join_requests_approved_per_join_request", "leaves_per_join", "bans_per_join"].map(rate)))
      .toEqual(["80 %", "20 %", "0 %", "25 %", "25 %"]);
    expect(await text(".stat[data-metric=join_requests_approved_per_join_request] .label")).toBe("Request → join");
    expect(await text(".stat[data-metric=postbacks_skipped] .label")).toBe("Postbacks skipped");
    expect(await page.locator("input[name=tz]").inputValue()).toBe("Europe/Moscow"); // dashboard.timezone

    // The chart: one point per day of the last 7 days; today's joins, leaves and bans.
    const points = (series: string) => page.locator(`.chart .series[data-series=${series}] circle`);
    expect(await points("joins").count()).toBe(7);
    const today = await points("joins").last().getAttribute("data-day");
    expect(today).toBe(new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Moscow" }).format(new Date()));
    expect(await points("joins").last().getAttribute("data-value")).toBe("4");
    expect(await points("leaves").last().getAttribute("data-value")).toBe("1");
    expect(await points("bans").last().getAttribute("data-value")).toBe("1");
    expect(await points("joins").first().getAttribute("data-value")).toBe("0");
    expect(await page.locator(".chart .series[data-series=joins] path").getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){6}$/);
    const [y0, y1] = await Promise.all([points("joins").first().getAttribute("cy"), points("joins").last().getAttribute("cy")]);
    expect(Number(y1)).toBeLessThan(Number(y0)); // 4 joins are drawn higher than none
  }, 30_000);

  test("another time zone and period are picked in the page and sent to /api/stats", async () => {
    await page.fill("input[name=tz]", "Asia/Kolkata");
    await page.click("form.controls button[type=submit]");
    await page.waitForURL(/tz=Asia%2FKolkata/);
    await settled();
    expect(await page.locator("p.muted").first().innerText()).toContain("Asia/Kolkata");
    expect(await text("[data-campaign=c1][data-metric=wait]")).toBe("4");
  }, 30_000);
});

describe("campaign page", () => {
  test("shows the deep link with a copy button, the bot and chat health, and the templates rendered for a sample lead", async () => {
    await open(`#/campaign/c1`);
    await page.waitForSelector("#deep-link");
    expect(await text("#deep-link")).toBe("https://t.me/spring_test_bot?start=c1-{click}");
    await page.click(".deeplink button");
    await page.waitForSelector(".deeplink .notice:has-text('Copied')");
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe("https://t.me/spring_test_bot?start=c1-{click}");
    expect(await text("[data-health=bot]")).toBe("running");
    expect(await text("[data-health=chat]")).toBe("missing: can_invite_users");
    const requests = await page.locator("table tr:has-text('subid=sample-click')").allInnerTexts();
    expect(requests.length).toBe(5); // the Keitaro preset has a URL for each status
    expect(requests.join("\n")).toContain(`${keitaro.base}/e89bcbe/postback?subid=sample-click&status=approve`);
    expect(await page.locator(".chart .series[data-series=joins] circle").count()).toBe(7);
    expect(await text(".stat[data-metric=approve] .value")).toBe("3");
  }, 30_000);
});

describe("postbacks", () => {
  test("Retry re-sends a rejected postback; its attempt log shows each answer", async () => {
    keitaro.override(() => incorrect); // the tracker refuses, as Keitaro does with a wrong postback key
    await event({ campaign: "c3", subscriber: 30, status: "wait", click: "retry-me" });
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=rejected")).body.items.length === 1, 5000, "rejected");
    keitaro.override(null); // fixed on the tracker's side

    await open(`#/postbacks?state=rejected`);
    const row = page.locator("tr[data-state=rejected]");
    await row.waitFor();
    expect(await row.count()).toBe(1);
    await row.locator("td").first().click();
    await page.waitForSelector("[data-attempts] td:has-text('Incorrect postback code')");
    await row.locator("button[data-retry]").click();
    await page.waitForSelector("tr[data-postback][data-state=delivered]");
    const sent = keitaro.received.filter((r) => r.query.subid === "retry-me");
    expect(sent.length).toBe(2);
    expect(keitaro.conversions.get("retry-me")?.status).toBe("lead");
    // The log now has both attempts.
    await page.locator("tr[data-state=delivered] td").first().click(); // closes the open log
    await page.locator("tr[data-state=delivered] td").first().click();
    await page.waitForSelector("[data-attempts] tr:has-text('Success')");
    expect(await page.locator("[data-attempts] tbody tr").count()).toBe(2);
  }, 30_000);

  test("bulk retry by the current filter shows the dry-run count before it sends", async () => {
    keitaro.override(() => incorrect);
    await event({ campaign: "c3", subscriber: 31, status: "wait", click: "bulk-1" });
    await event({ campaign: "c3", subscriber: 32, status: "wait", click: "bulk-2" });
    await event({ campaign: "c2", subscriber: 33, status: "wait", click: "other-campaign" });
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=rejected")).body.items.length === 3, 5000, "rejected");
    keitaro.override(null);

    await open(`#/postbacks?state=rejected&campaign=c3`);
    await page.waitForSelector("#bulk-retry");
    expect(await page.locator("tr[data-state=rejected]").count()).toBe(2);
    const before = keitaro.received.length;
    await page.click("#bulk-retry");
    expect(await page.locator("#bulk-count").innerText()).toContain("2 rejected postbacks match this filter");
    expect(keitaro.received.length).toBe(before); // the dry run sent nothing
    await page.click("#bulk-confirm");
    expect(await page.locator("#bulk-done").innerText()).toBe("2 postbacks queued again.");
    await keitaro.waitUntil((r) => ["bulk-1", "bulk-2"].every((s) => r.filter((x) => x.query.subid === s).length === 2), 5000, "both sent again");
    expect(keitaro.received.filter((r) => r.query.subid === "other-campaign").length).toBe(1); // outside the filter
  }, 30_000);
});

describe("leads, journal, bots", () => {
  test("a lead is found by subscriber, click or @username and opens with its events and postbacks", async () => {
    for (const [q, field] of [["2", "subscriber"], ["c1-2", "click"], ["@Alice_2", "username"]] as const) {
      if (field === "username") await event({ campaign: "c1", subscriber: 2, status: "approve", username: "alice_2" });
      await open(`#/leads?q=${encodeURIComponent(q)}`);
      await page.waitForSelector("table tbody tr td a");
      const rows = await page.locator("table tbody tr").allInnerTexts();
      expect({ q, found: rows.filter((r) => r.includes("c1-2")).length }).toEqual({ q, found: 1 });
    }
    await page.locator("table tbody tr td a").first().click();
    await page.waitForURL(/#\/lead\/\d+$/);
    await settled();
    expect(await text("#main h1")).toMatch(/^Lead \d+$/);
    expect(await page.locator("h2:has-text('Events') + .table-wrap tbody tr").count()).toBe(4); // wait, approve, cancel, approve
    expect(await page.locator("tr[data-postback]").count()).toBe(4);
  }, 30_000);

  test("the journal, the inbound log and the bots and chats pages list what the API lists", async () => {
    await event({ campaign: "c1", subscriber: 77, status: "approve" }); // organic: no lead
    await open(`#/journal`);
    await page.waitForSelector("td:has-text('organic_join')");
    await open(`#/journal?tab=inbound`);
    await page.waitForSelector("table");
    await open(`#/bots`);
    await page.waitForSelector("td:has-text('@spring_test_bot')");
    expect(await page.locator("td:has-text('missing: can_invite_users')").count()).toBe(1);
  }, 30_000);
});

describe("Swagger UI", () => {
  test("renders offline at /swagger and /swagger/, and Try it out on GET /health shows the answer", async () => {
    for (const path of ["/swagger", "/swagger/"]) {
      await page.goto(`${svc.url}${path}`);
      await page.waitForSelector(".opblock", { timeout: 15_000 });
      expect(await page.locator(".opblock").count()).toBeGreaterThanOrEqual(24);
    }
    const health = page.locator(".opblock").filter({ has: page.locator("[data-path='/health']") });
    expect(await health.locator(".authorization__btn").count()).toBe(0); // no lock: it needs no key
    expect(await page.locator(".opblock").filter({ has: page.locator("[data-path='/api/leads']") }).locator(".authorization__btn").count()).toBe(1);
    await health.locator(".opblock-summary").click();
    await health.getByRole("button", { name: "Try it out" }).click();
    await health.getByRole("button", { name: "Execute" }).click();
    const live = health.locator(".live-responses-table");
    await live.waitFor();
    expect(await live.locator("tbody .response-col_status").first().innerText()).toBe("200");
    expect(await live.locator("tbody .response-col_description").first().innerText()).toContain('"status": "ok"');
  }, 30_000);
});

describe("the pages' requests", () => {
  test("none left the service's origin, and the pages made requests to the service", () => {
    expect(browser.foreign).toEqual([]);
    expect(browser.requests.filter((r) => r.includes("/swagger/assets/swagger-ui-bundle.js")).length).toBeGreaterThan(0);
    expect(browser.requests.filter((r) => r.includes("/api/stats")).length).toBeGreaterThan(0);
  });
});
