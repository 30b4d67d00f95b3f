// Secrets never leak: drive traffic that makes every kind of error (bad bot token, unreachable Bot
// API, wrong webhook secret, wrong inbound key, wrong API keys, failing postbacks), then look for the
// bot tokens, the API key and the inbound key in the logs, in every API answer and in the database.
// (A tracker's own key inside a destination URL is part of the postback URL by design: not checked.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { webhookSecret } from "../../src/telegram/bots.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { DbWatch } from "../helpers/db-inspect.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { API_KEY, testConfig } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const GOOD_TOKEN = "555555:GoodBotSecretPart_abcXYZ987";
const BAD_TOKEN = "666666:UnknownToFakeApi_qwertyQWE";
const DEAD_TOKEN = "777777:DeadApiRootSecret_zxcvbnm";
const INBOUND = "inbound-secret-key-7f3a9c1e-0123456789abcdef0123456789abcdef";
const TRACKER_KEY = "trkkey123"; // the Keitaro campaign key: part of every Keitaro postback URL, by design
const CHAT = -1003000000001;

const SECRETS: Record<string, string> = {
  "good bot token": GOOD_TOKEN,
  "good bot token secret part": GOOD_TOKEN.split(":")[1]!,
  "bad bot token": BAD_TOKEN,
  "bad bot token secret part": BAD_TOKEN.split(":")[1]!,
  "dead bot token": DEAD_TOKEN,
  "dead bot token secret part": DEAD_TOKEN.split(":")[1]!,
  "API key": API_KEY,
  "inbound key": INBOUND,
};

let api: FakeBotApi;
let tracker: RecordingTracker;
let svc: TestService;
let closedPort: number;
const answers: { what: string; text: string }[] = [];

async function record(what: string, res: Response) {
  const text = await res.text();
  answers.push({ what, text: `${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${text}` });
  return { status: res.status, text, json: (() => { try { return JSON.parse(text); } catch { return undefined; } })() };
}

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${svc.url}${path}`, { headers }).then((r) => record(`GET ${path}`, r));
const authed = (path: string) => get(path, { authorization: `Bearer ${API_KEY}` });
const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${svc.url}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}`, ...headers }, body: JSON.stringify(body) }).then((r) => record(`POST ${path}`, r));

let config: Record<string, unknown>;

beforeAll(async () => {
  api = await FakeBotApi.start();
  api.addBot({ token: GOOD_TOKEN, username: "good_bot" }); // BAD_TOKEN is unknown to it: getMe → 401
  tracker = await RecordingTracker.start((req) => {
    const subid = req.query.subid ?? "";
    if (subid.startsWith("rej")) return { status: 200, body: "Incorrect subid" };
    if (subid.startsWith("err")) return { status: 500, body: "upstream exploded" };
    return { status: 200, body: "Success" };
  });
  closedPort = await freePort(); // nothing listens there
  const port = await freePort();
  const overrides = {
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    inbound_keys: [INBOUND],
    delivery: { retry_ladder: ["0s"], timeout_ms: 1000, lease_ms: 5000 },
    destinations: { kt: { preset: "keitaro", domain: tracker.base, key: TRACKER_KEY } },
    postbacks: { destination: "kt" },
    bots: {
      good: { token: GOOD_TOKEN, mode: "webhook", api_root: api.apiRoot },
      badtoken: { token: BAD_TOKEN, mode: "polling", api_root: api.apiRoot },
      dead: { token: DEAD_TOKEN, mode: "webhook", api_root: `http://127.0.0.1:${closedPort}` },
    },
    campaigns: [
      { code: "c1", bot: "good", chat: CHAT, welcome: { text: "Welcome {username}!" } },
      { code: "cdead", bot: "dead", chat: CHAT - 1, welcome: { text: "Hi!" } },
      { code: "cnet", postbacks: { wait: `http://127.0.0.1:${closedPort}/pb?c={click}` } },
    ],
  };
  svc = await startTestService(overrides, { port });
  config = testConfig(svc.dir, overrides);
  await eventually(() => api.webhook(GOOD_TOKEN)?.url !== undefined, 5000, "setWebhook of the good bot");
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await tracker?.close();
  await api?.close();
});

describe("secrets stay out of logs, answers and the database", () => {
  test("error traffic of every kind", async () => {
    // bots: a bad token (getMe 401) and an unreachable Bot API (network error)
    await eventually(async () => {
      const bots = (await authed("/api/bots")).json.items as { name: string; status: string }[];
      return bots.find((b) => b.name === "badtoken")?.status === "error" && bots.find((b) => b.name === "dead")?.status === "error";
    }, 10_000, "both broken bots marked");
    const bots = (await authed("/api/bots")).json.items as { name: string; last_error: string }[];
    expect(bots.find((b) => b.name === "badtoken")!.last_error).toContain("401");
    expect(bots.find((b) => b.name === "dead")!.last_error).toMatch(/network/i);

    // webhook: wrong, missing and foreign secrets; then the right one (welcome sent through the fake Bot API)
    const update = (id: number, user: number, payload: string) => JSON.stringify({ update_id: id, ...tg.startMessage(tg.user(user, { username: `u${user}` }), payload) });
    const hook = (bot: string, secret: string | undefined, body: string) => fetch(`${svc.url}/telegram/${bot}`, {
      method: "POST", body, headers: { "content-type": "application/json", ...(secret === undefined ? {} : { "x-telegram-bot-api-secret-token": secret }) },
    }).then((r) => record(`POST /telegram/${bot}`, r));
    for (const secret of [undefined, "wrong", API_KEY, INBOUND, GOOD_TOKEN]) expect((await hook("good", secret, update(1, 11, "c1-a"))).status).toBe(401);
    expect((await hook("good", api.webhook(GOOD_TOKEN)!.secret_token, update(2, 12, "c1-ok1"))).status).toBe(200);
    await api.waitForCall("sendMessage");
    // the dead bot still takes its webhook (its secret derives from the token); its welcome hits the closed port
    const deadSecret = webhookSecret({ token: DEAD_TOKEN, secret: null });
    expect((await hook("dead", deadSecret, update(3, 13, "cdead-x"))).status).toBe(200);

    // inbound: wrong key, the API key, then the right key
    for (const key of ["wrong", API_KEY, `${INBOUND}x`]) expect((await get(`/api/postback?key=${encodeURIComponent(key)}&click=ok1&status=approve`)).status).toBe(403);
    const form = await fetch(`${svc.url}/api/postback`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `key=${API_KEY}&click=ok1&status=sale` }).then((r) => record("POST /api/postback", r));
    expect(form.status).toBe(403);

    // API: wrong keys as ?key= and Bearer; the right key as ?key= on good, missing and failing routes
    for (const path of [`/api/leads?key=${API_KEY}x`, `/api/leads?key=${INBOUND}`, "/api/leads?key=wrong"]) expect((await get(path)).status).toBe(401);
    for (const bearer of [`${API_KEY}x`, INBOUND, GOOD_TOKEN]) expect((await get("/api/leads", { authorization: `Bearer ${bearer}` })).status).toBe(401);
    expect((await get(`/api/leads?key=${API_KEY}`)).status).toBe(200);
    expect((await get(`/api/nosuch?key=${API_KEY}`)).status).toBe(404);
    expect((await get(`/api/leads?key=${API_KEY}&limit=abc`)).status).toBe(422);
    expect((await get(`/api/leads/999999?key=${API_KEY}`)).status).toBe(404);

    // postbacks that fail: a Keitaro refusal, a 500 (one-step ladder: failed), a closed port (network)
    for (const [campaign, sub, click] of [["c1", 21, "rej1"], ["c1", 22, "err1"], ["cnet", 23, "net1"], ["c1", 24, "fine1"]] as const) {
      expect((await postJson("/api/events", { campaign, subscriber: sub, status: "wait", click })).status).toBe(200);
    }
    expect((await get(`/api/postback?key=${INBOUND}&click=fine1&status=approve`)).json).toMatchObject({ status: "ok" });
    await eventually(async () => (await authed("/api/postbacks?state=pending")).json.items.length === 0, 15_000, "outbox settled");
    const states = ((await authed("/api/postbacks?limit=500")).json.items as { state: string; reason: string | null; template: string }[]);
    expect(states.some((p) => p.state === "rejected" && /Incorrect subid/.test(p.reason ?? ""))).toBe(true);
    expect(states.some((p) => p.state === "failed" && /500/.test(p.reason ?? ""))).toBe(true);
    expect(states.some((p) => p.state === "failed" && /network/i.test(p.reason ?? "") && p.template.startsWith("campaigns[2]"))).toBe(true);
    expect(states.some((p) => p.state === "failed" && p.template === "campaigns.cdead.welcome")).toBe(true); // the dead bot's welcome

    // a refused and an accepted config reload (the bots restart and fail again)
    svc.writeConfig({ ...config, api_keys: [API_KEY, ""], inbound_keys: [INBOUND] });
    expect((await postJson("/api/config/reload", {})).status).toBe(422);
    svc.writeConfig(config);
    expect((await postJson("/api/config/reload", {})).status).toBe(200);
    await eventually(async () => ((await authed("/api/bots")).json.items as { status: string }[]).filter((b) => b.status === "error").length === 2, 10_000, "bots restarted");
  }, 60_000);

  test("no token, API key or inbound key in any log line, API answer, attempt log or stored row", async () => {
    for (const path of ["/api/bots", "/api/chats", "/api/campaigns", "/api/leads?limit=500", "/api/journal?limit=500", "/api/postback-log?limit=500", "/api/stats", "/api/presets"]) {
      expect((await authed(path)).status).toBe(200);
    }
    const postbacks = (await authed("/api/postbacks?limit=500")).json.items as { id: number }[];
    expect(postbacks.length).toBeGreaterThan(5);
    for (const p of postbacks) expect((await authed(`/api/postbacks/${p.id}`)).status).toBe(200); // with the attempt logs
    const leads = (await authed("/api/leads?limit=500")).json.items as { id: number }[];
    for (const l of leads) expect((await authed(`/api/leads/${l.id}`)).status).toBe(200);
    expect((await get("/metrics")).status).toBe(200);
    expect((await get("/swagger/json")).status).toBe(200);
    expect((await get("/health")).status).toBe(200);

    // the traffic really produced errors and attempt logs
    const logs = svc.logs.join("");
    expect(logs).toContain("telegram bot error");
    const attempts = answers.filter((a) => a.what.startsWith("GET /api/postbacks/")).map((a) => a.text).join("\n");
    expect(attempts).toMatch(/"outcome":"retry"/);
    expect(attempts).toMatch(/"outcome":"rejected"/);

    const watch = new DbWatch(`${svc.dir}/tgcpa.db`);
    const stored = watch.allText();
    watch.close();

    const places: Record<string, string> = { logs, answers: answers.map((a) => a.text).join("\n\n"), database: stored }; // a.what holds our own request line
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(SECRETS)) {
        for (const form of new Set([secret, encodeURIComponent(secret)])) {
          const at = text.indexOf(form);
          if (at >= 0) leaks.push(`${name} in ${where}: …${text.slice(Math.max(0, at - 120), at + form.length + 40)}…`);
        }
      }
    }
    expect(leaks).toEqual([]);
  }, 60_000);
});
