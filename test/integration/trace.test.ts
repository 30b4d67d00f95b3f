// GET /api/trace: one click or subscriber followed through Telegram (the fake Bot API, webhook
// mode) to the tracker, and each "why not" found and said in words.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { outboxSettled } from "../helpers/service/api-client.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const TOKEN = "123456:ABC-trace-token";
const CHAT = tg.channel(-1001234567890, "Tracked channel");
const FROZEN = tg.channel(-1009999, "Paused channel");
const HOUR = 3_600_000;

let api: FakeBotApi;
let tracker: RecordingTracker;
let svc: TestService;
const clock = new FakeClock(Date.UTC(2026, 3, 1, 10, 0, 0));

const send = async (update: object) => expect((await api.push(TOKEN, update)).status).toBe(200);
const trace = async (q: string) => {
  const res = await svc.api("GET", `/api/trace?${q}`);
  expect(res.status).toBe(200);
  return res.body;
};
const texts = (body: any) => body.explanation.map((f: any) => f.text) as string[];

beforeAll(async () => {
  api = await FakeBotApi.start();
  api.addBot({ token: TOKEN, username: "trace_bot" });
  // The tracker knows no click "unknown-click" (a Keitaro-compatible tracker's 404).
  tracker = await RecordingTracker.start((r) => (r.query.c === "unknown-click" ? { status: 404, body: "Click ID not found in database." } : { status: 200, body: "Success" }));
  const port = await freePort();
  const pb = `${tracker.base}/pb?c={click}&s={status}`;
  svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    bots: { main: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: "hook-secret" } },
    postbacks: { wait: pb, approve: pb, cancel: pb }, // no hold template
    campaigns: [
      { code: "spring", bot: "main", chat: CHAT.id, unsub_window: "1h" },
      { code: "frozen", bot: "main", chat: FROZEN.id, paused: true },
    ],
  }, { clock, port });
  await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await api?.close();
  await tracker?.close();
});

describe("GET /api/trace", () => {
  test("a click that converted: its Start, the campaign, the join with its invite link, each postback with its attempts; a leave outside the window said in words", async () => {
    const ann = tg.user(601, { username: "ann" });
    await send(tg.startMessage(ann, "spring-clk_ann"));
    await send(tg.chatMember(CHAT, ann, "left", "member", { invite_link: "https://t.me/+SpringInvite" }));
    await outboxSettled(svc);
    clock.advance(2 * HOUR);
    await send(tg.chatMember(CHAT, ann, "member", "left"));
    const t = await trace("click=clk_ann");
    expect(t.sent).toBe(true);
    expect(t.starts).toEqual([expect.objectContaining({ outcome: "lead", payload: "spring-clk_ann", payload_length: 14, campaign: "spring", bot: "main", subscriber: 601 })]);
    expect(t.leads).toHaveLength(1);
    const [l] = t.leads;
    expect(l.campaign).toEqual({ code: "spring", paused: false, in_config: true });
    expect(l.click_record).toBeNull(); // a tracker's click id, not the click link's
    expect(l.events.map((e: any) => [e.status, e.invite_link, e.reason])).toEqual([
      ["wait", null, null], ["approve", "https://t.me/+SpringInvite", null], ["cancel", null, "outside_unsub_window"],
    ]);
    expect(l.postbacks.map((p: any) => [p.postback.status, p.postback.state, p.attempts.map((a: any) => a.attempt)])).toEqual([["wait", "delivered", [1]], ["approve", "delivered", [1]]]);
    expect(texts(t)).toEqual([
      `the leave at 2026-04-01T12:00:00.000Z came outside the campaign's unsubscribe window (1 h), 2 h after the latest join: the status changed, no postback was sent.`,
    ]);
  });

  test("a payload over 64 characters: Telegram sends a bare /start — the subscriber's trace says so, and the click's says it never arrived and why", async () => {
    const bob = tg.user(602);
    const click = "x".repeat(60); // spring- + 60 = 67 characters: Telegram drops it
    await send(tg.startMessage(bob)); // what the bot receives for such a link
    const bySubscriber = await trace("subscriber=602");
    expect(bySubscriber.starts).toEqual([expect.objectContaining({ outcome: "rejected", reason: "no_payload", payload: null, payload_length: 0 })]);
    expect(texts(bySubscriber)[0]).toContain("came as a bare /start, without a payload: the link had none, or its payload was longer than 64 characters");
    const byClick = await trace(`click=${click}`);
    expect(byClick.leads).toEqual([]);
    expect(texts(byClick)).toEqual([expect.stringContaining("its payload (code, \"-\", click) would be over 64 characters (67 with spring): Telegram drops such a payload and the bot receives a bare /start")]);
  });

  test("an unknown campaign code and a paused campaign: the raw payload and its length, the campaign it named and why no lead", async () => {
    const cat = tg.user(603);
    await send(tg.startMessage(cat, "sprng-clk_cat"));
    await send(tg.startMessage(cat, "frozen-clk_cat"));
    const t = await trace("click=clk_cat");
    expect(t.leads).toEqual([]);
    expect(t.starts.map((s: any) => [s.reason, s.payload, s.payload_length, s.campaign])).toEqual([
      ["unknown_campaign", "sprng-clk_cat", 13, "sprng"], ["campaign_paused", "frozen-clk_cat", 14, "frozen"],
    ]);
    expect(texts(t)).toEqual([
      expect.stringContaining(`names campaign code "sprng", which no configured campaign has. No lead.`),
      expect.stringContaining("matched campaign frozen, which was paused: a paused campaign creates no new leads."),
    ]);
  });

  test("no click, no template for a status, a tracker's refusal and an organic join", async () => {
    const dan = tg.user(604);
    await send(tg.startMessage(dan, "spring")); // no click
    await send(tg.joinRequest(CHAT, dan)); // hold: no template
    const eve = tg.user(605);
    await send(tg.startMessage(eve, "spring-unknown-click"));
    const fay = tg.user(606);
    await send(tg.chatMember(CHAT, fay, "left", "member")); // joined without a Start
    await outboxSettled(svc);

    const noClick = texts(await trace("subscriber=604"));
    expect(noClick).toEqual([
      "lead " + (await svc.api("GET", "/api/leads?subscriber=604")).body.items[0].id + " (campaign spring) has no click id: its Start carried none, so a tracker cannot attribute it.",
      expect.stringMatching(/^postback \d+ was not sent: the lead has no click id, and a URL with \{click\} is never sent without one \(no_click\)\.$/),
      "no postback template for hold in campaign spring (neither its own nor a global one) when the event happened: nothing to send.",
    ]);
    const refused = await trace("click=unknown-click");
    expect(refused.sent).toBe(false);
    expect(texts(refused)).toEqual([expect.stringMatching(/^postback \d+ was refused and is not retried: http_404: Click ID not found in database\.$/)]);
    const organic = await trace("subscriber=606");
    expect(organic.leads).toEqual([]);
    expect(organic.journal.map((j: any) => j.kind)).toEqual(["organic_join"]);
    expect(texts(organic)).toEqual([expect.stringContaining("without a Start in the bot (an organic join): no lead, no postback")]);
  });

  test("either click or subscriber, one of them", async () => {
    for (const q of ["", "click=a&subscriber=1"]) {
      const res = await svc.api("GET", `/api/trace?${q}`);
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain("give either click or subscriber");
    }
    expect((await svc.api("GET", "/api/trace?subscriber=abc")).body.error.details[0].field).toBe("query.subscriber");
  });
});
