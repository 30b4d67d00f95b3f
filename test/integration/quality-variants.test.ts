// Quality signals and welcome variants end to end: updates from the fake Bot API (its User
// objects as Telegram sends them), the welcome each subscriber is sent, and what the leads API
// and the tracker's {quality} then say.
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const TOKEN = "123456:ABC-test-token";
const CHAT = tg.channel(-1001234567890, "Tracked channel");
const cleanup = cleanupAfterEach();

async function setup() {
  // Mid-2023: ids of the 2021 range are neither old nor newest (domain/account-age.ts).
  const clock = new FakeClock(Date.UTC(2023, 5, 1, 12));
  const api = await FakeBotApi.start();
  cleanup.push(() => api.close());
  api.addBot({ token: TOKEN, username: "tgcpa_test_bot" });
  const tracker = await RecordingTracker.start();
  cleanup.push(() => tracker.close());
  const port = await freePort();
  const pb = `${tracker.base}/pb?status={status}&sub={subscriber}&q={quality}`;
  const svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    bots: { main: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: "hook-secret" } },
    postbacks: { wait: pb, approve: pb, cancel: pb },
    campaigns: [{
      code: "spring", bot: "main", chat: CHAT.id, unsub_window: "1h",
      welcome: [
        { name: "ru", languages: ["ru", "uk"], text: "Привет, {quality}" },
        { name: "en", languages: ["en"], text: "Hello" },
        { name: "a", text: "Variant A" },
        { name: "b", text: "Variant B", weight: 1 },
      ],
    }],
  }, { clock, port });
  cleanup.push(() => svc.stop());
  await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
  const send = async (update: object) => expect((await api.push(TOKEN, update)).status).toBe(200);
  const welcomeTo = async (id: number, n = 1) => {
    await eventually(() => api.callsTo("sendMessage").filter((c) => c.params.chat_id === id).length >= n, 5000, `welcome ${n} to ${id}`);
    clock.advance(1100); // a private chat takes one message a second (pacing)
    return api.callsTo("sendMessage").filter((c) => c.params.chat_id === id).at(-1)!.params.text as string;
  };
  const detail = async (sub: number) => {
    const id = (await svc.api("GET", `/api/leads?subscriber=${sub}`)).body.items[0].id;
    return (await svc.api("GET", `/api/leads/${id}`)).body;
  };
  return { api, tracker, svc, clock, send, welcomeTo, detail };
}

describe("welcome variants", () => {
  test("chosen by language, then by weight; the same variant on a repeated Start; recorded on the lead", async () => {
    const { send, welcomeTo, detail, svc } = await setup();
    const olga = tg.user(4_318_000_001, { username: "olga", language_code: "ru", is_premium: true });
    await send(tg.startMessage(olga, "spring-c1"));
    // 50 + premium 20 + username 10 + language 5 = 85, in the welcome's {quality} too.
    expect(await welcomeTo(olga.id)).toBe("Привет, 85");
    const ukr = tg.user(4_318_000_002, { language_code: "uk" });
    await send(tg.startMessage(ukr, "spring-c2"));
    expect(await welcomeTo(ukr.id)).toBe("Привет, 50");
    const ann = tg.user(4_318_000_003, { language_code: "en-GB" });
    await send(tg.startMessage(ann, "spring-c3"));
    expect(await welcomeTo(ann.id)).toBe("Hello");

    // Germans get A or B by weight; each the same one again on a second Start.
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const hans = tg.user(4_318_000_100 + i, { language_code: "de" });
      await send(tg.startMessage(hans, `spring-d${i}`));
      const first = await welcomeTo(hans.id);
      expect(["Variant A", "Variant B"]).toContain(first);
      seen.add(first);
      await send(tg.startMessage(hans, `spring-d${i}`));
      expect(await welcomeTo(hans.id, 2)).toBe(first);
      expect((await detail(hans.id)).lead.welcome_variant).toBe(first === "Variant A" ? "a" : "b");
    }
    expect(seen.size).toBe(2);
    expect((await detail(olga.id)).lead).toMatchObject({ welcome_variant: "ru", quality: 85 });
    expect((await svc.api("GET", `/api/leads?subscriber=${ukr.id}`)).body.items[0]).toMatchObject({ welcome_variant: "ru", quality: 50 });
  });
});

describe("quality signals", () => {
  test("recorded at the Start and the join; an instant join and a fast leave lower the score; reasons in the API; {quality} in postbacks", async () => {
    const { send, welcomeTo, detail, clock, tracker } = await setup();
    const ivan = tg.user(4_318_000_010, { username: "ivan", language_code: "ru" });
    await send(tg.startMessage(ivan, "spring-k1"));
    await welcomeTo(ivan.id);
    const atStart = await detail(ivan.id);
    expect(atStart.profile).toMatchObject({
      quality: 65, band: "medium", premium: false, language: "ru", has_username: true, start_to_join_ms: null, fast_leave: false,
      reasons: [{ code: "username", points: 10 }, { code: "language", points: 5 }],
      account_age: { estimate: "about", date: "2021-05-01", error_days: 183 },
    });
    // Joined 1.1 s after the Start (the welcome's pacing step): faster than a person reads it.
    await send(tg.chatMember(CHAT, ivan, "left", "member"));
    await eventually(async () => (await detail(ivan.id)).lead.status === "approve", 5000, "joined");
    const joined = await detail(ivan.id);
    expect(joined.profile).toMatchObject({ quality: 50, cohort_band: "medium", start_to_join_ms: 1100 });
    expect(joined.profile.reasons.map((r: { code: string }) => r.code)).toEqual(["username", "language", "instant_join"]);
    clock.advance(5 * 60_000);
    await send(tg.chatMember(CHAT, ivan, "member", "left"));
    await eventually(async () => (await detail(ivan.id)).lead.status === "cancel", 5000, "left");
    const left = await detail(ivan.id);
    expect(left.profile).toMatchObject({ quality: 10, fast_leave: true, cohort_band: "medium" });
    await tracker.waitUntil(() => tracker.received.filter((r) => r.query.sub === String(ivan.id)).length === 3, 5000, "three postbacks");
    expect(tracker.received.filter((r) => r.query.sub === String(ivan.id)).map((r) => [r.query.status, r.query.q])).toEqual([
      ["wait", "65"], ["approve", "50"], ["cancel", "10"],
    ]);
  });

  test("a lead fed through POST /api/events has no Telegram profile: null signals, the id's age alone", async () => {
    const { svc } = await setup();
    const res = await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 200_000_000, status: "wait", click: "x" });
    expect(res.status).toBe(200);
    expect(res.body.lead.quality).toBe(65); // 50 + an account from about 2016-01 (old_account 15)
    const d = (await svc.api("GET", `/api/leads/${res.body.lead.id}`)).body;
    expect(d.profile).toMatchObject({ premium: null, language: null, has_username: null, reasons: [{ code: "old_account", points: 15 }] });
  });

  test("events sent later with their own time: Start → join is measured between those times, not the arrivals", async () => {
    const { svc, clock } = await setup();
    const at = (msAgo: number) => (clock.now() - msAgo) / 1000;
    await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 200_000_002, status: "wait", click: "y", time: at(600_000) });
    const joined = await svc.api("POST", "/api/events", { campaign: "spring", subscriber: 200_000_002, status: "approve", time: at(540_000) });
    const d = (await svc.api("GET", `/api/leads/${joined.body.lead.id}`)).body;
    expect(d.profile).toMatchObject({ start_to_join_ms: 60_000, quality: 65 }); // not an instant join
  });
});
