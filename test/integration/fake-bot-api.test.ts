/**
 * Self-test of test/helpers/fake-bot-api/, driven by grammY itself: the fake must answer the way
 * the real Bot API does for everything the service's Telegram tests rely on.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bot, GrammyError, InputFile } from "grammy";
import type { Update } from "grammy/types";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";

const TOKEN = "123456:ABC-test";
const OTHER = "654321:XYZ-other";

const cleanup = cleanupAfterEach();

async function setup() {
  const fake = await FakeBotApi.start();
  cleanup.push(() => fake.close());
  fake.addBot({ token: TOKEN, id: 123456, username: "tgcpa_test_bot" });
  const bot = new Bot(TOKEN, { client: { apiRoot: fake.apiRoot } });
  return { fake, bot, api: bot.api };
}

async function grammyError(p: Promise<unknown>): Promise<GrammyError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GrammyError) return err;
    throw err;
  }
  throw new Error("expected a GrammyError");
}

const alice = tg.user(111, { username: "alice", first_name: "Alice" });
const bob = tg.user(222, { first_name: "Bob" });
const channel = tg.channel(-1001234567890, "Test channel");

describe("auth and getMe", () => {
  test("getMe returns the registered bot as a UserFromGetMe", async () => {
    const { api, fake } = await setup();
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 123456, is_bot: true, username: "tgcpa_test_bot", can_join_groups: true, supports_inline_queries: false });
    expect(fake.callsTo("getMe", TOKEN)).toHaveLength(1);
  });

  test("an unknown token gets 401 Unauthorized, also over plain HTTP", async () => {
    const { fake } = await setup();
    const bad = new Bot("999:nope", { client: { apiRoot: fake.apiRoot } });
    const err = await grammyError(bad.api.getMe());
    expect(err.error_code).toBe(401);
    expect(err.description).toBe("Unauthorized");
    const res = await fetch(`${fake.apiRoot}/bot999:nope/getMe`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ ok: false, error_code: 401, description: "Unauthorized" });
    expect(fake.calls.at(-1)).toMatchObject({ token: "999:nope", method: "getMe", status: 401 });
  });

  test("an unknown method is 404 Not Found", async () => {
    const { fake } = await setup();
    const res = await fetch(`${fake.apiRoot}/bot${TOKEN}/sendTeleport`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error_code: 404, description: "Not Found" });
  });
});

describe("getUpdates", () => {
  test("offset confirms, limit caps, allowed_updates is recorded and sticky", async () => {
    const { api, fake } = await setup();
    const id1 = fake.enqueue(TOKEN, tg.startMessage(alice, "c1-click"));
    const id2 = fake.enqueue(TOKEN, tg.joinRequest(channel, alice));
    const id3 = fake.enqueue(TOKEN, tg.chatMember(channel, alice, "left", "member", { via_join_request: true }));
    expect([id2 - id1, id3 - id2]).toEqual([1, 1]);

    const allowed = ["message", "my_chat_member", "chat_member", "chat_join_request"] as const;
    const first = await api.getUpdates({ timeout: 0, limit: 2, allowed_updates: [...allowed] });
    expect(first.map((u) => u.update_id)).toEqual([id1, id2]);
    expect(first[0]?.message?.text).toBe("/start c1-click");
    expect(fake.allowedUpdates(TOKEN)).toEqual([...allowed]);

    // Not confirmed yet: the same offset returns the same updates.
    expect((await api.getUpdates({ offset: id1, timeout: 0 })).map((u) => u.update_id)).toEqual([id1, id2, id3]);
    // offset = last + 1 confirms everything before it.
    expect((await api.getUpdates({ offset: id2 + 1, timeout: 0 })).map((u) => u.update_id)).toEqual([id3]);
    expect((await api.getWebhookInfo()).pending_update_count).toBe(1);
    expect(await api.getUpdates({ offset: id3 + 1, timeout: 0 })).toEqual([]);
    expect((await api.getWebhookInfo()).pending_update_count).toBe(0);
    // Omitting allowed_updates keeps the last setting.
    expect(fake.allowedUpdates(TOKEN)).toEqual([...allowed]);
    expect((await api.getWebhookInfo()).allowed_updates).toEqual([...allowed]);
    expect(fake.callsTo("getUpdates")[0]?.params).toMatchObject({ limit: 2, timeout: 0, allowed_updates: [...allowed] });
  });

  test("long polling returns as soon as an update is queued, or [] after timeout", async () => {
    const { api, fake } = await setup();
    let t0 = Date.now();
    setTimeout(() => fake.enqueue(TOKEN, tg.startMessage(alice, undefined)), 100);
    const got = await api.getUpdates({ timeout: 5 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(got).toHaveLength(1);
    expect(got[0]?.message?.text).toBe("/start");

    t0 = Date.now();
    const none = await api.getUpdates({ offset: got[0]!.update_id + 1, timeout: 1 });
    expect(none).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  test("a second long poll terminates the first with 409", async () => {
    const { api } = await setup();
    const first = grammyError(api.getUpdates({ timeout: 5 }));
    await Bun.sleep(50);
    const second = api.getUpdates({ timeout: 0 });
    const err = await first;
    expect(err.error_code).toBe(409);
    expect(err.description).toContain("terminated by other getUpdates request");
    expect(await second).toEqual([]);
  });

  test("grammY's bot.start() polls, sees /start with its entity, replies, and stops cleanly", async () => {
    const { bot, fake } = await setup();
    bot.command("start", (ctx) => ctx.reply(`hello ${ctx.match || "nobody"}`));
    const running = bot.start({ allowed_updates: ["message", "chat_member", "chat_join_request", "my_chat_member"], timeout: 5 });
    await fake.waitForCall("getUpdates", (c) => c.params.timeout === 5);
    fake.enqueue(TOKEN, tg.startMessage(alice, "c1-abc"));
    const sent = await fake.waitForCall("sendMessage");
    expect(sent.params).toMatchObject({ chat_id: alice.id, text: "hello c1-abc" });
    await bot.stop();
    await running;
    expect(fake.allowedUpdates(TOKEN)).toEqual(["message", "chat_member", "chat_join_request", "my_chat_member"]);
    // stop() confirmed the update: nothing is pending.
    expect(fake.bot(TOKEN).queue).toEqual([]);
    expect(fake.callsTo("deleteWebhook")).toHaveLength(1);
  });
});

describe("webhooks", () => {
  test("setWebhook + push delivers with the secret header; getUpdates is 409 meanwhile", async () => {
    const { api, fake } = await setup();
    const received: { secret: string | null; update: Update }[] = [];
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const secret = req.headers.get("x-telegram-bot-api-secret-token");
        if (secret !== "s3cret") return new Response("bad secret", { status: 401 });
        received.push({ secret, update: (await req.json()) as Update });
        return new Response("ok");
      },
    });
    cleanup.push(() => receiver.stop(true));
    const url = `http://127.0.0.1:${receiver.port}/tg/webhook`;

    expect(await api.setWebhook(url, { secret_token: "s3cret", allowed_updates: ["message", "chat_member"] })).toBe(true);
    expect(fake.webhook(TOKEN)).toMatchObject({ url, secret_token: "s3cret" });
    const info = await api.getWebhookInfo();
    expect(info).toMatchObject({ url, has_custom_certificate: false, pending_update_count: 0, allowed_updates: ["message", "chat_member"] });

    const r = await fake.push(TOKEN, tg.chatMember(channel, bob, "member", "left"));
    expect(r).toMatchObject({ status: 200, body: "ok" });
    expect(received).toHaveLength(1);
    expect(received[0]?.secret).toBe("s3cret");
    expect(received[0]?.update.update_id).toBe(r.update_id);
    expect(received[0]?.update.chat_member?.new_chat_member.status).toBe("left");

    const wrong = await fake.push(TOKEN, tg.startMessage(bob, "x"), { secret: "nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.update_id).toBe(r.update_id + 1);
    expect((await fake.push(TOKEN, tg.startMessage(bob, "x"), { secret: null })).status).toBe(401);
    expect((await api.getWebhookInfo()).last_error_message).toContain("401");

    const err = await grammyError(api.getUpdates({ timeout: 0 }));
    expect(err.error_code).toBe(409);
    expect(err.description).toBe(
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    );

    expect(await api.deleteWebhook()).toBe(true);
    expect(fake.webhook(TOKEN)).toBeUndefined();
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
    await expect(fake.push(TOKEN, tg.startMessage(bob, "x"))).rejects.toThrow("no webhook");
  });
});

describe("sending", () => {
  test("sendMessage returns Messages with increasing ids; reply_markup and parse_mode are handled", async () => {
    const { api, fake } = await setup();
    fake.enqueue(TOKEN, tg.startMessage(alice, "c1-x")); // makes Alice known
    const m1 = await api.sendMessage(alice.id, "Hi <b>Alice</b> &amp; co", {
      parse_mode: "HTML",
      reply_markup: { inline_keyboard: [[{ text: "Join", url: "https://t.me/+abc" }]] },
    });
    const m2 = await api.sendMessage(alice.id, "again");
    expect(m2.message_id).toBeGreaterThan(m1.message_id);
    expect(m1.chat).toEqual({ id: alice.id, type: "private", first_name: "Alice", username: "alice" });
    expect(m1.from).toMatchObject({ id: 123456, is_bot: true });
    expect(m1.text).toBe("Hi Alice & co");
    expect(m1.entities).toEqual([{ type: "bold", offset: 3, length: 5 }]);
    expect(typeof m1.date).toBe("number");
    expect(fake.callsTo("sendMessage")[0]?.params.reply_markup).toEqual({ inline_keyboard: [[{ text: "Join", url: "https://t.me/+abc" }]] });

    const md = await grammyError(api.sendMessage(alice.id, "user_name is *here", { parse_mode: "Markdown" }));
    expect(md.error_code).toBe(400);
    expect(md.description).toBe("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 4");
    const v2 = await grammyError(api.sendMessage(alice.id, "price 1.5", { parse_mode: "MarkdownV2" }));
    expect(v2.description).toContain("Character '.' is reserved");
    const btn = await grammyError(api.sendMessage(alice.id, "x", { reply_markup: { inline_keyboard: [[{ text: "Go", url: "not a url" }]] } }));
    expect(btn.description).toBe("Bad Request: BUTTON_URL_INVALID");
    expect((await grammyError(api.sendMessage(alice.id, ""))).description).toBe("Bad Request: message text is empty");
  });

  test("failNext: 429 surfaces as GrammyError with retry_after (and Retry-After header), then calls succeed", async () => {
    const { api, fake } = await setup();
    fake.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 3", retry_after: 3 });
    const err = await grammyError(api.sendMessage(alice.id, "hi"));
    expect(err.error_code).toBe(429);
    expect(err.description).toBe("Too Many Requests: retry after 3");
    expect(err.parameters.retry_after).toBe(3);
    expect((await api.sendMessage(alice.id, "hi")).text).toBe("hi");

    fake.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 7", retry_after: 7 }, 2);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${fake.apiRoot}/bot${TOKEN}/sendMessage`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ chat_id: alice.id, text: "raw" }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("7");
      expect(await res.json()).toEqual({ ok: false, error_code: 429, description: "Too Many Requests: retry after 7", parameters: { retry_after: 7 } });
    }

    fake.failNext("sendMessage", { error_code: 403, description: "Forbidden: bot was blocked by the user" });
    const blocked = await grammyError(api.sendMessage(alice.id, "hi"));
    expect(blocked.error_code).toBe(403);
    expect(blocked.parameters).toEqual({});
    fake.block(TOKEN, bob.id);
    expect((await grammyError(api.sendMessage(bob.id, "hi"))).description).toBe("Forbidden: bot was blocked by the user");
    expect(fake.callsTo("sendMessage").map((c) => c.status)).toEqual([429, 200, 429, 429, 403, 403]);
  });

  test("sendPhoto uploads (Buffer and path) mint file_ids; a file_id is reusable by its bot only", async () => {
    const { api, fake } = await setup();
    const dir = mkdtempSync(join(tmpdir(), "fake-bot-api-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "welcome.png");
    writeFileSync(path, Buffer.alloc(2048, 7));

    const m1 = await api.sendPhoto(alice.id, new InputFile(Buffer.from("fake-jpeg-bytes")), {
      caption: "Welcome!",
      reply_markup: { inline_keyboard: [[{ text: "Join", url: "https://t.me/+abc" }]] },
    });
    const call1 = fake.callsTo("sendPhoto")[0]!;
    expect(call1.files.photo).toEqual({ name: "photo.jpg", size: 15 });
    expect(call1.params).toMatchObject({ chat_id: alice.id, caption: "Welcome!", reply_markup: { inline_keyboard: [[{ text: "Join", url: "https://t.me/+abc" }]] } });
    expect(m1.caption).toBe("Welcome!");
    expect(m1.photo.length).toBeGreaterThan(0);
    const largest = m1.photo.at(-1)!;
    expect(largest).toMatchObject({ file_size: 15 });
    expect(typeof largest.file_unique_id).toBe("string");

    const m2 = await api.sendPhoto(alice.id, new InputFile(path));
    expect(fake.callsTo("sendPhoto")[1]?.files.photo).toEqual({ name: "welcome.png", size: 2048 });
    expect(m2.photo.at(-1)?.file_id).not.toBe(largest.file_id);

    const m3 = await api.sendPhoto(bob.id, largest.file_id);
    expect(m3.photo).toEqual(m1.photo);
    expect(fake.callsTo("sendPhoto")[2]?.files).toEqual({});

    fake.addBot({ token: OTHER, username: "other_bot" });
    const other = new Bot(OTHER, { client: { apiRoot: fake.apiRoot } });
    const foreign = await grammyError(other.api.sendPhoto(bob.id, largest.file_id));
    expect(foreign.description).toBe("Bad Request: wrong file identifier/HTTP URL specified");
  });

  test("sendVideo uploads and reuses a video file_id", async () => {
    const { api, fake } = await setup();
    const v1 = await api.sendVideo(alice.id, new InputFile(new Uint8Array(4096), "promo.mp4"), { caption: "Watch", duration: 12 });
    expect(fake.callsTo("sendVideo")[0]?.files.video).toEqual({ name: "promo.mp4", size: 4096 });
    expect(v1.video).toMatchObject({ file_name: "promo.mp4", file_size: 4096, duration: 12, mime_type: "video/mp4" });
    const v2 = await api.sendVideo(bob.id, v1.video.file_id);
    expect(v2.video.file_id).toBe(v1.video.file_id);
    const wrongKind = await grammyError(api.sendPhoto(bob.id, v1.video.file_id));
    expect(wrongKind.error_code).toBe(400);
  });
});

describe("invite links and join requests", () => {
  test("createChatInviteLink; the link comes back in join_request fixtures; approve/decline with benign errors", async () => {
    const { api, fake } = await setup();
    const link = await api.createChatInviteLink(channel.id, { name: "c1", creates_join_request: true });
    expect(link.invite_link).toMatch(/^https:\/\/t\.me\/\+[A-Za-z0-9_-]{16}$/);
    expect(link).toMatchObject({ creator: { id: 123456, is_bot: true }, creates_join_request: true, is_primary: false, is_revoked: false, name: "c1" });

    const jr = tg.joinRequest(channel, alice, { invite_link: link.invite_link });
    expect(jr.chat_join_request.invite_link).toEqual(link);
    expect(jr.chat_join_request.user_chat_id).toBe(alice.id);
    fake.enqueue(TOKEN, jr);

    expect(await api.approveChatJoinRequest(channel.id, alice.id)).toBe(true);
    expect(fake.member(channel.id, alice.id)?.status).toBe("member");
    expect((await grammyError(api.approveChatJoinRequest(channel.id, alice.id))).description).toBe("Bad Request: USER_ALREADY_PARTICIPANT");
    expect((await grammyError(api.declineChatJoinRequest(channel.id, alice.id))).description).toBe("Bad Request: HIDE_REQUESTER_MISSING");

    fake.enqueue(TOKEN, tg.joinRequest(channel, bob));
    expect(await api.declineChatJoinRequest(channel.id, bob.id)).toBe(true);
    expect((await grammyError(api.declineChatJoinRequest(channel.id, bob.id))).description).toBe("Bad Request: HIDE_REQUESTER_MISSING");

    fake.failNext("approveChatJoinRequest", { error_code: 400, description: "Bad Request: HIDE_REQUESTER_MISSING" });
    const injected = await grammyError(api.approveChatJoinRequest(channel.id, 333));
    expect(injected.error_code).toBe(400);
    expect(await api.approveChatJoinRequest(channel.id, 333)).toBe(true);
  });
});

describe("fixtures and chat state", () => {
  test("chat_member and my_chat_member fixtures have real shapes; getChat/getChatMember follow them", async () => {
    const { api, fake } = await setup();
    const kicked = tg.chatMember(channel, alice, "member", "kicked", { from: bob });
    expect(kicked.chat_member.from).toEqual(bob);
    expect(kicked.chat_member.new_chat_member).toEqual({ status: "kicked", user: alice, until_date: 0 });
    const restricted = tg.chatMember(channel, alice, "member", "restricted", { is_member: false });
    expect(restricted.chat_member.new_chat_member).toMatchObject({ status: "restricted", is_member: false, until_date: 0 });
    const left = tg.chatMember(channel, alice, "member", "left");
    expect(left.chat_member.from).toEqual(alice);
    expect(left.chat_member.old_chat_member).toEqual({ status: "member", user: alice });

    const group = tg.supergroup(-1009876543210, "Group");
    expect(group).toEqual({ id: -1009876543210, type: "supergroup", title: "Group" });
    await expect(api.getChat(channel.id)).rejects.toThrow("chat not found");

    const me = await api.getMe();
    const added = tg.myChatMember(channel, me, "left", "administrator", { can_post_messages: true });
    expect(added.my_chat_member.new_chat_member).toMatchObject({
      status: "administrator",
      user: { id: me.id, is_bot: true },
      can_manage_chat: true,
      can_invite_users: true,
      can_restrict_members: true,
      can_post_messages: true,
    });
    fake.enqueue(TOKEN, added);
    expect(await api.getChat(channel.id)).toMatchObject({ id: channel.id, type: "channel", title: "Test channel" });
    expect(await api.getChatMember(channel.id, me.id)).toMatchObject({ status: "administrator", can_invite_users: true });
    expect((await api.getChatAdministrators(channel.id)).map((m) => m.user.id)).toEqual([me.id]);
    expect((await api.getChatMember(channel.id, 999)).status).toBe("left");
  });

  test("waitForCall resolves on arrival and rejects with the calls seen", async () => {
    const { api, fake } = await setup();
    const waiting = fake.waitForCall("sendMessage", (c) => c.params.chat_id === bob.id, 2000);
    await api.sendMessage(alice.id, "not this one");
    await api.sendMessage(bob.id, "this one");
    expect((await waiting).params.text).toBe("this one");
    const timeout = fake.waitForCall("sendPhoto", undefined, 50);
    await expect(timeout).rejects.toThrow(/waitForCall\(sendPhoto\) timed out after 50 ms; 2 call\(s\) seen:\n {2}sendMessage/);
    expect(await fake.waitForCalls("sendMessage", 2)).toHaveLength(2);
  });
});

describe("Telegram's rate limits (limits: true)", () => {
  async function limited() {
    const fake = await FakeBotApi.start({ limits: true });
    cleanup.push(() => fake.close());
    fake.addBot({ token: TOKEN, id: 123456, username: "tgcpa_test_bot" });
    return { fake, api: new Bot(TOKEN, { client: { apiRoot: fake.apiRoot } }).api };
  }

  test("the 31st send within a second is a 429 with retry_after, and starts a flood wait for the whole bot", async () => {
    const { fake, api } = await limited();
    await Promise.all(Array.from({ length: 30 }, (_, i) => api.sendMessage(1000 + i, "hi")));
    const err = await grammyError(api.sendMessage(2000, "one too many"));
    expect(err.error_code).toBe(429);
    expect(err.description).toBe("Too Many Requests: retry after 3");
    expect(err.parameters.retry_after).toBe(3);
    // during the wait everything the bot sends is refused, to any chat, with the seconds left
    const during = await grammyError(api.approveChatJoinRequest(channel.id, 3000));
    expect(during.error_code).toBe(429);
    expect(during.parameters.retry_after).toBeLessThanOrEqual(3);
    // reading and polling are not counted
    expect((await api.getMe()).id).toBe(123456);
    expect(fake.limits!.refusedTotal).toBe(2);
  });

  test("a second message to one private chat within a second is refused; other chats are not", async () => {
    const { api } = await limited();
    await api.sendMessage(alice.id, "one");
    expect((await grammyError(api.sendMessage(alice.id, "two"))).error_code).toBe(429);
  });

  test("a group takes 20 messages a minute", async () => {
    const { api } = await limited();
    for (let i = 0; i < 20; i++) await api.sendMessage(channel.id, `post ${i}`);
    expect((await grammyError(api.sendMessage(channel.id, "21st"))).error_code).toBe(429);
  });

  test("allow_paid_broadcast lifts the per-second limit to 1000", async () => {
    const { fake, api } = await limited();
    await Promise.all(Array.from({ length: 100 }, (_, i) => api.sendMessage(1000 + i, "paid", { allow_paid_broadcast: true })));
    expect(fake.limits!.refusedTotal).toBe(0);
  });
});
