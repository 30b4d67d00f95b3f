// One owner per bot across instances on one database: of three instances only the owner polls —
// one getUpdates at a time, as Telegram allows (the fake Bot API answers 409 to the older of two
// pollers, as Telegram does) — and the others show it in standby with the same owner; the owner
// killed, another takes the bot within the lease (5 s) and applies the next update within lease + 2 s.
// Then 600 Starts posted to the webhooks of two instances alternately: only the owner sends, paced,
// against the fake enforcing Telegram's 30/s: no 429, every welcome once.
import { expect, test } from "bun:test";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { describePostgres, useTestDatabase } from "../helpers/postgres.ts";
import { instanceId, spawnInstances } from "../helpers/service/instances.ts";
import { processTestDir, withServices, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { BOT_LEASE_MS } from "../../src/cluster/rules.ts";

let api: FakeBotApi | undefined;
const dir = processTestDir("bot-owner", () => api?.close());
const TOKEN = "424242:AAbotOwnerTokenForTests";
const CHAT = tg.channel(-1001234567890, "Tracked channel");

const bots = async (s: ServiceProcess) => (await s.api("GET", "/api/bots")).body.items as {
  name: string; status: string; username: string | null; owner: { instance: string; epoch: number; self: boolean } | null;
}[];

describePostgres("one owner per bot", () => {
  const db = useTestDatabase();

  test("3 instances, one polling bot: one getUpdates at a time; the owner killed, the next update is applied within the lease + 2 s", async () => {
    api = await FakeBotApi.start();
    api.addBot({ token: TOKEN, username: "tgcpa_owner_bot" });
    const fake = api;
    await withServices("bot owner", async () => {
      const all = await spawnInstances(3, {
        dir: `${dir}/polling`, db: db(),
        config: {
          log: { level: "info" },
          bots: { main: { token: TOKEN, mode: "polling", api_root: fake.apiRoot } },
          campaigns: [{ code: "spring", bot: "main", chat: CHAT.id, welcome: { text: "hi" } }],
        },
      });
      const ids = await Promise.all(all.map(instanceId));
      // Every instance names the same owner; the owner runs the bot, the others wait in standby.
      await eventually(async () => (await Promise.all(all.map(bots))).every((b) => b[0]!.owner !== null && b[0]!.owner.instance === ids.find((id) => id === b[0]!.owner!.instance)), 10_000, "an owner");
      const views = await Promise.all(all.map(async (s) => (await bots(s))[0]!));
      const owner = views[0]!.owner!.instance;
      expect(views.every((v) => v.owner!.instance === owner)).toBe(true);
      const ownerIndex = ids.indexOf(owner);
      expect(views.map((v) => v.status)).toEqual(ids.map((id) => (id === owner ? "running" : "standby")));
      expect(views.map((v) => v.owner!.self)).toEqual(ids.map((id) => id === owner));

      // Steady state: Starts applied, one poller only (no getUpdates ended by a newer one).
      for (let i = 0; i < 5; i++) fake.enqueue(TOKEN, tg.startMessage(tg.user(500 + i), `spring-a${i}`));
      await eventually(async () => (await all[0]!.api("GET", "/api/leads?limit=50")).body.items.length === 5, 10_000, "5 leads");
      await Bun.sleep(3000); // a few heartbeats and lease renewals
      const conflicts = () => fake.callsTo("getUpdates").filter((c) => c.status === 409).length;
      expect(conflicts()).toBe(0);
      expect(fake.callsTo("getMe").length).toBe(1); // only the owner brought the bot up
      const epoch = views[0]!.owner!.epoch;

      // The owner dies; the next update waits for another instance to take the bot.
      const killedAt = Date.now();
      await all[ownerIndex]!.kill();
      const update = fake.enqueue(TOKEN, tg.startMessage(tg.user(600), "spring-after"));
      const rest = all.filter((_, i) => i !== ownerIndex);
      await eventually(async () => (await rest[0]!.api("GET", "/api/leads?subscriber=600")).body.items.length === 1, BOT_LEASE_MS + 5000, "the update after the kill");
      const tookMs = Date.now() - killedAt;
      expect(tookMs).toBeLessThanOrEqual(BOT_LEASE_MS + 2000);
      // Each instance reads the leases at its heartbeat: within one they agree on the new owner.
      await eventually(async () => new Set((await Promise.all(rest.map(bots))).map((b) => b[0]!.owner?.instance)).size === 1, 3000, "one owner named by both");
      const after = await Promise.all(rest.map(async (s) => (await bots(s))[0]!));
      expect(after[0]!.owner!.instance).not.toBe(owner);
      expect(after[0]!.owner!.epoch).toBe(epoch + 1);
      expect(after.map((v) => v.status).sort()).toEqual(["running", "standby"]);
      // At most the dead owner's pending long poll was ended by the new owner's: never two live pollers.
      expect(conflicts()).toBeLessThanOrEqual(1);
      await eventually(() => fake.callsTo("getUpdates").some((c) => Number(c.params.offset) === update + 1), 5000, "the new owner polling past it");
      console.log(`bot-owner: owner killed → update ${update} applied by the next owner after ${tookMs} ms (lease ${BOT_LEASE_MS} ms)`);
    });
  }, 120_000);

  test("600 Starts posted to two instances' webhooks alternately: only the owner sends, paced; no 429 from a Bot API enforcing 30/s", async () => {
    api = await FakeBotApi.start({ limits: true });
    api.addBot({ token: TOKEN, username: "tgcpa_owner_bot" });
    const fake = api;
    const N = 600;
    await withServices("paced welcomes from two instances", async () => {
      const [a, b] = await spawnInstances(2, {
        dir: `${dir}/webhook`, db: db(),
        config: {
          log: { level: "warn" },
          bots: { main: { token: TOKEN, mode: "webhook", api_root: fake.apiRoot, secret: "hook-secret" } }, // the default pace, 25/s
          campaigns: [{ code: "burst", bot: "main", chat: CHAT.id, welcome: { text: "Welcome!" } }],
        },
        // Each instance's own address: the owner registers its own (the test posts to both itself).
        each: () => ({ server: { public_url: "https://tg.example.com" } }),
      });
      await eventually(async () => (await bots(a!))[0]!.status === "running" || (await bots(b!))[0]!.status === "running", 10_000, "the webhook set");
      const post = (s: ServiceProcess, i: number) => fetch(`${s.url}/telegram/main`, {
        method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "hook-secret" },
        body: JSON.stringify({ update_id: 70_000 + i, ...tg.startMessage(tg.user(30_000 + i), `burst-c${i}`) }),
      }).then((r) => r.status);
      const statuses: number[] = [];
      for (let i = 0; i < N; i += 50) statuses.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => post((i + k) % 2 ? a! : b!, i + k)))));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const welcomes = () => fake.callsTo("sendMessage").filter((c) => c.status === 200);
      await eventually(() => welcomes().length === N, 60_000, `${N} welcomes`); // 24 s at 25/s
      await Bun.sleep(500);
      expect(fake.limits!.refusedTotal).toBe(0);
      expect(welcomes().length).toBe(N);
      expect(new Set(welcomes().map((c) => c.params.chat_id)).size).toBe(N); // each subscriber's welcome once
    });
  }, 120_000);
});
