// Swagger UI does not keep the API key: authorized in Swagger UI, the key is in no storage of the
// browser and gone after a reload; and the dashboard's sign-out removes a key that an earlier
// version's Swagger UI persisted (localStorage "authorized"). In a real Chromium.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  svc = await startTestService({ campaigns: [{ code: "c1" }] });
  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

/** Everything the page's origin keeps in localStorage and sessionStorage, as text. */
const storedText = () => page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));

describe("Swagger UI and the API key", () => {
  test("a key given to Authorize is kept in no storage and is gone after a reload", async () => {
    await page.goto(`${svc.url}/swagger`);
    await page.waitForSelector(".opblock", { timeout: 15_000 });
    await page.click(".auth-wrapper .authorize");
    const dialog = page.locator(".modal-ux");
    await dialog.locator("#auth-bearer-value").fill(API_KEY);
    await dialog.locator("button.modal-btn.authorize").first().click();
    await dialog.locator("button.btn-done").first().click();
    await page.locator(".auth-wrapper .authorize.locked").waitFor(); // authorized in this page
    expect(await storedText()).not.toContain(API_KEY);
    await page.reload();
    await page.waitForSelector(".opblock", { timeout: 15_000 });
    expect(await page.locator(".auth-wrapper .authorize.locked").count()).toBe(0); // no longer authorized
    expect(await storedText()).not.toContain(API_KEY);
  }, 30_000);

  test("the dashboard's sign-out removes a key an earlier Swagger UI persisted", async () => {
    await page.goto(`${svc.url}/dashboard`);
    await page.evaluate((key) => localStorage.setItem("authorized", JSON.stringify({ apiKey: { name: "apiKey", value: key } })), API_KEY);
    await page.fill("#signin-key", API_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.locator("#signout").waitFor({ state: "visible" });
    await page.click("#signout");
    await page.locator("#signin-key").waitFor({ state: "visible" });
    expect(await storedText()).not.toContain(API_KEY);
  }, 30_000);
});
