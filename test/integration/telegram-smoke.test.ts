import { afterAll, expect, test } from "bun:test";
import TelegramServer from "telegram-test-api";
import { freePort } from "../helpers/net.ts";
import { startTestService } from "../helpers/service/in-process.ts";

// Smoke test against the independent emulator from npm (telegram-test-api): a user sends the deep-link
// command and the bot's welcome reply is read back from the emulator. The emulator has no chats or
// members, so everything past /start is covered by the fake Bot API in telegram.test.ts.
const TOKEN = "4242:smoke-test-token";
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

test("telegram-test-api: /start CODE-click creates the lead and the welcome reply reaches the user", async () => {
  const server = new TelegramServer({ port: await freePort(), host: "127.0.0.1", storeTimeout: 60 });
  await server.start();
  cleanup.push(async () => { await server.stop(); });
  const svc = await startTestService({
    bots: { main: { token: TOKEN, mode: "polling", api_root: server.config.apiURL } },
    campaigns: [{ code: "smoke", bot: "main", welcome: { text: "Welcome to smoke, {click}!" } }],
  });
  cleanup.push(() => svc.stop());
  const client = server.getClient(TOKEN, { userId: 31337, chatId: 31337, userName: "smoker", timeout: 10_000 });
  await client.sendCommand(client.makeCommand("/start smoke-clk42"));
  const { result } = await client.getUpdates();
  expect(result.map((u: { message: { text: string } }) => u.message.text)).toEqual(["Welcome to smoke, clk42!"]);
  const leads = (await svc.api("GET", "/api/leads?campaign=smoke")).body.items;
  expect(leads).toEqual([expect.objectContaining({ subscriber: 31337, click: "clk42", username: "smoker", status: "wait" })]);
}, 30_000);
