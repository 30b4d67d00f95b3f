// The dashboard says so before a re-send would undo a later status at the tracker (issue 24, item
// 7), in a real browser (Chromium, at 390 px): Retry on a superseded row sends nothing and asks
// whether to send it followed by the later postbacks; the bulk retry's confirmation counts the
// superseded rows it leaves out and offers to send them with their later ones. Against a fake
// Keitaro-compatible tracker keeping each click's conversion.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../helpers/browser.ts";
import { FakeKeitaroCompatible } from "../helpers/fake-trackers/index.ts";
import { applyEvent, listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const KEY = "3f9a1c";
let kc: FakeKeitaroCompatible;
let svc: TestService;
let browser: Browser;
let page: Page;
let ids: { wait: number; approve: number; cancel: number; other: number };

beforeAll(async () => {
  kc = await FakeKeitaroCompatible.start({ key: KEY, clicks: ["clk-1", "clk-2"] });
  svc = await startTestService({
    destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
    postbacks: { destination: "kc" },
    delivery: { retry_ladder: ["0s"] }, // one attempt: the outage fails rows at once
    campaigns: [{ code: "c1", unsub_window: "1h", payouts: { approve: { payout: 2.5, currency: "USD" } } }],
  });
  // The outage: wait and approve fail, the tracker comes back, the cancel is delivered.
  kc.override(() => ({ status: 503, body: "Service Unavailable" }));
  const { lead } = await applyEvent(svc, { subscriber: 1, status: "wait", click: "clk-1" });
  await applyEvent(svc, { subscriber: 1, status: "approve" });
  const other = await applyEvent(svc, { subscriber: 2, status: "wait", click: "clk-2" });
  await kc.waitForCount(3);
  await outboxSettled(svc);
  kc.override(null);
  await applyEvent(svc, { subscriber: 1, status: "cancel" });
  await kc.waitForCount(4);
  await outboxSettled(svc);
  const [wait, approve, cancel] = (await listPostbacks(svc, `&lead=${lead}`)).reverse();
  ids = { wait: wait.id, approve: approve.id, cancel: cancel.id, other: other.postbacks[0].id };
  expect([wait.state, approve.state, cancel.state]).toEqual(["failed", "failed", "delivered"]);

  browser = await openBrowser(svc.url);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${svc.url}/dashboard`);
  await page.fill("#signin-key", API_KEY);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#app:not([hidden])");
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await kc?.close();
});

const open = async (hash: string) => {
  await page.goto(`${svc.url}/dashboard${hash}`);
  await page.waitForFunction(() => {
    const { document, location } = globalThis as any;
    const main = document.getElementById("main");
    return !!main && main.dataset.rendered === location.hash && !main.hasAttribute("aria-busy");
  });
};
const sentFor = (click: string) => kc.received.filter((r) => r.query.subid === click).map((r) => r.query.status);

/** Elements outside a scrolling table that reach past the screen's edge. */
const overflowing = () => page.evaluate(() => {
  const { document, innerWidth } = globalThis as any;
  const out: string[] = [];
  for (const el of document.querySelectorAll(".bulk, .bulk *")) {
    const r = el.getBoundingClientRect();
    if (r.right > innerWidth + 0.5 || r.left < -0.5) out.push(`<${el.tagName.toLowerCase()}> ${String(el.textContent).slice(0, 40)}`);
  }
  return out;
});

test("Retry on the approve of a cancelled lead sends nothing and says why; confirmed, it sends the approve and then the cancel", async () => {
  await open("#/postbacks?state=failed");
  const row = page.locator(`tr[data-postback="${ids.approve}"]`);
  await row.locator("button[data-retry]").click();
  const ask = row.locator(`[data-superseded="${ids.approve}"]`);
  await ask.waitFor();
  expect(await ask.innerText()).toContain(`Not sent: #${ids.cancel} cancel (delivered) of this lead came later. Sent alone, this approve would undo it at the tracker.`);
  await Bun.sleep(100);
  expect(kc.received).toHaveLength(4); // the click sent nothing
  expect(kc.conversions.get("clk-1")?.status).toBe("rejected");

  const confirm = row.locator(`button[data-retry-later="${ids.approve}"]`);
  expect(await confirm.innerText()).toBe(`Send #${ids.approve}, then #${ids.cancel} again`);
  await confirm.click();
  await page.waitForSelector(`tr[data-postback="${ids.approve}"][data-state=delivered]`);
  await kc.waitForCount(6);
  await outboxSettled(svc);
  expect(sentFor("clk-1")).toEqual(["wait", "approve", "cancel", "approve", "cancel"]);
  expect(kc.conversions.get("clk-1")?.status).toBe("rejected");
}, 30_000);

test("bulk retry: the confirmation counts the superseded row it leaves out; sent, only the other lead's wait goes", async () => {
  await open("#/postbacks?state=failed");
  await page.click("#bulk-retry");
  const count = (await page.locator("#bulk-count").innerText()).trim();
  expect(count).toBe("2 failed postbacks match this filter. 1 of them is superseded: their lead has a later postback delivered to the same host, "
    + "which they would undo at the tracker, so they are left out. Send them again?");
  expect(await page.locator("#bulk-confirm").innerText()).toBe("Send 1 again");
  // The wait, then the lead's approve and cancel after it; and the other lead's wait.
  expect(await page.locator("#bulk-confirm-later").innerText()).toBe("Send all 4: each with its lead's later postbacks after it, in event order");
  expect(await overflowing()).toEqual([]);
  expect(kc.received).toHaveLength(6); // the dry runs sent nothing
  await page.click("#bulk-confirm");
  expect(await page.locator("#bulk-done").innerText()).toBe("1 postbacks queued again.");
  await kc.waitForCount(7);
  await outboxSettled(svc);
  expect(sentFor("clk-2")).toEqual(["wait", "wait"]);
  expect(sentFor("clk-1")).toHaveLength(5); // the superseded wait was left out
  expect(kc.conversions.get("clk-1")?.status).toBe("rejected");
  expect((await svc.api("GET", `/api/postbacks/${ids.wait}`)).body.postback.state).toBe("failed");
}, 30_000);
