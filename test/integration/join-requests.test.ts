// Join requests answered by the campaign's rules through the bot's paced channel, against the fake
// Bot API (which answers as Telegram does): approved after a delay, declined below a quality,
// held for a person and then approved or declined through the API; auto_approve as before.
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const TOKEN = "123456:ABC-join-requests";
const DELAYED = tg.supergroup(-1001000000001, "Delayed");
const FLOOR = tg.supergroup(-1001000000002, "Floor");
const MANUAL = tg.supergroup(-1001000000003, "Manual");
const AUTO = tg.supergroup(-1001000000004, "Auto");
const cleanup = cleanupAfterEach();

async function setup() {
  const clock = new FakeClock(Date.UTC(2025, 5, 1, 12));
  const api = await FakeBotApi.start();
  cleanup.push(() => api.close());
  api.addBot({ token: TOKEN, username: "jr_test_bot" });
  const port = await freePort();
  const svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    bots: { main: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: "hook-secret" } },
    campaigns: [
      { code: "delayed", bot: "main", chat: DELAYED.id, join_requests: { approve_after: "10m" } },
      { code: "floor", bot: "main", chat: FLOOR.id, join_requests: { decline_below: 60, approve_after: 0 } },
      { code: "manual", bot: "main", chat: MANUAL.id, join_requests: { manual: true } },
      { code: "auto", bot: "main", chat: AUTO.id, auto_approve: true },
    ],
  }, { clock, port });
  cleanup.push(() => svc.stop());
  await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
  const send = async (update: object) => expect((await api.push(TOKEN, update)).status).toBe(200);
  const calls = (method: string, user: number) => api.callsTo(method).filter((c) => c.params.user_id === user);
  const request = async (chat: typeof DELAYED, code: string, user: ReturnType<typeof tg.user>) => {
    await send(tg.startMessage(user, `${code}-c${user.id}`));
    await send(tg.joinRequest(chat, user));
  };
  /** A call to come: the bot's sends are paced (25/s, 1/s per chat) on the fake clock, so it moves on while waiting. */
  const called = async (method: string, match: (c: { params: Record<string, unknown>; status?: number }) => boolean) => {
    await eventually(() => {
      clock.advance(1100);
      return api.callsTo(method).some((c) => match(c as never));
    }, 5000, `${method} called`);
    return api.callsTo(method).filter((c) => match(c as never)).at(-1)!;
  };
  return { api, svc, clock, send, calls, request, called };
}

describe("join_requests", () => {
  test("approve_after: the approval leaves only after the delay", async () => {
    const { clock, calls, request, api } = await setup();
    const ann = tg.user(4_318_000_001, { username: "ann", language_code: "en" });
    await request(DELAYED, "delayed", ann);
    clock.advance(9 * 60_000);
    await Bun.sleep(200);
    expect(calls("approveChatJoinRequest", ann.id)).toEqual([]);
    clock.advance(60_000 + 1000);
    const call = await api.waitForCall("approveChatJoinRequest", (c) => c.params.user_id === ann.id);
    expect(call.params).toMatchObject({ chat_id: DELAYED.id, user_id: ann.id });
    expect(call.status).toBe(200);
  });

  test("decline_below: a low score is declined, a good one approved", async () => {
    const { calls, request, called } = await setup();
    // 50 + newest id range −15 + no username −5 + no language −5 = 25: below 60.
    const bot = tg.user(7_900_000_001);
    await request(FLOOR, "floor", bot);
    await called("declineChatJoinRequest", (c) => c.params.user_id === bot.id);
    // 50 + old id +15 + username +10 + language +5 = 80.
    const eve = tg.user(200_000_001, { username: "eve", language_code: "de" });
    await request(FLOOR, "floor", eve);
    await called("approveChatJoinRequest", (c) => c.params.user_id === eve.id);
    expect(calls("approveChatJoinRequest", bot.id)).toEqual([]);
    expect(calls("declineChatJoinRequest", eve.id)).toEqual([]);
  });

  test("manual: held; a person approves one and declines another through the API; a second answer is benign", async () => {
    const { svc, calls, request, called } = await setup();
    const [kim, lee] = [tg.user(4_318_000_011, { username: "kim" }), tg.user(4_318_000_012, { username: "lee" })];
    await request(MANUAL, "manual", kim);
    await request(MANUAL, "manual", lee);
    await Bun.sleep(200);
    expect([...calls("approveChatJoinRequest", kim.id), ...calls("declineChatJoinRequest", kim.id)]).toEqual([]);
    const leadOf = async (id: number) => (await svc.api("GET", `/api/leads?subscriber=${id}&campaign=manual`)).body.items[0];
    expect((await leadOf(kim.id)).status).toBe("hold");

    const approved = await svc.api("POST", `/api/leads/${(await leadOf(kim.id)).id}/join-request`, { decision: "approve" });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ decision: "approve", method: "approveChatJoinRequest", postback: { state: "pending" } });
    await called("approveChatJoinRequest", (c) => c.params.user_id === kim.id && c.status === 200);
    const declined = await svc.api("POST", `/api/leads/${(await leadOf(lee.id)).id}/join-request`, { decision: "decline" });
    expect(declined.body.method).toBe("declineChatJoinRequest");
    await called("declineChatJoinRequest", (c) => c.params.user_id === lee.id && c.status === 200);
    // A second decline: Telegram answers HIDE_REQUESTER_MISSING, which counts as done.
    const again = await svc.api("POST", `/api/leads/${(await leadOf(lee.id)).id}/join-request`, { decision: "decline" });
    await called("declineChatJoinRequest", (c) => c.params.user_id === lee.id && c.status === 400);
    await eventually(async () => (await svc.api("GET", `/api/postbacks/${again.body.postback.id}`)).body.postback.state === "delivered", 5000, "benign answer delivered");
    expect(calls("declineChatJoinRequest", lee.id).at(-1)!.response).toMatchObject({ description: "Bad Request: HIDE_REQUESTER_MISSING" });
  }, 20_000);

  test("the API refuses a lead without a waiting request, naming why", async () => {
    const { svc, send } = await setup();
    const max = tg.user(4_318_000_021);
    await send(tg.startMessage(max, "manual-x"));
    const lead = (await svc.api("GET", `/api/leads?subscriber=${max.id}`)).body.items[0];
    const r = await svc.api("POST", `/api/leads/${lead.id}/join-request`, { decision: "approve" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("no_pending_join_request");
    expect((await svc.api("POST", `/api/leads/${lead.id}/join-request`, { decision: "maybe" })).status).toBe(422);
  });

  test("auto_approve keeps working: approved at once", async () => {
    const { request, called } = await setup();
    const sam = tg.user(4_318_000_031);
    await request(AUTO, "auto", sam);
    await called("approveChatJoinRequest", (c) => c.params.user_id === sam.id && c.status === 200);
  });
});
