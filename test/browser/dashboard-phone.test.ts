// The dashboard on a phone (Chromium at 390 × 844 CSS px) and what an operator reads there: no page
// wider than the screen (wide tables scroll inside their box), a chart whose labels keep their
// size, paused and coloured status badges, a failed row whose last attempt reads "failed", a bot
// that is down with its next try and its chat "unknown", the journal in the chosen zone with
// readable details, and "Send test postback" on the campaign page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeKeitaro, RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { freePort } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKEN = "515151:phone-test-bot_TOKEN";
const DOWN_TOKEN = "626262:phone-test-down_TOKEN";
const CHAT = tg.channel(-1009000000002, "Phone channel");
const PHONE = { width: 390, height: 844 };
const LONG_CLICK = "cid-6f1e0c2a9b7d4e8fa1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";

let botApi: FakeBotApi;
let keitaro: FakeKeitaro;
let down: RecordingTracker;
let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  botApi = await FakeBotApi.start();
  botApi.addBot({ token: TOKEN, username: "phone_test_bot" });
  keitaro = await FakeKeitaro.start({ key: "e89bcbe" });
  // A tracker behind an overloaded proxy: every postback to it is retried, then failed.
  down = await RecordingTracker.start(() => ({ status: 503, body: "Service Unavailable", headers: { "content-type": "text/plain" } }));
  const closedPort = await freePort(); // nothing listens: the second bot never connects
  svc = await startTestService({
    dashboard: { timezone: "Asia/Kolkata" },
    bots: {
      main: { token: TOKEN, mode: "polling", api_root: botApi.apiRoot },
      offline: { token: DOWN_TOKEN, mode: "polling", api_root: `http://127.0.0.1:${closedPort}` },
    },
    destinations: { kt: { preset: "keitaro", domain: keitaro.base, key: "e89bcbe" } },
    postbacks: { destination: "kt" },
    delivery: { retry_ladder: ["0s", "50ms"] },
    campaigns: [
      { code: "spring", name: "Spring on a phone", bot: "main", chat: CHAT.id, unsub_window: "30d" },
      { code: "napping", paused: true },
      { code: "broken", postbacks: { wait: `${down.base}/pb?c={click}` } },
      { code: "dark", bot: "offline", chat: -1009000000003 },
    ],
  });
  const update = botApi.enqueue(TOKEN, tg.myChatMember(CHAT, { id: 515151, username: "phone_test_bot" }, "left", "administrator", { can_invite_users: true }));
  await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items.find((b: any) => b.name === "main")?.polling_offset ?? 0) > update, 10_000, "my_chat_member applied");
  const event = async (body: Record<string, unknown>) => expect((await svc.api("POST", "/api/events", body)).status).toBe(200);
  for (const s of [1, 2, 3]) await event({ campaign: "spring", subscriber: s, status: "wait", click: `${LONG_CLICK}-${s}`, username: `phone_user_${s}` });
  await event({ campaign: "spring", subscriber: 1, status: "hold" });
  await event({ campaign: "spring", subscriber: 1, status: "approve" }); // through the request
  await event({ campaign: "spring", subscriber: 2, status: "approve" }); // without one
  await event({ campaign: "spring", subscriber: 3, status: "cancel" }); // not allowed from wait: journaled
  await event({ campaign: "spring", subscriber: 99, status: "approve" }); // organic: journaled with its time
  await event({ campaign: "broken", subscriber: 5, status: "wait", click: "k5" });
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=failed")).body.items.length === 1, 10_000, "the failed postback");
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 10_000, "outcomes stored");
  await eventually(async () => (await svc.api("GET", "/api/bots")).body.items.find((b: any) => b.name === "offline")?.next_retry_at != null, 10_000, "the offline bot's next try");

  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.setViewportSize(PHONE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await keitaro?.close();
  await down?.close();
  await botApi?.close();
});

const settled = () => page.waitForFunction(() => {
  const { document, location } = globalThis as any;
  const main = document.getElementById("main");
  return !!main && main.dataset.rendered === location.hash && !main.hasAttribute("aria-busy");
});
const open = async (hash: string) => {
  await page.goto(`${svc.url}/dashboard${hash}`);
  await settled();
};
const text = (selector: string) => page.locator(selector).first().innerText();

/**
 * What sticks out of the screen: the page's own sideways scroll, and every element whose box
 * reaches past the viewport's edges, except inside a box that scrolls by itself (a wide table).
 */
const overflowing = () => page.evaluate(() => {
  const { document, innerWidth } = globalThis as any;
  const out: string[] = [];
  if (document.documentElement.scrollWidth > innerWidth) out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px`);
  for (const el of document.querySelectorAll("body *")) {
    if (el.parentElement?.closest(".table-wrap")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > innerWidth + 0.5 || r.left < -0.5) out.push(`<${el.tagName.toLowerCase()} class="${el.className}"> ${Math.round(r.left)}..${Math.round(r.right)} px: ${String(el.textContent).slice(0, 40)}`);
  }
  return out.slice(0, 8);
});

describe("at 390 px", () => {
  test("the sign-in page fits the screen", async () => {
    await page.goto(`${svc.url}/dashboard`);
    await page.waitForSelector("#signin:not([hidden])");
    expect(await overflowing()).toEqual([]);
    await page.fill("#signin-key", API_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#app:not([hidden]) [data-metric=wait]");
  }, 30_000);

  test("every page fits the screen; a wide table scrolls inside its own box", async () => {
    const leadId = (await svc.api("GET", "/api/leads?campaign=spring&limit=1")).body.items[0].id;
    const pages = ["#/overview", "#/campaign/spring", "#/campaign/dark", "#/postbacks", "#/postbacks?state=failed", "#/leads", `#/lead/${leadId}`,
      `#/leads?q=${LONG_CLICK}-1`, "#/journal", "#/journal?tab=inbound", "#/bots"];
    for (const hash of pages) {
      await open(hash);
      expect({ hash, overflowing: await overflowing() }).toEqual({ hash, overflowing: [] });
    }
    // The postbacks table is wider than a phone: its box scrolls, the page does not.
    await open("#/postbacks");
    const box = await page.locator(".table-wrap").first().evaluate((el: any) => ({ scroll: el.scrollWidth, client: el.clientWidth, overflowX: (globalThis as any).getComputedStyle(el).overflowX }));
    expect(box.scroll).toBeGreaterThan(box.client);
    expect(box.overflowX).toBe("auto");
    // An attempt log opened under its row fits too.
    await page.locator("tr[data-postback]").first().click();
    await page.waitForSelector("[data-attempts] table");
    expect(await overflowing()).toEqual([]);
  }, 60_000);

  test("the chart is drawn for the phone's width: its 11 px labels are not scaled down", async () => {
    await open("#/overview");
    const label = await page.locator(".chart .axis text").first().evaluate((el: any) => el.getBoundingClientRect().height);
    expect(label).toBeGreaterThanOrEqual(10); // at 900 units scaled to ~340 px it was about 5 px
    const { svg, viewBox } = await page.locator(".chart svg").evaluate((el: any) => ({ svg: el.getBoundingClientRect().width, viewBox: el.viewBox.baseVal.width }));
    expect(viewBox).toBeLessThanOrEqual(svg + 1);
    // Labels of the 7 days do not overlap.
    const boxes = await page.locator(".chart .axis text[text-anchor]").evaluateAll((els: any[]) => els.filter((e) => /^\d\d-\d\d$/.test(e.textContent)).map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
    for (let i = 1; i < boxes.length; i++) expect(boxes[i]![0]).toBeGreaterThan(boxes[i - 1]![1]);
  }, 30_000);

  test("a click id breaks at its dashes, not in the middle of a word", async () => {
    await open(`#/leads?q=${LONG_CLICK}-1`);
    const wbr = await page.locator("td .wrap").first().evaluate((el: any) => el.querySelectorAll("wbr").length);
    expect(wbr).toBeGreaterThanOrEqual(2);
    expect(await page.locator("td .wrap").first().innerText()).toBe(`${LONG_CLICK}-1`); // the text itself unchanged
  }, 30_000);
});

describe("what the pages say", () => {
  test("overview: Request → join counts the joins through a request; a skipped tile; a paused badge", async () => {
    await open("#/overview");
    // 3 starts, 1 request; 2 joins, of which 1 came through the request.
    expect(await text(".stat[data-metric=join_requests_approved_per_join_request] .value")).toBe("100 %");
    expect(await text(".stat[data-metric=join_requests_approved_per_join_request] .label")).toBe("Request → join");
    expect(await text(".stat[data-metric=postbacks_skipped] .label")).toBe("Postbacks skipped");
    expect(await text("[data-paused=napping]")).toBe("paused");
    expect(await page.locator("[data-paused=spring]").count()).toBe(0);
  }, 30_000);

  test("status badges are coloured, each status its own", async () => {
    await open("#/leads");
    const colours = await page.locator("td .badge").evaluateAll((els: any[]) => Object.fromEntries(els.map((e) => [e.textContent, (globalThis as any).getComputedStyle(e).backgroundColor])));
    expect(Object.keys(colours).sort()).toEqual(["approve", "wait"]);
    expect(colours.approve).not.toBe(colours.wait);
    await open("#/postbacks");
    const states = await page.locator("[data-cell=state] .badge").evaluateAll((els: any[]) => Object.fromEntries(els.map((e) => [e.textContent, (globalThis as any).getComputedStyle(e).backgroundColor])));
    expect(states.failed).not.toBe(states.delivered);
    const grey = "rgb(238, 242, 246)";
    for (const s of ["wait", "approve"]) {
      const c = await page.locator(`td .badge.${s}`).first().evaluate((e: any) => (globalThis as any).getComputedStyle(e).backgroundColor);
      expect([s, c]).not.toEqual([s, grey]);
    }
  }, 30_000);

  test("the last attempt of a failed postback reads failed; the ones before read retry", async () => {
    await open("#/postbacks?state=failed");
    await page.locator("tr[data-postback]").first().click();
    await page.waitForSelector("[data-attempts] [data-outcome]");
    expect(await page.locator("[data-attempts] [data-outcome]").allInnerTexts()).toEqual(["retry", "failed"]);
  }, 30_000);

  test("a bot that is down shows its error and its next try; its campaign's chat is unknown, not missing rights", async () => {
    await open("#/bots");
    expect(await text("[data-next-retry=offline]")).toMatch(/^next try at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await page.locator("[data-next-retry=main]").count()).toBe(0);
    await open("#/campaign/dark");
    expect(await text("[data-health=bot]")).toBe("error");
    expect(await text("[data-health=chat]")).toBe("unknown: the bot is not connected");
    await open("#/campaign/spring");
    expect(await text("[data-health=chat]")).toBe("admin, rights ok");
  }, 30_000);

  test("the journal shows times in the chosen zone, details as words, and update_failed in its filter", async () => {
    await open("#/journal?tz=Asia/Kolkata");
    const organic = page.locator("tr[data-kind=organic_join]").first();
    const detail = await organic.locator(".detail-list").innerText();
    expect(detail).not.toMatch(/\d{13}/); // no epoch ms
    expect(detail).not.toContain("{");
    const entry = (await svc.api("GET", "/api/journal?kind=organic_join")).body.items[0];
    const local = new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Kolkata", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(entry.detail.at));
    expect(detail).toContain(local);
    expect(await text("th:has-text('When')")).toBe("When (Asia/Kolkata)");
    expect(await page.locator("select[name=filter] option[value=update_failed]").count()).toBe(1);
  }, 30_000);

  test("Send test postback on the campaign page sends the status's postbacks and shows the tracker's answer", async () => {
    await open("#/campaign/spring");
    const before = keitaro.received.length;
    await page.selectOption("select[name=test-status]", "approve");
    await page.click("#send-test");
    await page.waitForSelector("[data-test-outcome]");
    expect(await page.locator("[data-test-outcome]").evaluateAll((rows: any[]) => rows.map((r) => r.dataset.testOutcome))).toEqual(["delivered"]);
    expect(keitaro.received.length).toBe(before + 1);
    expect(keitaro.received.at(-1)!.url).toContain("subid=test-click");
    expect(await overflowing()).toEqual([]);
  }, 30_000);
});
