// `bun scripts/screenshots.ts` — the screenshots of the README (docs/screenshots/*.png): the real
// service on a temp database with two weeks of sample traffic (sent through POST /api/events), a
// fake Keitaro and a fake Bot API on 127.0.0.1, each page taken by Chromium (test/helpers/browser.ts).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { openBrowser } from "../test/helpers/browser.ts";
import { FakeBotApi, tg } from "../test/helpers/fake-bot-api/index.ts";
import { FakeKeitaro } from "../test/helpers/fake-trackers/index.ts";
import { eventually } from "../test/helpers/eventually.ts";
import { freePort } from "../test/helpers/net.ts";
import { API_KEY } from "../test/helpers/service/config.ts";
import { startTestService } from "../test/helpers/service/in-process.ts";

const OUT = resolve(import.meta.dir, "../docs/screenshots");
const TOKEN = "555001:screenshot-bot_TOKEN";
const CHAT = tg.channel(-1005550000001, "Crypto signals");
const DAY = 86_400_000;

const botApi = await FakeBotApi.start();
botApi.addBot({ token: TOKEN, username: "signals_tgcpa_bot" });
const keitaro = await FakeKeitaro.start({ key: "e89bcbe" });
const port = await freePort();
const svc = await startTestService({
  server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
  log: { level: "warn" },
  dashboard: { timezone: "Europe/Moscow" },
  bots: { main: { token: TOKEN, mode: "polling", api_root: botApi.apiRoot } },
  destinations: { kt: { preset: "keitaro", domain: keitaro.base, key: "e89bcbe" } },
  postbacks: { destination: "kt" },
  campaigns: [
    { code: "signals", name: "Crypto signals", bot: "main", chat: CHAT.id, unsub_window: "30d", payouts: { approve: { payout: 1.2, currency: "USD" } } },
    { code: "betting", name: "Betting tips", unsub_window: "7d" },
    { code: "news", name: "News digest" },
  ],
}, { port });
const update = botApi.enqueue(TOKEN, tg.myChatMember(CHAT, { id: 555001, username: "signals_tgcpa_bot" }, "left", "administrator", { can_invite_users: true }));
await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items[0].polling_offset ?? 0) > update, 10_000, "chat known");

// Two weeks of traffic, seeded so that it looks the same every run.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const now = Date.now();
let subscriber = 1000;
const post = (body: Record<string, unknown>) => svc.api("POST", "/api/events", body);
for (let day = 13; day >= 0; day--) {
  for (const [code, starts, join, leave] of [["signals", 14, 0.6, 0.15], ["betting", 8, 0.45, 0.25], ["news", 4, 0.7, 0.05]] as const) {
    const n = Math.round(starts * (0.6 + random() * 0.8));
    for (let i = 0; i < n; i++) {
      const at = now - day * DAY - random() * DAY * 0.9;
      const s = ++subscriber;
      const time = (t: number) => Math.min(now, t) / 1000;
      await post({ campaign: code, subscriber: s, status: "wait", click: `kt${s.toString(36)}`, username: random() < 0.6 ? `user_${s}` : undefined, time: time(at) });
      if (random() < join) {
        if (code === "signals" && random() < 0.5) await post({ campaign: code, subscriber: s, status: "hold", time: time(at + 30_000) });
        await post({ campaign: code, subscriber: s, status: "approve", time: time(at + 60_000) });
        if (random() < leave) await post({ campaign: code, subscriber: s, status: random() < 0.8 ? "cancel" : "trash", time: time(at + 3_600_000) });
      }
    }
  }
}
await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 30_000, "delivered");
// A tracker that refused a few (a wrong postback key on its side for a while).
keitaro.override(() => ({ status: 200, body: "Incorrect postback code", headers: { "content-type": "text/plain; charset=utf-8" } }));
for (let i = 0; i < 3; i++) await post({ campaign: "betting", subscriber: ++subscriber, status: "wait", click: `kt${subscriber.toString(36)}` });
await eventually(async () => (await svc.api("GET", "/api/postbacks?state=rejected")).body.items.length === 3, 10_000, "rejected");
keitaro.override(null);
await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 30_000, "delivered");
await post({ campaign: "signals", subscriber: 99, status: "approve" }); // an organic join, for the journal
// What the campaigns cost (the Money page): a day's spend each, in the dashboard's zone.
for (let day = 13; day >= 0; day--) {
  const date = new Date(now - day * DAY).toLocaleDateString("en-CA", { timeZone: "Europe/Moscow" });
  await svc.api("PUT", `/api/costs/signals/${date}`, { amount: (6 + random() * 4).toFixed(2), currency: "USD" });
}
await fetch(`${svc.url}/api/postback?key=none&click=x&status=sale`); // refused: shows in the inbound log

mkdirSync(OUT, { recursive: true });
const browser = await openBrowser(svc.url);
const page = browser.context.pages()[0] ?? (await browser.context.newPage());
await page.goto(`${svc.url}/dashboard`);
await page.screenshot({ path: join(OUT, "sign-in.png") });
await page.fill("#signin-key", API_KEY);
await page.click("#signin-form button[type=submit]");
await page.waitForSelector("[data-metric=wait]");
const shots: [string, string][] = [
  ["overview", "#/overview"],
  ["campaign", "#/campaign/signals"],
  ["postbacks", "#/postbacks?state=rejected"],
  ["leads", "#/leads"],
  ["journal", "#/journal"],
  ["bots", "#/bots"],
  ["retention", "#/retention?campaign=signals"],
  ["money", "#/money?from=" + new Date(now - 13 * DAY).toLocaleDateString("en-CA", { timeZone: "Europe/Moscow" })],
];
for (const [name, hash] of shots) {
  await page.goto(`${svc.url}/dashboard${hash}`);
  await page.waitForFunction((h) => {
    const { document } = globalThis as any;
    return document.getElementById("main")?.dataset.rendered === h;
  }, hash);
  if (name === "postbacks") await page.locator("tr[data-state=rejected] td").first().click(); // its attempt log
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: ["overview", "campaign", "retention", "money"].includes(name) });
}
await page.goto(`${svc.url}/swagger/`);
await page.waitForSelector(".opblock");
await page.screenshot({ path: join(OUT, "swagger.png") });

// The overview on a phone (390 px wide, the width of a common one).
await page.setViewportSize({ width: 390, height: 844 });
await page.goto(`${svc.url}/dashboard#/overview`);
await page.waitForFunction(() => (globalThis as any).document.getElementById("main")?.dataset.rendered === "#/overview");
await page.waitForTimeout(300);
await page.screenshot({ path: join(OUT, "overview-phone.png"), fullPage: true });

if (browser.foreign.length) throw new Error(`requests left the service: ${browser.foreign.join(", ")}`);
await browser.close();
await svc.stop();
await keitaro.close();
await botApi.close();
process.stdout.write(`screenshots written to ${OUT}\n`);
