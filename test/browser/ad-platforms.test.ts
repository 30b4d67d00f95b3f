// An ad-platform destination in the dashboard (Chromium through playwright-core): a postback
// refused by Meta for its token shows Meta's words and a URL with access_token=***, Retry after a
// reload with the right token delivers it, and no page shows the token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeMetaCapi } from "../helpers/fake-ad-platforms/index.ts";
import { API_KEY, testConfig, type ConfigInput } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const WRONG = "EAAB-wrong-token-d41d8cd9";
const RIGHT = "EAAB-right-token-0cc175b9";

let meta: FakeMetaCapi;
let svc: TestService;
let browser: Browser;
let page: Page;
let config: ConfigInput;

const withToken = (token: string): ConfigInput => ({
  destinations: { fb: { preset: "meta-capi", pixel_id: "1234567890", access_token: token, base_url: meta.base } },
  campaigns: [{ code: "spring", postbacks: { destination: "fb" }, payouts: { approve: { payout: "1", currency: "USD" } } }],
});

beforeAll(async () => {
  meta = await FakeMetaCapi.start({ token: RIGHT, pixelId: "1234567890" });
  svc = await startTestService(withToken(WRONG));
  config = testConfig(svc.dir, withToken(WRONG));
  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await meta?.close();
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

describe("an ad-platform postback in the dashboard", () => {
  test("Meta's refusal is shown in its words with the token masked; Retry after the fix delivers it; no page shows a token", async () => {
    await page.goto(`${svc.url}/dashboard`);
    await page.fill("#signin-key", API_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#app:not([hidden])");

    const res = await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 123456789, status: "wait" });
    expect(res.status).toBe(200);
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=rejected")).body.items.length === 1, 5000, "rejected by Meta");

    const pages: string[] = [];
    await open("#/postbacks?state=rejected");
    const row = page.locator("tr[data-state=rejected]");
    await row.waitFor();
    await row.locator("td").first().click();
    await page.waitForSelector("[data-attempts] td:has-text('meta code 190')");
    expect(await page.locator("[data-attempts] .mono").innerText()).toBe(`POST ${meta.base}/v25.0/1234567890/events?access_token=***`);
    const shown = await page.locator("main").innerText();
    expect(shown).toContain("platform refused: meta code 190: The access token could not be decrypted");
    pages.push(await page.content(), (await page.locator("body").textContent()) ?? "");

    // The token is fixed in the config; the row was built before and is sent with the new one.
    svc.writeConfig(testConfig(svc.dir, withToken(RIGHT)));
    expect((await svc.api("POST", "/api/config/reload", {})).status).toBe(200);
    await row.locator("button[data-retry]").click();
    await page.waitForSelector("tr[data-postback][data-state=delivered]");
    expect(meta.received.map((r) => r.query.access_token)).toEqual([WRONG, RIGHT]);
    expect(meta.events.map((e) => e.event_name)).toEqual(["Lead"]);

    for (const hash of ["#/postbacks", "#/campaign/spring", "#/", "#/leads?q=123456789", "#/journal", "#/bots"]) {
      await open(hash);
      pages.push(await page.content(), (await page.locator("body").textContent()) ?? "");
    }
    await open(`#/lead/${res.body.lead.id}`);
    pages.push(await page.content(), (await page.locator("body").textContent()) ?? "");
    const all = pages.join("\n");
    // Each page as markup and as text (the text joins what <wbr> break points split up).
    for (const token of [WRONG, RIGHT]) expect(all).not.toContain(token);
    expect(all).toContain("access_token=***");
    expect(browser.foreign).toEqual([]);
  }, 60_000);
});
