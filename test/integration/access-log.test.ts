// What an operator reads: one access line per request (never a secret), errors under pino's `err`,
// pid and hostname on every line, and the build and per-bot gauges on /metrics (open, or behind
// the API key as a Bearer token that Prometheus can send).
import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeBotApi } from "../helpers/fake-bot-api/index.ts";
import { freePort } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();
const INBOUND = "inbound-secret-value-77-0123456789abcdef0123456789abcdef";
const BOT_TOKEN = "123456:AAH-access-log-test-token";

async function start(overrides: Record<string, unknown> = {}) {
  const svc = await startTestService({ inbound_keys: [INBOUND], campaigns: [{ code: "c1" }], ...overrides });
  cleanup.push(() => svc.stop());
  return svc;
}

const records = (svc: TestService) => svc.logs.flatMap((chunk) => chunk.split("\n")).filter(Boolean).map((line) => JSON.parse(line));
const accessLines = (svc: TestService) => records(svc).filter((r) => r.component === "access");

describe("the access log", () => {
  test("one info line per request: method, route pattern, status, duration, client; secret query values redacted", async () => {
    const svc = await start();
    const calls: [string, string, Record<string, string>?][] = [
      ["GET", `/api/leads/1?key=${API_KEY}`],
      ["GET", `/api/postback?key=${INBOUND}&click=nope&status=approve`],
      ["GET", `/api/leads?limit=2&token=tg-secret&access_token=meta-secret&api_secret=ga-secret&oauth_token=ya-secret&Key=${API_KEY}`, { authorization: `Bearer ${API_KEY}` }],
      ["GET", "/api/leads"], // no key: 401 from the edge
      ["GET", "/api/leads?limit=x", { authorization: `Bearer ${API_KEY}` }], // 422
      ["GET", "/no/such/route"],
    ];
    for (const [method, url, headers] of calls) await fetch(`${svc.url}${url}`, { method, headers });
    await eventually(() => accessLines(svc).length >= calls.length, 3000, "an access line per request");
    const lines = accessLines(svc);
    expect(lines.map((l) => [l.method, l.route, l.status])).toEqual([
      ["GET", "/api/leads/:id", 404],
      ["GET", "/api/postback", 404],
      ["GET", "/api/leads", 422], // the secret-looking names are unknown parameters there
      ["GET", null, 401],
      ["GET", "/api/leads", 422],
      ["GET", null, 404],
    ]);
    for (const l of lines) {
      expect(l.level).toBe("info");
      expect(l.msg).toBe("request");
      expect(l.client).toBe("127.0.0.1");
      expect(typeof l.duration_ms).toBe("number");
      expect(l.duration_ms).toBeGreaterThanOrEqual(0);
    }
    expect(lines[0].url).toBe("/api/leads/1?key=[redacted]");
    expect(lines[1].url).toBe("/api/postback?key=[redacted]&click=nope&status=approve");
    expect(lines[2].url).toBe("/api/leads?limit=2&token=[redacted]&access_token=[redacted]&api_secret=[redacted]&oauth_token=[redacted]&Key=[redacted]");
    const all = svc.logs.join("");
    for (const secret of [API_KEY, INBOUND, "tg-secret", "meta-secret", "ga-secret", "ya-secret"]) expect(all).not.toContain(secret);
  });

  test("behind a trusted proxy the client is the forwarded address; log.access: false writes none", async () => {
    const svc = await start({ server: { host: "127.0.0.1", port: 0, trusted_proxies: ["127.0.0.1"] } });
    await fetch(`${svc.url}/health`, { headers: { "x-forwarded-for": "203.0.113.9" } });
    await eventually(() => accessLines(svc).length === 1, 3000, "the access line");
    expect(accessLines(svc)[0]).toMatchObject({ route: "/health", status: 200, client: "203.0.113.9" });

    const quiet = await start({ log: { access: false } });
    await fetch(`${quiet.url}/health`);
    await fetch(`${quiet.url}/api/leads`);
    expect((await fetch(`${quiet.url}/health`)).status).toBe(200);
    expect(accessLines(quiet)).toEqual([]);
  });
});

describe("log lines", () => {
  test("every line carries pid and hostname; a bot's failure is logged as err (type, message), not a string field, without its token", async () => {
    const port = await freePort(); // nothing listens: getMe is refused
    const svc = await start({ bots: { main: { token: BOT_TOKEN, mode: "polling", api_root: `http://127.0.0.1:${port}` } } });
    await eventually(() => records(svc).some((r) => r.msg === "telegram bot error; trying again"), 5000, "the bot's error line");
    for (const r of records(svc)) expect([r.pid, r.hostname]).toEqual([process.pid, hostname()]);
    const line = records(svc).find((r) => r.msg === "telegram bot error; trying again");
    expect(line.error).toBeUndefined();
    expect(line.err.type).toBe("BotError");
    expect(line.err.message).toStartWith("getMe failed: network");
    expect(svc.logs.join("")).not.toContain(BOT_TOKEN);
    // GET /api/bots says when it is tried next (the first retry: 1 s after the failure).
    let bot: any;
    await eventually(async () => (bot = (await svc.api("GET", "/api/bots")).body.items[0]).next_retry_at !== null, 3000, "next_retry_at");
    expect(bot.status).toBe("error");
    const ahead = Date.parse(bot.next_retry_at) - Date.parse(bot.last_error_at);
    expect(ahead).toBeGreaterThanOrEqual(1000);
    expect(ahead).toBeLessThanOrEqual(60_000);
  });
});

describe("/metrics", () => {
  test("tgcpa_build_info names the build; tgcpa_bot_up is 0 while a bot is down and 1 once it runs", async () => {
    const api = await cleanup.closing(FakeBotApi.start());
    api.addBot({ token: BOT_TOKEN, username: "tgcpa_metrics_bot" });
    const port = await freePort();
    const svc = await start({
      bots: {
        up: { token: BOT_TOKEN, mode: "polling", api_root: api.apiRoot },
        down: { token: "999:AAH-other-token", mode: "polling", api_root: `http://127.0.0.1:${port}` },
      },
    });
    await eventually(async () => (await (await fetch(`${svc.url}/metrics`)).text()).includes('tgcpa_bot_up{bot="up"} 1'), 5000, "the bot up");
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toContain('tgcpa_bot_up{bot="down"} 0');
    expect(text).toContain("# TYPE tgcpa_build_info gauge");
    const info = text.split("\n").find((l) => l.startsWith("tgcpa_build_info{"))!;
    expect(info).toMatch(/^tgcpa_build_info\{version="0\.1\.0",commit="[^"]+",bun="\d+\.\d+\.\d+"\} 1$/);
    expect(info).toContain(`bun="${Bun.version}"`);
  });

  test("server.metrics_public: false → 401 without a key, 200 with the API key as Bearer (as Prometheus sends it)", async () => {
    const open = await start();
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    const closed = await start({ server: { host: "127.0.0.1", port: 0, metrics_public: false } });
    const refused = await fetch(`${closed.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error.code).toBe("unauthorized");
    expect((await fetch(`${closed.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("tgcpa_build_info{");
    expect((await fetch(`${closed.url}/health`)).status).toBe(200); // health stays open for load balancers
  });
});
