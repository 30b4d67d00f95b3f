// Alerts against the fake Bot API and fake Slack / Discord webhooks, with a fake clock: each fires
// once per incident through the outbox and sends a recovery, a flapping cause does not flood, the
// digest comes at the local hour across a DST change, an incident survives a restart, and storage
// unwritable is sent from memory and recorded once writes work again.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeChatWebhooks } from "../helpers/fake-chat-webhooks.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { onPostgres, sqliteOnly } from "../helpers/service/database.ts";
import type { ConfigInput } from "../helpers/service/config.ts";

const TOKEN = "123456:ABC-alerts-token";
const ALERT_CHAT = -1005550001; // the operators' group
const CHAT = tg.channel(-1001234567890, "Tracked channel");
const MIN = 60_000;
const cleanup = cleanupAfterEach();

interface World {
  clock: FakeClock;
  api: FakeBotApi;
  hooks: FakeChatWebhooks;
  tracker: RecordingTracker;
  /** The tracker answers 503 while true. */
  down: { value: boolean };
  dir: string;
}

async function world(start = Date.UTC(2026, 0, 10, 12, 0, 0)): Promise<World> {
  const clock = new FakeClock(start);
  const api = await cleanup.closing(FakeBotApi.start());
  api.addBot({ token: TOKEN, username: "alerts_bot" });
  const hooks = await cleanup.closing(FakeChatWebhooks.start(clock.now));
  const down = { value: false };
  const tracker = await cleanup.closing(RecordingTracker.start(() => (down.value ? { status: 503, body: "Service Unavailable" } : { status: 200, body: "Success" })));
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-alerts-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return { clock, api, hooks, tracker, down, dir };
}

function config(w: World, alerts: Record<string, unknown>, extra: ConfigInput = {}): ConfigInput {
  const pb = `${w.tracker.base}/pb?c={click}&s={status}`;
  return {
    bots: { main: { token: TOKEN, mode: "polling", api_root: w.api.apiRoot } },
    postbacks: { wait: pb, approve: pb },
    campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
    delivery: { retry_ladder: Array(30).fill("1m").map((s, i) => (i === 0 ? "0s" : s)), circuit_failures: 3, circuit_cooldown: "1m" },
    alerts: {
      telegram: { bot: "main", chat: ALERT_CHAT }, webhook: { url: w.hooks.slackUrl, format: "slack" }, check_every: "1m", spacing: "15m", recover_after: "2m",
      // Each test turns on the alert it is about.
      bot_down: "off", bot_rights: "off", host_failing: "off", no_starts: "off", storage_unwritable: "off", ...alerts,
    },
    ...extra,
  };
}

async function service(w: World, cfg: ConfigInput, keepDir = false): Promise<TestService> {
  const svc = await startTestService(cfg, { clock: w.clock, dir: w.dir, keepDir: true });
  if (!keepDir) cleanup.push(() => svc.stop());
  await eventually(async () => (await svc.api("GET", "/api/bots")).body.items[0]?.status === "running", 5000, "the bot running");
  return svc;
}

/** Moves the clock on a minute at a time, letting each look at the alerts finish. */
async function minutes(svc: TestService, w: World, n: number, between?: () => Promise<void>) {
  for (let i = 0; i < n; i++) {
    w.clock.advance(MIN);
    await svc.svc.deps.alerts.idle();
    await between?.();
  }
}

const telegramAlerts = (w: World) => w.api.callsTo("sendMessage").filter((c) => c.params.chat_id === ALERT_CHAT && c.status === 200).map((c) => String(c.params.text));
const slack = (w: World) => w.hooks.texts("slack");

/** Three leads whose postbacks all fail at once: the host's circuit opens (circuit_failures 3). */
async function failHost(svc: TestService, w: World) {
  w.down.value = true;
  for (const sub of [1, 2, 3]) expect((await svc.api("POST", "/api/events", { campaign: "spring", subscriber: sub, status: "wait", click: `k${sub}` })).status).toBe(200);
  await eventually(async () => (await svc.api("GET", "/api/hosts")).body.items.some((h: any) => h.host === w.tracker.host && h.circuit === "open"), 5000, "the circuit open");
}

/**
 * The tracker answers again; the clock goes on a minute at a time until a postback to it is
 * delivered (the circuit's probe is due a cool-down after the last failure was recorded, which on a
 * busy machine can be a minute or two of the clock after the look that saw it).
 */
async function healHost(svc: TestService, w: World) {
  w.down.value = false;
  const delivered = async () => (await svc.api("GET", "/api/hosts")).body.items.some((h: any) => h.host === w.tracker.host && h.failing_since === null);
  for (let i = 0; i < 5; i++) {
    await minutes(svc, w, 1);
    if (await eventually(delivered, 1000, "a delivery").then(() => true, () => false)) return;
  }
  throw new Error("no postback to the tracker was delivered in 5 minutes of the clock");
}

describe("alerts", () => {
  test("a host failing fires once (Telegram and Slack, through the outbox) and recovers once", async () => {
    const w = await world();
    const svc = await service(w, config(w, { host_failing: "10m" }));
    await failHost(svc, w);
    await minutes(svc, w, 9);
    expect(slack(w)).toEqual([]); // 9 minutes: not yet
    await minutes(svc, w, 1);
    await eventually(() => slack(w).length === 1 && telegramAlerts(w).length === 1, 5000, "the alert");
    expect(slack(w)[0]).toStartWith(`[tgcpa] ALERT: postbacks to ${w.tracker.host} are failing since 2026-01-10 12:00:00 (UTC): `);
    expect(slack(w)[0]).toMatch(/: \d+ attempts failed, none delivered(; paused until 2026-01-10 12:\d\d:\d\d \(UTC\) \(circuit open\))?; last: http_503: Service Unavailable$/);
    expect(telegramAlerts(w)).toEqual(slack(w));
    // The rows' completions are written after the answers came (on PostgreSQL a moment later, batched).
    const alertRows = async () => (await svc.api("GET", "/api/postbacks?limit=500")).body.items.filter((p: any) => p.template.startsWith("alerts."));
    await eventually(async () => (await alertRows()).every((p: any) => p.state === "delivered"), 5000, "the alert rows delivered");
    const rows = await alertRows();
    expect(rows.map((p: any) => [p.template, p.state]).sort()).toEqual([["alerts.telegram", "delivered"], ["alerts.webhook", "delivered"]]);
    expect(rows.find((p: any) => p.template === "alerts.webhook").url).toBe(`${w.hooks.base}/***`); // the webhook URL is a secret
    await minutes(svc, w, 20); // still failing: no second alert
    expect(slack(w)).toHaveLength(1);
    await healHost(svc, w);
    await minutes(svc, w, 3);
    await eventually(() => slack(w).length === 2 && telegramAlerts(w).length === 2, 5000, "the recovery");
    expect(slack(w)[1]).toMatch(new RegExp(`^\\[tgcpa\\] RESOLVED: postbacks to ${w.tracker.host} are delivered again \\(after 3\\d min\\)$`)); // 30 min failing, a few to heal
    const alerts = (await svc.api("GET", "/api/alerts")).body;
    expect(alerts.active).toEqual([]);
    expect(alerts.items.map((i: any) => [i.kind, i.state])).toEqual([["host_failing", "resolved"]]);
    // The webhook URL is a secret: not in the rows, their attempt logs or the logs.
    const webhookRow = rows.find((p: any) => p.template === "alerts.webhook");
    const shown = JSON.stringify([await svc.api("GET", "/api/postbacks?limit=500"), await svc.api("GET", `/api/postbacks/${webhookRow.id}`), svc.logs]);
    expect(shown).not.toContain(FakeChatWebhooks.SLACK_PATH);
    expect((await svc.api("GET", `/api/postbacks/${webhookRow.id}`)).body.attempts[0].url).toBe(`${w.hooks.base}/***`);
  }, 30_000);

  test("a bot down fires after its threshold and recovers when it is back; Discord's {content}", async () => {
    const w = await world();
    const svc = await service(w, config(w, { telegram: null, webhook: { url: w.hooks.discordUrl, format: "discord" }, bot_down: "5m" }));
    w.api.removeBot(TOKEN); // getUpdates answers 401: the bot is down
    await eventually(async () => (await svc.api("GET", "/api/bots")).body.items[0].status === "error", 5000, "the bot down");
    await minutes(svc, w, 4);
    expect(w.hooks.texts("discord")).toEqual([]);
    await minutes(svc, w, 2);
    await eventually(() => w.hooks.texts("discord").length === 1, 5000, "the alert");
    expect(w.hooks.texts("discord")[0]).toMatch(/^\[tgcpa\] ALERT: bot main is down since 2026-01-10 12:00:0\d \(UTC\) \(\d min\): getUpdates failed: 401: Unauthorized/);
    w.api.addBot({ token: TOKEN, username: "alerts_bot" });
    await minutes(svc, w, 1, async () => {
      await eventually(async () => (await svc.api("GET", "/api/bots")).body.items[0].status === "running", 5000, "the bot back");
    });
    await minutes(svc, w, 15);
    await eventually(() => w.hooks.texts("discord").length === 2, 5000, "the recovery");
    expect(w.hooks.texts("discord")[1]).toMatch(/^\[tgcpa\] RESOLVED: bot main is connected to Telegram again \(after \d+ min\)$/);
  }, 30_000);

  test("a cause flapping: faster than its threshold never fires; slower, messages at least the spacing apart", async () => {
    const w = await world();
    const svc = await service(w, config(w, { telegram: null, bot_rights: "5m" }));
    const bot = { id: 123456, username: "alerts_bot" };
    // The bot's admin rights in the campaign's chat taken away and given back (my_chat_member updates).
    const rights = async (ok: boolean) => {
      w.api.enqueue(TOKEN, tg.myChatMember(CHAT, bot, ok ? "member" : "administrator", ok ? "administrator" : "member"));
      await eventually(async () => (await svc.api("GET", "/api/chats")).body.items[0]?.status === (ok ? "administrator" : "member"), 5000, "the chat update");
    };
    await rights(true);
    // 3 minutes without the rights, 3 with: for an hour, never 5 minutes in a row.
    for (let i = 0; i < 10; i++) {
      await rights(false);
      await minutes(svc, w, 3);
      await rights(true);
      await minutes(svc, w, 3);
    }
    expect(slack(w)).toEqual([]);
    // 8 minutes without, 8 with, for 2 hours and more.
    for (let i = 0; i < 8; i++) {
      await rights(false);
      await minutes(svc, w, 8);
      await rights(true);
      await minutes(svc, w, 8);
    }
    await eventually(() => w.hooks.requests.length === w.hooks.messages.length && slack(w).length > 0, 5000, "the alerts delivered");
    const at = w.hooks.messages.map((m) => m.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(15 * MIN);
    expect(slack(w).length).toBeLessThanOrEqual(Math.floor((8 * 16) / 15) + 1); // 128 minutes at one message per 15 at most
    expect(slack(w)[0]).toStartWith(`[tgcpa] ALERT: bot main lacks administrator in chat ${CHAT.id} (campaign spring)`);
    expect(slack(w).filter((t) => t.includes("ALERT")).length - slack(w).filter((t) => t.includes("RESOLVED")).length).toBeOneOf([0, 1]);
  }, 60_000);

  test("an incident survives a restart: its alert row is sent after it, no second alert, one recovery", async () => {
    const w = await world();
    const cfg = config(w, { telegram: null, host_failing: "10m" });
    const first = await service(w, cfg, true);
    w.hooks.failNext = 1; // Slack's 500 rollup_error: the alert row waits on its ladder
    await failHost(first, w);
    await minutes(first, w, 10);
    await eventually(() => w.hooks.requests.length === 1, 5000, "the alert tried");
    expect(slack(w)).toEqual([]);
    await first.stop();

    const second = await service(w, cfg);
    await minutes(second, w, 2);
    // advance(0): a timer the dispatcher set after the clock last moved, due now, fires as on a real
    // clock (on PostgreSQL its reads at start can finish after the minutes went by).
    await eventually(() => (w.clock.advance(0), slack(w).length === 1), 5000, "the alert after the restart");
    expect(slack(w)[0]).toContain(`postbacks to ${w.tracker.host} are failing since 2026-01-10 12:00:00 (UTC)`);
    await minutes(second, w, 10); // still failing: the restored incident fires nothing new
    expect(slack(w)).toHaveLength(1);
    await healHost(second, w);
    await minutes(second, w, 3);
    await eventually(() => slack(w).length === 2, 5000, "the recovery");
    expect(slack(w)[1]).toStartWith(`[tgcpa] RESOLVED: postbacks to ${w.tracker.host} are delivered again`);
  }, 30_000);

  test.skipIf(!onPostgres)("two instances on one database: one of them looks (the @alerts lease), the incident is sent once, and once more only as its recovery after the other took over", async () => {
    const w = await world();
    const cfg = config(w, { telegram: null, host_failing: "10m" });
    const first = await service(w, cfg, true);
    // The second on the same database (the same storage.path stands for one database): its bot in standby.
    const second = await startTestService(cfg, { clock: w.clock, dir: w.dir, keepDir: true });
    cleanup.push(() => second.stop());
    await eventually(async () => (await second.api("GET", "/api/bots")).body.items[0]?.status === "standby", 5000, "the second's bot in standby");
    const both = async (n: number) => {
      for (let i = 0; i < n; i++) {
        w.clock.advance(MIN);
        await Promise.all([first, second].filter((s) => !stopped.has(s)).map((s) => s.svc.deps.alerts.idle()));
      }
    };
    const stopped = new Set<TestService>();
    // The three failing postbacks are claimed by either instance: retries a minute apart until one
    // of them has seen the host's circuit_failures and opened it for both.
    w.down.value = true;
    for (const sub of [1, 2, 3]) expect((await first.api("POST", "/api/events", { campaign: "spring", subscriber: sub, status: "wait", click: `k${sub}` })).status).toBe(200);
    const open = async () => (await Promise.all([first, second].map(async (s) => (await s.api("GET", "/api/hosts")).body.items
      .some((h: any) => h.host === w.tracker.host && h.circuit === "open")))).every(Boolean);
    for (let i = 0; i < 5 && !(await eventually(open, 1000, "the circuit open on both").then(() => true, () => false)); i++) await both(1);
    expect(await open()).toBe(true);
    expect(slack(w)).toEqual([]);
    await both(10);
    await eventually(() => (w.clock.advance(0), slack(w).length === 1), 5000, "the alert");
    await both(20); // still failing: neither instance sends it again
    expect(slack(w)).toHaveLength(1);
    await first.stop(); // the looking one; its leases are released at once
    stopped.add(first);
    await eventually(async () => (await second.api("GET", "/api/bots")).body.items[0]?.status === "running", 5000, "the second owning the bot");
    await both(5); // the second reads the open incident: nothing new to send
    expect(slack(w)).toHaveLength(1);
    await healHost(second, w);
    await both(3);
    await eventually(() => (w.clock.advance(0), slack(w).length === 2), 5000, "the recovery");
    expect(slack(w)[1]).toStartWith(`[tgcpa] RESOLVED: postbacks to ${w.tracker.host} are delivered again`);
    await both(20);
    expect(slack(w)).toHaveLength(2);
  }, 30_000);

  test("no Start for N hours after having traffic fires; a Start recovers it", async () => {
    const w = await world();
    const svc = await service(w, config(w, { telegram: null, no_starts: "2h" }));
    await minutes(svc, w, 200); // no traffic yet: nothing to miss
    expect(slack(w)).toEqual([]);
    expect((await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 9, status: "wait", click: "k9" })).status).toBe(200);
    const started = w.clock.now();
    await minutes(svc, w, 119);
    expect(slack(w)).toEqual([]);
    await minutes(svc, w, 1);
    await eventually(() => slack(w).length === 1, 5000, "the alert");
    expect(slack(w)[0]).toBe(`[tgcpa] ALERT: campaign spring has had no Start for 2 h (the last one at ${new Date(started).toISOString().replace("T", " ").slice(0, 19)} (UTC))`);
    expect((await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 10, status: "wait", click: "k10" })).status).toBe(200);
    await minutes(svc, w, 15);
    await eventually(() => slack(w).length === 2, 5000, "the recovery");
    expect(slack(w)[1]).toMatch(/^\[tgcpa\] RESOLVED: campaign spring has Starts again/);
  }, 60_000);

  test("the daily digest at 09:00 in New York on both sides of the DST change, for the local day before, with its revenue", async () => {
    const w = await world(Date.UTC(2026, 2, 7, 13, 58)); // 08:58 EST on Saturday 7 March
    const svc = await service(w, config(w, { telegram: null, webhook: { url: w.hooks.slackUrl, format: "json" }, digest: "09:00", timezone: "America/New_York" }, {
      campaigns: [{ code: "spring", bot: "main", chat: CHAT.id, payouts: { approve: { payout: "2.5", currency: "USD" } } }],
    }));
    const event = async (sub: number, status: string, iso: string) =>
      expect((await svc.api("POST", "/api/events", { campaign: "spring", subscriber: sub, status, click: `k${sub}`, time: Date.parse(iso) / 1000 })).status).toBe(200);
    await event(1, "wait", "2026-03-06T15:00:00Z"); // Friday 6th, local
    await event(2, "wait", "2026-03-07T06:00:00Z"); // Saturday 7th 01:00 EST
    await event(2, "approve", "2026-03-07T06:05:00Z");
    await event(3, "wait", "2026-03-08T04:30:00Z"); // still the 7th: 23:30 EST
    await minutes(svc, w, 1);
    expect(slack(w)).toEqual([]); // 08:59
    await minutes(svc, w, 1);
    await eventually(() => slack(w).length === 1, 5000, "Saturday's digest");
    expect(slack(w)[0]).toBe("[tgcpa] Daily digest for 2026-03-06 (America/New_York)\nspring: 1 Start, 0 join requests, 0 joins, 0 leaves, 0 bans");
    expect(w.hooks.messages[0]!.body.alert).toMatchObject({ kind: "digest", subject: "2026-03-06", state: "digest" });
    // To 08:59 EDT on Sunday the 8th: 22 hours 59 minutes later (the night lost an hour).
    w.clock.advance(22 * 60 * MIN + 59 * MIN - MIN);
    await svc.svc.deps.alerts.idle();
    await minutes(svc, w, 1);
    expect(slack(w)).toHaveLength(1);
    await minutes(svc, w, 1); // 09:00 EDT = 13:00Z
    await eventually(() => slack(w).length === 2, 5000, "Sunday's digest");
    expect(w.hooks.messages[1]!.at).toBe(Date.UTC(2026, 2, 8, 13, 0));
    expect(slack(w)[1]).toBe("[tgcpa] Daily digest for 2026-03-07 (America/New_York)\nspring: 2 Starts, 0 join requests, 1 join, 0 leaves, 0 bans, revenue 2.50 USD");
    await minutes(svc, w, 90); // past 09:00 EST (14:00Z): not sent again
    expect(slack(w)).toHaveLength(2);
  }, 30_000);

  sqliteOnly("another process holds the SQLite file's write lock")("storage unwritable: sent straight from memory to the webhook and Telegram, recorded once writes work, recovered through the outbox", async () => {
    const w = await world();
    const svc = await service(w, config(w, { storage_unwritable: "1m" }, { storage: { path: join(w.dir, "tgcpa.db"), busy_timeout_ms: 50 } }));
    const locker = new Database(join(w.dir, "tgcpa.db"));
    locker.run("BEGIN IMMEDIATE"); // another process holds the write lock
    let locked = true;
    cleanup.push(() => locked && locker.run("ROLLBACK"));
    await minutes(svc, w, 1);
    expect((await fetch(`${svc.url}/health`)).status).toBe(503);
    await minutes(svc, w, 1);
    await eventually(() => slack(w).length === 1 && telegramAlerts(w).length === 1, 5000, "the alert from memory");
    expect(slack(w)[0]).toMatch(/^\[tgcpa\] ALERT: the database refuses writes since 2026-01-10 12:0\d:\d\d \(UTC\): /);
    expect((await svc.api("GET", "/api/alerts")).body).toMatchObject({ active: [{ kind: "storage_unwritable", phase: "firing" }], items: [] });
    locker.run("COMMIT");
    locked = false;
    await minutes(svc, w, 1);
    const recorded = (await svc.api("GET", "/api/alerts")).body.items;
    expect(recorded.map((i: any) => [i.kind, i.state])).toEqual([["storage_unwritable", "recovering"]]);
    const journal = (await svc.api("GET", "/api/journal?kind=alert_sent_directly")).body.items;
    expect(journal[0].detail).toMatchObject({ alert: "storage_unwritable:storage", outcomes: ["webhook: delivered", "telegram: delivered"] });
    await minutes(svc, w, 15);
    await eventually(() => slack(w).length === 2 && telegramAlerts(w).length === 2, 5000, "the recovery");
    expect(slack(w)[1]).toMatch(/^\[tgcpa\] RESOLVED: the database takes writes again/);
    locker.close();
  }, 30_000);
});
