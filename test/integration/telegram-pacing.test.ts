import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg, type ApiCall } from "../helpers/fake-bot-api/index.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { startTestService } from "../helpers/service/in-process.ts";

// A burst of Starts against a Bot API that enforces Telegram's limits (30/s per bot, 1/s per chat,
// a 3 s flood wait for the whole bot on any excess). Real time: the pacing is what is tested.

const TOKEN = "123456:ABC-pacing-token";
const CHAT = tg.channel(-1001234567890, "Tracked channel");
const N = 60;

const cleanup = cleanupAfterEach();

async function setup(mode: "polling" | "webhook", bot: Record<string, unknown> = {}, delivery: Record<string, unknown> = {}, campaign: Record<string, unknown> = {}) {
  const api = await FakeBotApi.start({ limits: true });
  cleanup.push(() => api.close());
  api.addBot({ token: TOKEN, username: "tgcpa_pacing_bot" });
  const tracker = await RecordingTracker.start();
  cleanup.push(() => tracker.close());
  const port = await freePort();
  const svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    bots: { main: { token: TOKEN, mode, api_root: api.apiRoot, secret: "hook-secret", ...bot } },
    postbacks: { wait: `${tracker.base}/pb?click={click}&sub={subscriber}` },
    campaigns: [{ code: "burst", bot: "main", chat: CHAT.id, welcome: { text: "Welcome!" }, ...campaign }],
    delivery,
  }, { port });
  cleanup.push(() => svc.stop());
  if (mode === "webhook") await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
  const users = Array.from({ length: N }, (_, i) => tg.user(10_000 + i));
  /** Every Start at once: enqueued for getUpdates, or pushed to the webhook concurrently. */
  const burst = async () => {
    if (mode === "polling") users.forEach((u, i) => api.enqueue(TOKEN, tg.startMessage(u, `burst-c${i}`)));
    else {
      const answers = await Promise.all(users.map((u, i) => api.push(TOKEN, tg.startMessage(u, `burst-c${i}`))));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    }
  };
  const welcomes = () => api.callsTo("sendMessage").filter((c) => c.status === 200);
  return { api, tracker, svc, users, burst, welcomes };
}

/** The most calls that arrived within any one second. */
function busiestSecond(calls: ApiCall[]): number {
  let most = 0;
  for (const c of calls) most = Math.max(most, calls.filter((d) => d.at >= c.at && d.at < c.at + 1000).length);
  return most;
}

for (const mode of ["polling", "webhook"] as const) {
  describe(`a burst of Starts against Telegram's limits (${mode})`, () => {
    test(`${N} Starts: every welcome sent, paced below 30/s, none refused, in the order the Starts came; the tracker is not kept waiting`, async () => {
      const { api, tracker, users, burst, welcomes } = await setup(mode);
      await burst();
      await eventually(() => welcomes().length === N, 15_000, `${N} welcomes`);
      expect(api.limits!.refusedTotal).toBe(0);
      expect(busiestSecond(welcomes())).toBeLessThanOrEqual(30); // Telegram's limit, as it counts arrivals (the pacer itself: test/unit/pacing.test.ts)
      const order = welcomes().map((c) => c.params.chat_id);
      if (mode === "polling") expect(order).toEqual(users.map((u) => u.id));
      else expect(new Set(order).size).toBe(N); // concurrent pushes have no order of their own
      // Tracker postbacks do not queue behind the bot's pace: all of them are in before the last welcome.
      await tracker.waitUntil(() => tracker.received.length === N, 5000, "wait postbacks");
      expect(Math.max(...tracker.received.map((r) => r.at))).toBeLessThan(welcomes().at(-1)!.at);
    }, 30_000);
  });
}

describe("tracker postbacks beside a paced bot", () => {
  test("a bot's backlog of welcomes never takes the claims tracker postbacks need, whatever the caps", async () => {
    // Few requests in flight overall, a large per-host cap: the bot could claim every slot if let.
    const { tracker, burst, welcomes } = await setup("polling", {}, { max_in_flight: 8, per_host_in_flight: 256 });
    await burst();
    await tracker.waitUntil(() => tracker.received.length === N, 10_000, "wait postbacks");
    // all 60 tracker postbacks are in while the bot is still working through its welcomes (25/s)
    expect(welcomes().length).toBeLessThan(N / 2);
    await eventually(() => welcomes().length === N, 15_000, `${N} welcomes`);
  }, 30_000);

  test("a Bot API that does not answer never takes the trackers' slots (delivery.max_in_flight counts tracker requests)", async () => {
    // A long timeout: a hanging send holds its slot for the whole wait, not 2 s.
    const { api, tracker, burst, welcomes } = await setup("polling", { paid_broadcast: true }, { max_in_flight: 8, timeout_ms: 30_000, lease_ms: 60_000 });
    // Every sendMessage hangs until the gate opens: a slow or stalled Bot API.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let started = 0;
    let messageId = 1;
    api.setHandler("sendMessage", async (call) => {
      started++;
      await gate;
      return { message_id: messageId++, date: Math.floor(Date.now() / 1000), chat: { id: Number(call.params.chat_id), type: "private", first_name: "u" }, text: String(call.params.text) };
    });
    await burst();
    await tracker.waitUntil(() => tracker.received.length === N, 10_000, "wait postbacks while every welcome hangs");
    expect(started).toBeGreaterThan(8); // the bot's sends in flight are beyond max_in_flight: their own cap
    expect(welcomes()).toEqual([]);
    open();
    await eventually(() => welcomes().length === N, 15_000, `${N} welcomes`);
  }, 30_000);
});

describe("a flood wait (Telegram 429 retry_after)", () => {
  test("pauses the whole bot for retry_after, never opens its circuit, and does not hold up the tracker", async () => {
    // 100/s is above what Telegram takes: the fake refuses the excess with a 3 s flood wait.
    const { api, tracker, svc, burst, welcomes } = await setup("polling", { max_per_second: 100 });
    await burst();
    await eventually(() => welcomes().length === N, 20_000, `${N} welcomes`);
    const refused = api.callsTo("sendMessage").filter((c) => c.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    const firstRefusal = refused[0]!.at;
    // Only sends already on their way when the first 429 came back hit the wait; after them the
    // bot sends nothing until the 3 s have passed.
    const during = api.callsTo("sendMessage").filter((c) => c.at > firstRefusal + 200 && c.at < firstRefusal + 3000);
    expect(during).toEqual([]);
    expect(refused.length).toBeLessThanOrEqual(20); // the bot's in-flight cap at 100/s
    expect(svc.logs.join("")).not.toContain("circuit opened");
    expect(svc.logs.join("")).toContain("flood wait");
    // every welcome arrived exactly once, the refused ones included
    expect(new Set(welcomes().map((c) => c.params.chat_id)).size).toBe(N);
    expect(tracker.received.length).toBe(N);
    expect(Math.max(...tracker.received.map((r) => r.at))).toBeLessThan(firstRefusal + 3000);
    const rows = (await svc.api("GET", "/api/postbacks?state=delivered&limit=500")).body.items.filter((p: any) => p.url === "tg://main/welcome");
    expect(rows).toHaveLength(N);
    expect(Math.max(...rows.map((p: any) => p.attempts))).toBe(1); // a flood wait is not a failed attempt
  }, 30_000);

  test("paid_broadcast sends with allow_paid_broadcast and takes Telegram's 1000/s", async () => {
    const { api, burst, welcomes } = await setup("polling", { paid_broadcast: true });
    await burst();
    await eventually(() => welcomes().length === N, 10_000, `${N} welcomes`);
    expect(api.limits!.refusedTotal).toBe(0);
    expect(welcomes().every((c) => c.params.allow_paid_broadcast === true)).toBe(true);
    expect(busiestSecond(welcomes())).toBe(N); // far above the 30/s of unpaid sends
  }, 30_000);

  test("paid_broadcast leaves join-request approvals at the free pace: no 429", async () => {
    const { api } = await setup("polling", { paid_broadcast: true }, {}, { auto_approve: true });
    const users = Array.from({ length: N }, (_, i) => tg.user(20_000 + i));
    for (const u of users) {
      api.setMember(CHAT.id, tg.member(u, "left"));
      api.enqueue(TOKEN, tg.joinRequest(CHAT, u));
    }
    const approvals = () => api.callsTo("approveChatJoinRequest").filter((c) => c.status === 200);
    await eventually(() => approvals().length === N, 10_000, `${N} approvals`);
    expect(api.limits!.refusedTotal).toBe(0); // Telegram takes ~30/s of calls that are not paid broadcasts
    expect(busiestSecond(approvals())).toBeLessThanOrEqual(30);
  }, 30_000);
});
