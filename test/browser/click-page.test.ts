// The click link's "Open in Telegram" page in a real browser (Chromium through playwright-core, at
// a phone's 390 px): it opens, loads nothing from anywhere, offers the tg:// link as its button and
// the t.me link beside it, both with the Start payload of the click it recorded.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKEN = "7100001:click-page-bot_TOKEN";

let api: FakeBotApi;
let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  api = await FakeBotApi.start();
  api.addBot({ token: TOKEN, username: "spring_bot" });
  svc = await startTestService({
    bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
    campaigns: [{ code: "spring", bot: "main", chat: -1007100000001, click_link: { mode: "page" } }],
  });
  await eventually(async () => (await svc.api("GET", "/api/campaigns")).body.items[0].deep_link !== null, 5000, "getMe");
  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.setViewportSize({ width: 390, height: 844 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await api?.close();
});

describe("the Open in Telegram page", () => {
  test("opens at 390 px, offers tg://resolve with the click's payload and the t.me link, and loads nothing from elsewhere", async () => {
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(`${svc.url}/c/spring?utm_source=fb&fbclid=IwAR_browser`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe("Open in Telegram");

    const rows = svc.sqlite().query<{ token: string; params: string }, []>("SELECT token, params FROM clicks").all();
    expect(rows).toHaveLength(1);
    const { token } = rows[0]!;
    expect(JSON.parse(rows[0]!.params)).toEqual({ utm_source: "fb", fbclid: "IwAR_browser" });

    const button = page.locator("#open-telegram");
    expect(await button.innerText()).toBe("Open in Telegram");
    expect(await button.getAttribute("href")).toBe(`tg://resolve?domain=spring_bot&start=spring-${token}`);
    const box = (await button.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.height).toBeGreaterThanOrEqual(40); // a thumb's target
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    expect(browser.foreign).toEqual([]); // no font, script, style or image from anywhere
    expect(violations).toEqual([]);

    // The t.me link goes where the redirect would have (the browser's request leaves the origin and is stopped there).
    await page.click("#open-tme");
    await eventually(() => browser.foreign.length > 0, 5000, "the t.me request");
    expect(browser.foreign[0]).toBe(`https://t.me/spring_bot?start=spring-${token}`);
  });

  test("the overview grouped by utm_source: the Starts each value brought, at 390 px", async () => {
    for (const [i, src] of [[1, "fb"], [2, "fb"], [3, "tt"]] as const) {
      const res = await fetch(`${svc.url}/c/spring?utm_source=${src}`, { headers: { "user-agent": "Mozilla/5.0 (iPhone)" } });
      const token = /start=spring-([A-Za-z0-9_-]{12})"/.exec(await res.text())![1];
      const id = api.enqueue(TOKEN, tg.startMessage(tg.user(930000 + i), `spring-${token}`));
      await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items[0].polling_offset ?? 0) > id, 5000, `Start ${i}`);
    }
    await page.goto(`${svc.url}/dashboard#/overview?group=utm_source`);
    await page.fill("#signin-key", API_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("[data-group='fb']");
    expect(await page.locator("[data-group='fb'] [data-metric='wait']").innerText()).toBe("2");
    expect(await page.locator("[data-group='tt'] [data-metric='wait']").innerText()).toBe("1");
    expect(await page.locator("select[name=group]").inputValue()).toBe("utm_source");
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(browser.foreign.filter((u) => !u.startsWith("https://t.me/"))).toEqual([]);
  });
});
