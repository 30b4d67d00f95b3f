// The pages of issue 22 in Chromium, at 390 px as on a phone: Retention (cohort table and curve),
// Money (totals per currency, a CSV upload refused naming its bad line, then written), and the
// lead page's quality panel. Nothing wider than the screen; nothing loaded from elsewhere.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const DAY = 86_400_000;
const clock = new FakeClock(Date.now() - 20 * DAY);
let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  svc = await startTestService({
    campaigns: [{ code: "spring", payouts: { approve: { payout: "2", currency: "USD" } } }],
  }, { clock });
  const event = async (body: Record<string, unknown>) => expect((await svc.api("POST", "/api/events", body)).body.applied).toBe(true);
  for (const s of [1, 2, 3, 4]) await event({ campaign: "spring", subscriber: 4_318_000_000 + s, status: "wait", click: `k${s}` });
  clock.advance(60_000); // a minute to read the welcome: no instant join
  for (const s of [1, 2, 3, 4]) await event({ campaign: "spring", subscriber: 4_318_000_000 + s, status: "approve" });
  clock.advance(2 * DAY);
  await event({ campaign: "spring", subscriber: 4_318_000_004, status: "cancel" });
  clock.advance(Date.now() - clock.now()); // today: the cohort is 20 days old
  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${svc.url}/dashboard`);
  await page.fill("#signin-key", API_KEY);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#app:not([hidden]) [data-metric=wait]");
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

const open = async (hash: string) => {
  await page.goto(`${svc.url}/dashboard${hash}`);
  await page.waitForFunction(() => {
    const { document, location } = globalThis as any;
    const main = document.getElementById("main");
    return !!main && main.dataset.rendered === location.hash && !main.hasAttribute("aria-busy");
  });
};
const overflowing = () => page.evaluate(() => {
  const { document, innerWidth } = globalThis as any;
  const out: string[] = [];
  if (document.documentElement.scrollWidth > innerWidth) out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px`);
  for (const el of document.querySelectorAll("body *")) {
    if (el.parentElement?.closest(".table-wrap")) continue;
    const r = el.getBoundingClientRect();
    if ((r.width || r.height) && (r.right > innerWidth + 0.5 || r.left < -0.5)) out.push(`<${el.tagName.toLowerCase()}> ${String(el.textContent).slice(0, 40)}`);
  }
  return out.slice(0, 8);
});

describe("at 390 px", () => {
  test("Retention: the cohort with day 1, 7 and 14 reported, 30 not yet, and the curve", async () => {
    await open("#/retention?campaign=spring");
    expect(await overflowing()).toEqual([]);
    const cohort = await page.locator(".cohorts tbody tr").first().innerText();
    // 4 joined; one left on day 2: 100 % on day 1, 75 % on 7 and 14; day 30 has not come.
    expect(cohort.replace(/\s+/g, " ")).toContain("4 100 % (4) 75 % (3) 75 % (3) —");
    expect(await page.locator("svg [data-series] circle").count()).toBe(3);
    await page.screenshot({ path: "/tmp/h22-retention.png", fullPage: true });
  }, 30_000);

  test("Money: a CSV with a bad line is refused naming it; a good one is written and shown", async () => {
    await open("#/money?from=" + new Date(clock.now() - 25 * DAY).toISOString().slice(0, 10));
    expect(await overflowing()).toEqual([]);
    const day = new Date(clock.now() - 20 * DAY).toISOString().slice(0, 10);
    await page.setInputFiles("input[name=costs]", { name: "costs.csv", mimeType: "text/csv", buffer: Buffer.from(`spring,${day},8,USD\nspring,${day},x,USD\n`) });
    await page.click("text=Upload");
    await page.waitForSelector(".upload-result.error");
    expect(await page.locator(".upload-result").innerText()).toContain("line 2:");
    expect((await svc.api("GET", `/api/money?since=${day}&campaign=spring`)).body.campaigns[0].days[0].cost).toBeNull();
    await page.setInputFiles("input[name=costs]", { name: "costs.csv", mimeType: "text/csv", buffer: Buffer.from(`campaign,date,amount,currency\nspring,${day},8,USD\n`) });
    await page.click("text=Upload");
    await page.waitForFunction(() => (globalThis as any).document.querySelector("main")?.innerText.includes("2.67 USD"));
    const totals = (await page.locator("main table").first().innerText()).replace(/\s+/g, " ");
    // Revenue 4 × 2 USD, cost 8: 2 per subscriber, 8/3 per subscriber still there on day 7.
    expect(totals).toContain("USD 8.00 8.00 0.00 4 2.00 3 2.67"); // the API keeps 2.666667
    expect(await overflowing()).toEqual([]);
    await page.screenshot({ path: "/tmp/h22-money.png", fullPage: true });
  }, 30_000);

  test("the campaign page shows Start → join and day-7 retention per variant and quality band", async () => {
    await open(`#/campaign/spring?from=${new Date(clock.now() - 25 * DAY).toISOString().slice(0, 10)}`);
    expect(await overflowing()).toEqual([]);
    const variants = (await page.locator("[data-segments='By welcome variant'] tbody").innerText()).replace(/\s+/g, " ");
    expect(variants).toBe("plain welcome 4 4 100 % 75 % (3 of 4)");
    const bands = (await page.locator("[data-segments='By quality band'] tbody").innerText()).replace(/\s+/g, " ");
    expect(bands).toBe("medium 4 4 100 % 75 % (3 of 4)");
  }, 30_000);

  test("the lead page shows its quality and the reasons", async () => {
    const id = (await svc.api("GET", "/api/leads?subscriber=4318000004")).body.items[0].id;
    await open(`#/lead/${id}`);
    expect(await overflowing()).toEqual([]);
    const panel = await page.locator(".quality").innerText();
    // An API lead: only its id's age is known (2021-05 ± 6 months: more than 3 years ago).
    expect(panel).toContain("Quality 65 / 100 · medium");
    expect(panel).toContain("account about 3+ years old");
    expect(browser.foreign).toEqual([]);
  }, 30_000);
});
