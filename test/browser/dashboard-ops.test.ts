// The dashboard items of issue 23's second part, in Chromium at 1280 and at 390 px: a host's circuit
// state on its postbacks ("host paused until 23:50:13") and after Retry, attempt numbers that go on
// across a re-send, the postbacks' click column, the leads' campaign, status and date filters, the
// exports of a filter, and the trace page saying why nothing was sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const PHONE = { width: 390, height: 844 };
let down: RecordingTracker;
let flaky: RecordingTracker;
let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // An overloaded tracker (503) that knows no click "gone" (a Keitaro-compatible tracker's 404).
  down = await RecordingTracker.start((r) => (r.query.c === "gone" ? { status: 404, body: "Click ID not found in database." } : { status: 503, body: "Service Unavailable" }));
  // Refuses the first request, takes the rest.
  flaky = await RecordingTracker.start((_r, i) => (i === 0 ? { status: 404, body: "Click ID not found in database." } : { status: 200, body: "Success" }));
  svc = await startTestService({
    delivery: { retry_ladder: ["0s", "30m"], circuit_failures: 3, circuit_cooldown: "10m" },
    campaigns: [
      { code: "spring", postbacks: { wait: `${down.base}/pb?c={click}` } },
      { code: "autumn", postbacks: { wait: `${flaky.base}/pb?c={click}`, approve: `${flaky.base}/pb?c={click}` } },
    ],
  });
  const event = async (body: Record<string, unknown>) => expect((await svc.api("POST", "/api/events", body)).status).toBe(200);
  await event({ campaign: "spring", subscriber: 10, status: "wait", click: "gone" }); // refused: the host answers, its circuit stays closed
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=rejected")).body.items.length === 1, 10_000, "the refusal");
  for (const s of [11, 12, 13]) await event({ campaign: "spring", subscriber: s, status: "wait", click: `s${s}` });
  await eventually(async () => (await svc.api("GET", "/api/hosts")).body.items.some((h: any) => h.host === down.host && h.circuit === "open"), 10_000, "the circuit open");
  await event({ campaign: "autumn", subscriber: 20, status: "wait", click: "autumn-click-20" });
  await eventually(async () => (await svc.api("GET", `/api/postbacks?state=rejected&campaign=autumn`)).body.items.length === 1, 10_000, "autumn's refusal");
  await event({ campaign: "autumn", subscriber: 21, status: "wait", click: "autumn-click-21" });
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 3, 10_000, "the three rows of the paused host");

  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(`${svc.url}/dashboard`);
  await page.fill("#signin-key", API_KEY);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#app:not([hidden])");
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await down?.close();
  await flaky?.close();
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
const rowOf = (id: number) => page.locator(`tr[data-postback="${id}"]`);
const overflowing = () => page.evaluate(() => {
  const { document, innerWidth } = globalThis as any;
  const out: string[] = [];
  if (document.documentElement.scrollWidth > innerWidth) out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px`);
  for (const el of document.querySelectorAll("body *")) {
    if (el.parentElement?.closest(".table-wrap")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > innerWidth + 0.5 || r.left < -0.5) out.push(`<${el.tagName.toLowerCase()} class="${el.className}"> ${Math.round(r.left)}..${Math.round(r.right)} px`);
  }
  return out.slice(0, 8);
});

describe("postbacks", () => {
  test("a paused host's pending rows say until when; the click column shows each lead's click, linked to its trace", async () => {
    const hosts = (await svc.api("GET", "/api/hosts")).body.items;
    const until = new Date(hosts.find((h: any) => h.host === down.host).open_until).toISOString().slice(11, 19); // the browser's zone is UTC
    await open("#/postbacks?state=pending");
    const notes = await page.locator("[data-circuit]").allInnerTexts();
    expect(notes).toEqual([`host paused until ${until}`, `host paused until ${until}`, `host paused until ${until}`]);
    expect(await page.locator("[data-click]").allInnerTexts()).toEqual(["s13", "s12", "s11"]);
    expect(await page.locator("[data-click]").first().getAttribute("href")).toBe("#/trace?click=s13");
  }, 30_000);

  test("after Retry, a row of a paused host reads pending with its host paused until when", async () => {
    const [row] = (await svc.api("GET", "/api/postbacks?state=rejected&campaign=spring")).body.items;
    await open("#/postbacks?campaign=spring");
    await rowOf(row.id).locator("[data-retry]").click();
    await page.waitForFunction((id) => (globalThis as any).document.querySelector(`tr[data-postback="${id}"] [data-circuit]`) !== null, row.id);
    expect(await rowOf(row.id).locator("[data-cell=state]").innerText()).toMatch(/^pending\nhost paused until \d\d:\d\d:\d\d$/);
  }, 30_000);

  test("a re-send's attempts are numbered on: #1 refused, then #2 delivered", async () => {
    const [row] = (await svc.api("GET", "/api/postbacks?state=rejected&campaign=autumn")).body.items;
    await open("#/postbacks?campaign=autumn");
    await rowOf(row.id).locator("[data-retry]").click();
    await page.waitForFunction((id) => (globalThis as any).document.querySelector(`tr[data-postback="${id}"]`)?.dataset.state === "delivered", row.id);
    expect(await rowOf(row.id).locator("[data-cell=attempts]").innerText()).toBe("2");
    await rowOf(row.id).click();
    await page.waitForSelector(`[data-attempts="${row.id}"] [data-outcome]`);
    expect(await page.locator(`[data-attempts="${row.id}"] [data-attempt-number]`).allInnerTexts()).toEqual(["1", "2"]);
    expect(await page.locator(`[data-attempts="${row.id}"] [data-outcome]`).allInnerTexts()).toEqual(["rejected", "delivered"]);
  }, 30_000);
});

describe("leads", () => {
  test("campaign, status and date filters; the export links carry the filter and download it", async () => {
    await open("#/leads");
    await page.selectOption("select[name=campaign]", "autumn");
    await page.click("form.controls button[type=submit]");
    await settled();
    expect(await page.locator("td:nth-child(3)").allInnerTexts()).toEqual(["21", "20"]);
    const today = new Date().toISOString().slice(0, 10);
    await open(`#/leads?campaign=spring&status=wait&from=${today}&to=${today}`);
    expect(await page.locator("td:nth-child(3)").allInnerTexts()).toEqual(["13", "12", "11", "10"]);
    await open("#/leads?campaign=spring&from=2001-01-01&to=2001-01-02");
    expect(await page.locator("tbody td").first().innerText()).toBe("No leads match.");
    await open(`#/leads?campaign=autumn&status=wait`);
    const href = await page.locator("a[data-export=csv]").getAttribute("href");
    expect(href).toBe("/api/export/leads?campaign=autumn&status=wait&format=csv");
    const download = await page.request.get(`${svc.url}${href}`); // with the page's session cookie
    expect(download.status()).toBe(200);
    const lines = (await download.text()).trimEnd().split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines.slice(1).map((l) => l.split(",")[2])).toEqual(["21", "20"]);
    expect(await page.locator("a[data-export=jsonl]").getAttribute("href")).toBe("/api/export/leads?campaign=autumn&status=wait&format=jsonl");
  }, 30_000);
});

describe("trace", () => {
  test("a click's trace says why nothing was sent, from the form", async () => {
    await open("#/trace");
    await page.fill("input[name=value]", "s11");
    await page.click("form.controls button[type=submit]");
    await settled();
    expect(await page.locator("[data-sent]").innerText()).toContain("No tracker postback of it was delivered.");
    const finding = await page.locator("[data-findings] li").first().innerText();
    expect(finding).toMatch(/^lead \d+, event \d+ \(wait\)\s*postback \d+ is queued: its host failed again and again and is paused until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z, then tried again\.$/);
    await open("#/trace?click=never-seen");
    expect(await page.locator("[data-findings] li").first().innerText()).toContain('no Start carried click "never-seen"');
  }, 30_000);
});

describe("at 390 px", () => {
  test("the new pages fit the screen", async () => {
    await page.setViewportSize(PHONE);
    for (const hash of ["#/postbacks?state=pending", "#/leads?campaign=spring&status=wait", "#/trace?click=s11", "#/trace?subscriber=20", "#/trace"]) {
      await open(hash);
      expect({ hash, overflowing: await overflowing() }).toEqual({ hash, overflowing: [] });
    }
    expect(browser.foreign).toEqual([]);
  }, 30_000);
});
