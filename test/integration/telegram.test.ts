import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { sqliteOnly } from "../helpers/service/database.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKEN = "123456:ABC-test-token";
const CHAT = tg.channel(-1001234567890, "Tracked channel");
const PAUSED_CHAT = tg.channel(-1009999, "Paused channel");
const ADMIN = tg.user(1, { username: "admin" });

const cleanup = cleanupAfterEach();

async function setup(mode: "polling" | "webhook", opts: { window?: string } = {}) {
  const clock = new FakeClock();
  const api = await FakeBotApi.start();
  cleanup.push(() => api.close());
  api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
  const tracker = await RecordingTracker.start();
  cleanup.push(() => tracker.close());
  const port = await freePort();
  const pb = `${tracker.base}/pb?click={click}&status={status}&sub={subscriber}`;
  const svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    bots: { main: { token: TOKEN, mode, api_root: api.apiRoot, secret: "hook-secret" } },
    postbacks: { wait: pb, hold: pb, approve: pb, cancel: pb, trash: pb },
    campaigns: [
      {
        code: "spring", bot: "main", chat: CHAT.id, unsub_window: opts.window ?? "1h", auto_approve: true,
        welcome: { text: "Hi {username}, join: {invite}", button: { text: "Join", url: "{invite}" } },
      },
      { code: "frozen", bot: "main", chat: PAUSED_CHAT.id, paused: true, welcome: { text: "never" } },
    ],
  }, { clock, port });
  cleanup.push(() => svc.stop());
  if (mode === "webhook") await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");

  /** Delivers an update the way the mode does and returns once its effects are committed. */
  const send = async (update: object & { update_id?: number }) => {
    if (mode === "webhook") {
      const res = await api.push(TOKEN, update);
      expect(res.status).toBe(200);
      return res.update_id;
    }
    const id = api.enqueue(TOKEN, update);
    await eventually(async () => ((await svc.api("GET", "/api/bots")).body.items[0].polling_offset ?? 0) > id, 5000, `update ${id} applied`);
    return id;
  };
  const received = (sub: number) => tracker.received.filter((r) => r.query.sub === String(sub)).map((r) => r.query.status);
  const lead = async (sub: number) => (await svc.api("GET", `/api/leads?subscriber=${sub}`)).body.items[0];
  return { api, tracker, svc, clock, send, received, lead };
}

async function settled(svc: TestService) {
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 5000, "outbox drained");
}

for (const mode of ["polling", "webhook"] as const) {
  describe(`Telegram journeys (${mode})`, () => {
    test("Start → welcome + wait; join request → hold (auto-approved); join → approve; leave → cancel; re-join → approve; ban → trash", async () => {
      const { api, svc, send, received, lead, tracker, clock } = await setup(mode);
      const bob = tg.user(501, { username: "bob_1" });
      await send(tg.startMessage(bob, "spring-clk_1"));
      const welcome = await api.waitForCall("sendMessage");
      const invite = api.callsTo("createChatInviteLink")[0]!;
      expect(invite.params).toMatchObject({ chat_id: CHAT.id, name: "spring" });
      const link = [...api.inviteLinks.keys()][0]!;
      expect(welcome.params).toMatchObject({ chat_id: bob.id, parse_mode: "Markdown", text: `Hi bob\\_1, join: ${link.replace(/_/g, "\\_")}` }); // values escaped for legacy Markdown
      expect(welcome.params.reply_markup).toEqual({ inline_keyboard: [[{ text: "Join", url: link }]] });
      await tracker.waitUntil(() => received(bob.id).length === 1);
      expect(tracker.received[0]!.query.click).toBe("clk_1");

      await send(tg.joinRequest(CHAT, bob));
      clock.advance(1000); // the bot's sends are paced (25/s): the approval follows the welcome
      await api.waitForCall("approveChatJoinRequest", (c) => c.params.user_id === bob.id);
      await send(tg.chatMember(CHAT, bob, "left", "member", { via_join_request: true }));
      await send(tg.chatMember(CHAT, bob, "member", "left"));
      await send(tg.chatMember(CHAT, bob, "left", "member"));
      await send(tg.chatMember(CHAT, bob, "member", "kicked", { from: ADMIN }));
      await tracker.waitUntil(() => received(bob.id).length === 6, 5000, "six postbacks");
      expect(received(bob.id)).toEqual(["wait", "hold", "approve", "cancel", "approve", "trash"]);
      expect((await lead(bob.id)).status).toBe("trash");
      await settled(svc);
    });

    test("a leave after the unsubscribe window changes the status but sends nothing; an unban changes nothing", async () => {
      const { send, received, lead, clock, tracker, svc } = await setup(mode, { window: "1h" });
      const ann = tg.user(502);
      await send(tg.startMessage(ann, "spring-a"));
      await send(tg.chatMember(CHAT, ann, "left", "member"));
      await tracker.waitUntil(() => received(ann.id).length === 2);
      clock.advance(3_600_001);
      await send(tg.chatMember(CHAT, ann, "member", "kicked", { from: ADMIN }));
      expect((await lead(ann.id)).status).toBe("trash");
      await send(tg.chatMember(CHAT, ann, "kicked", "left", { from: ADMIN }));
      expect((await lead(ann.id)).status).toBe("trash");
      await settled(svc);
      expect(received(ann.id)).toEqual(["wait", "approve"]);
      const events = (await svc.api("GET", `/api/leads/${(await lead(ann.id)).id}`)).body.events;
      expect(events.at(-1)).toMatchObject({ status: "trash", reason: "outside_unsub_window" });
    });

    test("organic join is journaled only; a join up to 120 s before the Start becomes the lead's approve", async () => {
      const { send, received, svc, clock, tracker } = await setup(mode);
      const org = tg.user(503);
      await send(tg.chatMember(CHAT, org, "left", "member"));
      expect((await svc.api("GET", "/api/leads?subscriber=503")).body.items).toEqual([]);
      expect((await svc.api("GET", "/api/journal?kind=organic_join")).body.items[0]).toMatchObject({ subscriber: 503, campaign: "spring" });
      clock.advance(60_000);
      await send(tg.startMessage(org, "spring-late"));
      await tracker.waitUntil(() => received(org.id).length === 2);
      expect(received(org.id)).toEqual(["wait", "approve"]);
    });

    test("the same update twice changes nothing", async () => {
      const { api, send, received, svc, tracker } = await setup(mode);
      const dup = tg.user(504);
      const start = { update_id: 777, ...tg.startMessage(dup, "spring-d") };
      await send(start);
      await tracker.waitUntil(() => received(dup.id).length === 1);
      await api.waitForCall("sendMessage");
      await send(start);
      await settled(svc);
      expect(received(dup.id)).toEqual(["wait"]);
      expect(api.callsTo("sendMessage")).toHaveLength(1);
      expect((await svc.api("GET", "/api/journal")).body.items.filter((j: any) => j.subscriber === dup.id)).toEqual([]);
    });

    test("a paused campaign, an unknown code and a malformed payload create no lead and are journaled; a repeated Start re-sends the welcome, a second later", async () => {
      const { api, send, svc, clock } = await setup(mode);
      const u = tg.user(505);
      await send(tg.startMessage(u, "frozen-x"));
      await send(tg.startMessage(u, "nosuch-x"));
      await send(tg.textMessage(u, "/start bad+payload"));
      await send(tg.startMessage(u));
      expect((await svc.api("GET", "/api/leads?subscriber=505")).body.items).toEqual([]);
      const reasons = (await svc.api("GET", "/api/journal?kind=start_rejected")).body.items.map((j: any) => j.detail.reason);
      expect(reasons.sort()).toEqual(["campaign_paused", "malformed_payload", "no_payload", "unknown_campaign"]);
      await send(tg.startMessage(u, "spring-1"));
      await send(tg.startMessage(u, "spring-2"));
      await api.waitForCalls("sendMessage", 1);
      // Telegram takes one message a second per private chat: the second welcome waits for its slot.
      await Bun.sleep(100);
      expect(api.callsTo("sendMessage")).toHaveLength(1);
      clock.advance(1000);
      await api.waitForCalls("sendMessage", 2);
      const lead = (await svc.api("GET", "/api/leads?subscriber=505")).body.items;
      expect(lead).toHaveLength(1);
      expect(lead[0].click).toBe("1"); // first click wins
    });

    test("a 429 on sendMessage: the welcome is sent again exactly after retry_after, not counted as an attempt", async () => {
      const { api, send, svc, clock } = await setup(mode);
      api.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 30", retry_after: 30 });
      await send(tg.startMessage(tg.user(506), "spring-r"));
      await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.some((p: any) => p.reason?.includes("429")), 5000, "429 recorded");
      const row = (await svc.api("GET", "/api/postbacks?state=pending")).body.items.find((p: any) => p.url === "tg://main/welcome");
      expect(row.attempts).toBe(0); // a flood wait is Telegram's pace, not a failed attempt
      clock.advance(29_999);
      await Bun.sleep(100);
      expect(api.callsTo("sendMessage")).toHaveLength(1);
      clock.advance(1);
      await eventually(() => api.callsTo("sendMessage").some((c) => c.status === 200), 5000, "welcome sent");
      expect(api.callsTo("sendMessage")).toHaveLength(2);
    });

    test("a user who blocked the bot: the welcome is rejected and journaled, not retried", async () => {
      const { api, send, svc } = await setup(mode);
      const u = tg.user(507);
      api.block(TOKEN, u.id);
      await send(tg.startMessage(u, "spring-b"));
      await eventually(async () => (await svc.api("GET", "/api/postbacks?state=rejected")).body.items.length === 1, 5000, "rejected");
      expect((await svc.api("GET", "/api/postbacks?state=rejected")).body.items[0].reason).toContain("403");
      expect((await svc.api("GET", "/api/journal?kind=bot_blocked")).body.items[0]).toMatchObject({ subscriber: u.id });
    });

    test("my_chat_member fills the chats cache; missing rights are flagged", async () => {
      const { send, svc } = await setup(mode);
      const me = { id: 123456, username: "tgcpa_test_bot" };
      await send(tg.myChatMember(CHAT, me, "left", "administrator", { can_invite_users: false }, { from: ADMIN }));
      let chats = (await svc.api("GET", "/api/chats")).body.items;
      expect(chats).toEqual([expect.objectContaining({ bot: "main", chat: CHAT.id, admin: true, missing_rights: ["can_invite_users"] })]);
      let spring = (await svc.api("GET", "/api/campaigns")).body.items.find((c: any) => c.code === "spring");
      expect(spring.bot_admin).toEqual({ ok: false, missing: ["can_invite_users"] });
      expect(spring.deep_link).toBe("https://t.me/tgcpa_test_bot?start=spring-{click}");
      await send(tg.myChatMember(CHAT, me, "administrator", "administrator", { can_invite_users: true }, { from: ADMIN }));
      chats = (await svc.api("GET", "/api/chats")).body.items;
      expect(chats[0].missing_rights).toEqual([]);
      spring = (await svc.api("GET", "/api/campaigns")).body.items.find((c: any) => c.code === "spring");
      expect(spring.bot_admin).toEqual({ ok: true, missing: [] });
    });
  });
}

describe("Telegram setup", () => {
  test("webhook: registered with the secret and the four update types; a wrong secret gets 401 and changes nothing", async () => {
    const { api, svc } = await setup("webhook");
    const hook = api.webhook(TOKEN)!;
    expect(hook.url).toBe(`${svc.url}/telegram/main`);
    expect(hook.secret_token).toBe("hook-secret");
    expect([...(api.allowedUpdates(TOKEN) ?? [])].sort()).toEqual(["chat_join_request", "chat_member", "message", "my_chat_member"]);
    const bad = await api.push(TOKEN, tg.startMessage(tg.user(601), "spring-x"), { secret: "wrong" });
    expect(bad.status).toBe(401);
    const none = await api.push(TOKEN, tg.startMessage(tg.user(601), "spring-x"), { secret: null });
    expect(none.status).toBe(401);
    expect((await svc.api("GET", "/api/leads")).body.items).toEqual([]);
    const bots = (await svc.api("GET", "/api/bots")).body.items;
    expect(bots[0]).toMatchObject({ name: "main", mode: "webhook", status: "running", username: "tgcpa_test_bot", webhook_url: hook.url });
    expect(JSON.stringify(bots)).not.toContain(TOKEN);
  });

  test("polling: a leftover webhook is removed, the offset is stored, and a restart neither loses nor replays updates", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    await fetch(`${api.apiRoot}/bot${TOKEN}/setWebhook`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "https://old.example/hook" }) });
    const tracker = await RecordingTracker.start();
    cleanup.push(() => tracker.close());
    const config = {
      bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
      postbacks: { wait: `${tracker.base}/pb?sub={subscriber}` },
      campaigns: [{ code: "spring", bot: "main", chat: CHAT.id }],
    };
    const first = await startTestService(config, { keepDir: true });
    const id1 = api.enqueue(TOKEN, tg.startMessage(tg.user(701), "spring-a"));
    await tracker.waitForCount(1);
    expect(api.webhook(TOKEN)?.url ?? "").toBe("");
    expect(api.callsTo("getUpdates").at(-1)!.params.allowed_updates).toEqual(["message", "my_chat_member", "chat_member", "chat_join_request"]);
    await eventually(async () => (await first.api("GET", "/api/bots")).body.items[0].polling_offset === id1 + 1, 5000, "offset stored");
    await first.stop();
    const id2 = api.enqueue(TOKEN, tg.startMessage(tg.user(702), "spring-b")); // arrives while the service is down
    const second = await startTestService(() => config, { dir: first.dir });
    cleanup.push(() => second.stop());
    await tracker.waitForCount(2);
    await eventually(async () => (await second.api("GET", "/api/bots")).body.items[0].polling_offset === id2 + 1, 5000, "offset after restart");
    expect(api.callsTo("getUpdates").filter((c) => c.at > 0).some((c) => c.params.offset === id1 + 1)).toBe(true);
    expect(tracker.received.map((r) => r.query.sub)).toEqual(["701", "702"]);
  });

  test("a bad token is a clear error for that bot; the other bot runs", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    const svc = await startTestService({
      bots: {
        good: { token: TOKEN, mode: "polling", api_root: api.apiRoot },
        bad: { token: "999:not-a-real-token", mode: "polling", api_root: api.apiRoot },
      },
      campaigns: [{ code: "spring", bot: "good", chat: CHAT.id }],
    });
    cleanup.push(() => svc.stop());
    const bots = (await svc.api("GET", "/api/bots")).body.items;
    expect(bots.find((b: any) => b.name === "bad")).toMatchObject({ status: "error", last_error: expect.stringContaining("401") });
    expect(bots.find((b: any) => b.name === "good")).toMatchObject({ status: "running", username: "tgcpa_test_bot" });
    expect(svc.logs.join("")).not.toContain("not-a-real-token");
    expect(svc.logs.join("")).not.toContain(TOKEN);
  });

  test("a welcome photo is uploaded once per bot, then sent by its cached file_id", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    const svc = await startTestService((dir) => {
      writeFileSync(join(dir, "welcome.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
      return {
        bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
        campaigns: [{ code: "spring", bot: "main", chat: CHAT.id, welcome: { text: "*Welcome*, {click}", photo: join(dir, "welcome.jpg") } }],
      };
    });
    cleanup.push(() => svc.stop());
    api.enqueue(TOKEN, tg.startMessage(tg.user(801), "spring-p1"));
    const first = await api.waitForCall("sendPhoto");
    expect(first.files.photo?.name).toBe("welcome.jpg");
    expect(first.params).toMatchObject({ chat_id: 801, caption: "*Welcome*, p1", parse_mode: "Markdown" });
    api.enqueue(TOKEN, tg.startMessage(tg.user(802), "spring-p2"));
    const [, second] = await api.waitForCalls("sendPhoto", 2);
    const fileId = (first.response as any).result.photo.at(-1).file_id; // answered before the second Start was handled
    expect(second!.files).toEqual({});
    expect(second!.params.photo).toBe(fileId);
  });

  sqliteOnly("another process holds the SQLite file's write lock")("a photo that went out is not sent again when its outcome and file id cannot be saved at once (the database locked at that moment); the file id is kept", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
    let locker: Database | undefined;
    cleanup.push(() => locker?.close());
    let sends = 0;
    let dbPath = "";
    const photos: unknown[] = [];
    // Telegram takes the photo; just before its first answer arrives another process takes the write lock for a while.
    api.setHandler("sendPhoto", async (call) => {
      sends++;
      photos.push(call.params.photo);
      if (sends === 1) {
        locker = new Database(dbPath);
        locker.run("BEGIN IMMEDIATE");
        setTimeout(() => locker!.run("ROLLBACK"), 600);
      }
      return { message_id: sends, date: Math.floor(Date.now() / 1000), chat: { id: Number(call.params.chat_id), type: "private", first_name: "u" }, caption: "hi",
        photo: [{ file_id: `photo-${sends}`, file_unique_id: `u-${sends}`, width: 90, height: 90 }] };
    });
    const svc = await startTestService((dir) => {
      dbPath = join(dir, "tgcpa.db");
      writeFileSync(join(dir, "welcome.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
      return {
        storage: { path: dbPath, busy_timeout_ms: 100 },
        bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
        campaigns: [{ code: "spring", bot: "main", chat: CHAT.id, welcome: { text: "hi", photo: join(dir, "welcome.jpg") } }],
      };
    });
    cleanup.push(() => svc.stop());
    api.enqueue(TOKEN, tg.startMessage(tg.user(803), "spring-p3"));
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=delivered")).body.items.some((p: any) => p.url === "tg://main/welcome"), 10_000, "the welcome recorded as delivered");
    const [welcome] = (await svc.api("GET", "/api/postbacks?state=delivered")).body.items.filter((p: any) => p.url === "tg://main/welcome");
    expect(welcome.attempts).toBe(1);
    expect(sends).toBe(1);
    expect(svc.logs.join("")).toContain("saving a delivery outcome failed; keeping it and retrying");
    // The file id was saved with the outcome: the next welcome sends it instead of the file.
    api.enqueue(TOKEN, tg.startMessage(tg.user(804), "spring-p4"));
    await eventually(() => sends === 2, 10_000, "the second welcome sent");
    expect(photos[1]).toBe("photo-1");
    expect(photos[0]).not.toBe("photo-1"); // the first one was an upload
  }, 20_000);
});
