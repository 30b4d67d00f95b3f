import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { sqliteOnly } from "../helpers/service/database.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKEN = "123456:ABC-resilience";
const CHAT = tg.channel(-1001234567890, "Tracked channel");

const cleanup = cleanupAfterEach();

const bots = async (svc: TestService) => (await svc.api("GET", "/api/bots")).body.items;
const health = async (svc: TestService) => {
  const res = await fetch(`${svc.url}/health`);
  return { status: res.status, body: await res.json() as any };
};

describe("a bot stays up", () => {
  test("Bot API unreachable at start: the bot shows the network error, /health is degraded; it comes up by itself once the API answers", async () => {
    const clock = new FakeClock();
    const apiPort = await freePort(); // nothing listens there yet
    const svc = await startTestService({
      bots: { main: { token: TOKEN, mode: "polling", api_root: `http://127.0.0.1:${apiPort}` } },
      campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
    }, { clock });
    cleanup.push(() => svc.stop());
    const [bot] = await bots(svc);
    expect(bot).toMatchObject({ name: "main", status: "error" });
    expect(bot.last_error).toMatch(/^getMe failed: network: /);
    expect(bot.last_error).not.toContain("token"); // a refused connection is not a bad token
    expect(await health(svc)).toEqual({ status: 200, body: expect.objectContaining({ status: "degraded", db: "ok", bots_down: ["main"] }) });

    const api = await FakeBotApi.start({ port: apiPort });
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_back_bot" });
    clock.advance(999);
    await Bun.sleep(50);
    expect(api.callsTo("getMe")).toHaveLength(0); // the first retry is 1 s after the failure
    clock.advance(1);
    await eventually(async () => (await bots(svc))[0].status === "running", 5000, "bot running");
    expect((await bots(svc))[0]).toMatchObject({ username: "tgcpa_back_bot" });
    expect((await health(svc)).body).toMatchObject({ status: "ok" });
    // and it polls: an update sent now is applied
    const id = api.enqueue(TOKEN, tg.startMessage(tg.user(42), "spring-x"));
    await eventually(async () => (await bots(svc))[0].polling_offset === id + 1, 5000, "update applied");
  });

  test("a token Telegram does not know: 401 with a hint to check it, retried with a doubling backoff", async () => {
    const clock = new FakeClock();
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    const svc = await startTestService({ bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } } }, { clock });
    cleanup.push(() => svc.stop());
    expect((await bots(svc))[0].last_error).toBe("getMe failed: 401: Unauthorized (Telegram does not know this token: check it with @BotFather)");
    for (const wait of [1000, 2000, 4000]) {
      const before = api.callsTo("getMe").length;
      clock.advance(wait);
      await eventually(() => api.callsTo("getMe").length === before + 1, 5000, `retry after ${wait} ms`);
    }
    api.addBot({ token: TOKEN, username: "tgcpa_fixed_bot" }); // e.g. the token was re-issued
    clock.advance(8000);
    await eventually(async () => (await bots(svc))[0].status === "running", 5000, "running");
  });

  test("getUpdates failing (Telegram 502) marks the bot down and is retried; polling resumes", async () => {
    const clock = new FakeClock();
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    api.failNext("getUpdates", { error_code: 502, description: "Bad Gateway" }, 1);
    const svc = await startTestService({ bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } }, campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }] }, { clock });
    cleanup.push(() => svc.stop());
    await eventually(async () => (await bots(svc))[0].status === "error", 5000, "marked down");
    expect((await bots(svc))[0].last_error).toBe("getUpdates failed: 502: Bad Gateway");
    expect((await health(svc)).body.bots_down).toEqual(["main"]);
    clock.advance(1000);
    const id = api.enqueue(TOKEN, tg.startMessage(tg.user(43), "spring-y"));
    await eventually(async () => (await bots(svc))[0].polling_offset === id + 1, 5000, "update applied after the retry");
    expect((await bots(svc))[0].status).toBe("running");
  });

  test("a Bot API that takes the connection and never answers: the start ends after delivery.timeout_ms, the bot shows it and /health names it", async () => {
    // A stalled proxy or local Bot API server: TCP accepted, not a byte answered.
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    cleanup.push(() => silent.stop(true));
    const svc = await startTestService({
      bots: { main: { token: TOKEN, mode: "polling", api_root: `http://127.0.0.1:${silent.port}` } },
      delivery: { timeout_ms: 500, lease_ms: 5000 },
    });
    cleanup.push(() => svc.stop());
    const [bot] = await bots(svc);
    expect(bot).toMatchObject({ name: "main", status: "error", last_error: "getMe failed: no answer within 0.5 s" });
    expect(await health(svc)).toEqual({ status: 200, body: expect.objectContaining({ status: "degraded", bots_down: ["main"] }) });
  });

  test("two reloads close together leave one loop per bot: no conflicting getUpdates, nothing sent after the stop", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    const svc = await startTestService({ bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } } });
    await eventually(() => api.callsTo("getUpdates").length > 0, 5000, "polling");
    // Two SIGHUPs, or a SIGHUP and POST /api/config/reload, before the first restart has finished.
    svc.svc.deps.reloadConfig();
    svc.svc.deps.reloadConfig();
    await eventually(() => api.callsTo("getMe").length === 3, 5000, "both restarts done");
    await Bun.sleep(300); // a loop left behind would now be polling beside the new one
    const conflicts = () => api.callsTo("getUpdates").filter((c) => c.status === 409);
    expect(conflicts()).toEqual([]);
    expect((await bots(svc))[0]).toMatchObject({ status: "running", last_error: null });
    await svc.stop();
    const calls = api.calls.length;
    await Bun.sleep(300);
    expect(api.calls.slice(calls)).toEqual([]);
  });
});

for (const mode of ["polling", "webhook"] as const) {
  describe(`an update that cannot be applied (${mode})`, () => {
    test("is journaled as update_failed with its update_id and skipped; the next update is applied", async () => {
      const api = await FakeBotApi.start();
      cleanup.push(() => api.close());
      api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
      const tracker = await RecordingTracker.start();
      cleanup.push(() => tracker.close());
      const port = await freePort();
      const svc = await startTestService({
        server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
        bots: { main: { token: TOKEN, mode, api_root: api.apiRoot, secret: "hook-secret" } },
        postbacks: { wait: `${tracker.base}/pb?sub={subscriber}&u={username}` },
        campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
      }, { port });
      cleanup.push(() => svc.stop());
      if (mode === "webhook") await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
      const poisoned = [
        { update_id: 9001, ...tg.startMessage({ ...tg.user(51), username: { nested: true } as unknown as string }, "spring-a") },
        { update_id: 9002, ...tg.startMessage(tg.user(52, { username: "bad\ud800name" }), "spring-b") },
        { update_id: 9003, chat_member: { ...tg.chatMember(CHAT, tg.user(53), "left", "member").chat_member, from: "nobody" } },
      ];
      const good = { update_id: 9004, ...tg.startMessage(tg.user(54, { username: "fine" }), "spring-c") };
      if (mode === "polling") for (const u of [...poisoned, good]) api.enqueue(TOKEN, u);
      else for (const u of [...poisoned, good]) expect((await api.push(TOKEN, u)).status).toBe(200); // 200: Telegram must not resend it forever
      await tracker.waitForCount(1);
      expect(tracker.received[0]!.query).toMatchObject({ sub: "54", u: "fine" });
      // Journaled in a write of its own after the batch: on PostgreSQL it may commit after the good update's postback went out.
      await eventually(async () => (await svc.api("GET", "/api/journal?kind=update_failed")).body.items.length === 3, 5000, "the skipped updates journaled");
      const journal = (await svc.api("GET", "/api/journal?kind=update_failed")).body.items;
      expect(journal.map((j: any) => j.detail.update_id).sort()).toEqual([9001, 9002, 9003]);
      expect(journal.find((j: any) => j.detail.update_id === 9002).detail.error).toContain("message.from.username");
      expect((await svc.api("GET", "/api/leads")).body.items.map((l: any) => l.subscriber)).toEqual([54]);
      if (mode === "polling") expect((await bots(svc))[0].polling_offset).toBe(9005);
      else expect((await api.push(TOKEN, poisoned[0]!)).status).toBe(200); // a resend is a duplicate: journaled once
      expect((await svc.api("GET", "/api/journal?kind=update_failed")).body.items).toHaveLength(3);
    });
  });
}

describe("storage trouble while polling", () => {
  sqliteOnly("another process holds the SQLite file's lock")("an update that meets a locked database is not skipped: it is applied once the lock is gone", async () => {
    const clock = new FakeClock();
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    const svc = await startTestService((dir) => ({
      storage: { path: join(dir, "tgcpa.db"), busy_timeout_ms: 50 },
      bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
      campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
    }), { clock });
    cleanup.push(() => svc.stop());
    await eventually(async () => (await bots(svc))[0].status === "running", 5000, "running");
    const lock = new Database(join(svc.dir, "tgcpa.db"));
    lock.run("BEGIN EXCLUSIVE");
    const id = api.enqueue(TOKEN, tg.startMessage(tg.user(61), "spring-z"));
    await eventually(() => svc.logs.some((l) => l.includes("storage unavailable; the updates are fetched again")), 5000, "storage error seen");
    lock.run("ROLLBACK");
    lock.close();
    clock.advance(1000);
    await eventually(async () => (await bots(svc))[0].polling_offset === id + 1, 5000, "applied after the lock");
    expect((await svc.api("GET", "/api/leads?subscriber=61")).body.items).toHaveLength(1);
    expect((await svc.api("GET", "/api/journal?kind=update_failed")).body.items).toEqual([]);
  });
});

describe("the webhook reads no body it should not", () => {
  async function webhookService() {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    const port = await freePort();
    const svc = await startTestService({
      server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
      bots: { main: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: "hook-secret" } },
    }, { port });
    cleanup.push(() => svc.stop());
    return svc;
  }
  /** A body that sends one chunk and then never ends: an answer can only come before it is read. */
  const endless = () => new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"update_id":')) });
  const post = (svc: TestService, headers: Record<string, string>, body: ReadableStream<Uint8Array>) =>
    fetch(`${svc.url}/telegram/main`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal: AbortSignal.timeout(5000) });

  test("without the secret: 401 while the body is still arriving", async () => {
    const svc = await webhookService();
    const res = await post(svc, { "x-telegram-bot-api-secret-token": "wrong" }, endless());
    expect(res.status).toBe(401);
  });

  test("a declared body over 1 MiB: 413 before it is read; a chunked one is cut off at 1 MiB with 413", async () => {
    const svc = await webhookService();
    const secret = { "x-telegram-bot-api-secret-token": "hook-secret" };
    const declared = await post(svc, { ...secret, "content-length": String(2 * 1024 * 1024) }, endless());
    expect(declared.status).toBe(413);
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const big = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 2 * 1024 * 1024) return c.close();
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const chunked = await post(svc, secret, big);
    expect(chunked.status).toBe(413);
  });

  test("an inbound postback body over 64 KiB: 413 before it is read", async () => {
    const svc = await webhookService();
    const res = await fetch(`${svc.url}/api/postback`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(100 * 1024) }, body: endless(), signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ status: "error", error: "bad-request" });
  });
});

describe("one intake", () => {
  const counter = async (svc: TestService, name: string) => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  };

  sqliteOnly("SQLite's group commit; PostgreSQL commits each update of a batch in a transaction of its own, one after the other")("a polling batch of 50 Starts shares a few group commits (not one transaction and fsync per update)", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    const svc = await startTestService({
      bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
      campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
    });
    cleanup.push(() => svc.stop());
    await eventually(async () => (await bots(svc))[0].status === "running", 5000, "running");
    const batches = await counter(svc, "tgcpa_commit_batches_total");
    const writes = await counter(svc, "tgcpa_commit_writes_total");
    let last = 0;
    for (let i = 0; i < 50; i++) last = api.enqueue(TOKEN, tg.startMessage(tg.user(700 + i), `spring-k${i}`));
    await eventually(async () => (await bots(svc))[0].polling_offset === last + 1, 5000, "batch applied");
    expect((await svc.api("GET", "/api/leads?limit=100")).body.items).toHaveLength(50);
    expect(await counter(svc, "tgcpa_commit_writes_total") - writes).toBeGreaterThanOrEqual(50); // every update went through the intake
    expect(await counter(svc, "tgcpa_commit_batches_total") - batches).toBeLessThanOrEqual(6);
    expect((await svc.api("GET", "/metrics")).body).toContain('tgcpa_events_total{status="wait",result="applied"} 50');
  });
});
