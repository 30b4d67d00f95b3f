// rate_limits: per client address on /api/postback and /telegram/{bot}; management routes are never
// limited; 0 turns a limit off. The limiter runs on real time (Date.now): N is small and the N+1
// requests go out back to back, far inside the 60/N seconds one token takes to come back.
import { describe, expect, test } from "bun:test";
import { request } from "node:http";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { DbWatch } from "../helpers/db-inspect.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort, rawHttp, rawRequest } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const INBOUND = "rl-inbound-key-123-0123456789abcdef0123456789abcdef";
const TOKEN = "888888:rate-limit-bot_TOKEN";
const SECRET = "rl-webhook-secret-xyz";
const CHAT = -1004000000001;
const N = 5; // inbound per minute
const M = 4; // webhook per minute

const cleanup = cleanupAfterEach();

async function setup(limits: { inbound_per_minute: number; webhook_per_minute: number; inbound_bad_key_per_minute?: number }) {
  const api = await FakeBotApi.start();
  cleanup.push(() => api.close());
  api.addBot({ token: TOKEN, username: "rl_bot" });
  const port = await freePort();
  const svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    inbound_keys: [INBOUND],
    rate_limits: limits,
    bots: { main: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: SECRET } },
    campaigns: [{ code: "c1", bot: "main", chat: CHAT }],
  }, { port });
  cleanup.push(() => svc.stop());
  await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
  return { svc, port };
}

let updateId = 1;
const start = (user: number) => JSON.stringify({ update_id: updateId++, ...tg.startMessage(tg.user(user), `c1-u${user}`) });
const inbound = (svc: TestService, q = `key=${INBOUND}&click=nope&status=approve`) => fetch(`${svc.url}/api/postback?${q}`);
const webhook = (svc: TestService, body: string, secret = SECRET) =>
  fetch(`${svc.url}/telegram/main`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret }, body });

/** Seconds in Retry-After: a whole number from 1 to the time one token takes. */
function expectRetryAfter(res: Response, perMinute: number) {
  const value = res.headers.get("retry-after");
  expect(value).toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThanOrEqual(1);
  expect(Number(value)).toBeLessThanOrEqual(Math.ceil(60 / perMinute));
}

/** Sends until the first 429 (at most `max`); returns how many got through, their statuses and the 429. */
async function untilLimited(send: () => Promise<Response>, max: number) {
  const passed: number[] = [];
  for (let i = 0; i < max; i++) {
    const res = await send();
    if (res.status === 429) return { passed, limited: res };
    passed.push(res.status);
    await res.arrayBuffer();
  }
  throw new Error(`no 429 after ${max} requests (statuses ${passed.join(",")})`);
}

describe("rate limits", () => {
  // N, or N + 1: the limiter's first sweep drops the bucket it has just taken a token from (see the failing test below).
  test(`inbound: after ${N} requests within a minute from one address the next gets 429, Retry-After and {status:"error", error:"rate-limit"}`, async () => {
    const { svc } = await setup({ inbound_per_minute: N, webhook_per_minute: M });
    const { passed, limited } = await untilLimited(() => inbound(svc), N + 2);
    expect(passed.length === N || passed.length === N + 1).toBe(true);
    expect(new Set(passed)).toEqual(new Set([404])); // bad-click: answered, not limited
    expect(limited.status).toBe(429);
    expectRetryAfter(limited, N);
    expect(limited.headers.get("content-type")).toContain("application/json");
    expect(await limited.json()).toMatchObject({ status: "error", error: "rate-limit" });
    // every variant of the route counts against the same bucket: wrong key, POST, no params
    for (const res of [await inbound(svc, "key=wrong"), await fetch(`${svc.url}/api/postback`, { method: "POST", body: "" }), await inbound(svc, "")]) {
      expect(res.status).toBe(429);
      await res.arrayBuffer();
    }
    // the limited requests were not handled (the inbound log has only the ones that got through)
    const log = await svc.api("GET", "/api/postback-log?limit=500");
    expect(log.body.items).toHaveLength(passed.length);
  });

  test(`webhook: after ${M} updates within a minute the next gets 429 with Retry-After and the error envelope, and is not applied`, async () => {
    const { svc } = await setup({ inbound_per_minute: N, webhook_per_minute: M });
    const watch = new DbWatch(`${svc.dir}/tgcpa.db`);
    try {
      let user = 100;
      let before = watch.fingerprint();
      const { passed, limited } = await untilLimited(async () => {
        before = watch.fingerprint();
        return webhook(svc, start(user++));
      }, M + 2);
      expect(passed.length === M || passed.length === M + 1).toBe(true);
      expect(new Set(passed)).toEqual(new Set([200]));
      expect(limited.status).toBe(429);
      expectRetryAfter(limited, M);
      expect(limited.headers.get("content-type")).toContain("application/json");
      expect(await limited.json()).toMatchObject({ error: { code: "rate_limited", message: expect.any(String) } });
      expect(watch.fingerprint()).toEqual(before); // the limited update was not applied
      // a wrong secret or an unknown bot is limited too (the limit comes before everything else)
      expect((await webhook(svc, start(998), "wrong")).status).toBe(429);
      expect((await fetch(`${svc.url}/telegram/nosuch`, { method: "POST", body: "{}" })).status).toBe(429);
      expect(watch.fingerprint()).toEqual(before);
      const leads = await svc.api("GET", "/api/leads?limit=500");
      expect(leads.body.items).toHaveLength(passed.length);
    } finally {
      watch.close();
    }
  });

  test(`exactly ${N} inbound and ${M} webhook requests get through on a fresh service`, async () => {
    const { svc } = await setup({ inbound_per_minute: N, webhook_per_minute: M });
    const a = await untilLimited(() => inbound(svc), N + 2);
    const b = await untilLimited(() => webhook(svc, start(700 + updateId)), M + 2);
    expect({ inbound: a.passed.length, webhook: b.passed.length }).toEqual({ inbound: N, webhook: M });
  });

  test("the inbound and webhook limits are separate buckets", async () => {
    const { svc } = await setup({ inbound_per_minute: N, webhook_per_minute: M });
    await untilLimited(() => inbound(svc), N + 2);
    expect((await inbound(svc)).status).toBe(429);
    expect((await webhook(svc, start(200))).status).toBe(200); // the webhook bucket is untouched
  });

  test("inbound without a valid key: a tighter limit per address, answered 429 before anything is logged; the right key still gets through", async () => {
    const K = 3;
    const { svc } = await setup({ inbound_per_minute: 100, webhook_per_minute: M, inbound_bad_key_per_minute: K });
    const { passed, limited } = await untilLimited(() => inbound(svc, "key=wrong&click=nope&status=approve"), K + 3);
    expect(passed.length === K || passed.length === K + 1).toBe(true);
    expect(new Set(passed)).toEqual(new Set([403])); // access: answered and logged
    expectRetryAfter(limited, K);
    expect(await limited.json()).toMatchObject({ status: "error", error: "rate-limit" });
    for (const res of [await inbound(svc, "click=nope"), await fetch(`${svc.url}/api/postback`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"key":"nope"}' })]) {
      expect(res.status).toBe(429); // no key at all, or a wrong one in a JSON body
      await res.arrayBuffer();
    }
    const valid = await inbound(svc); // the inbound key, from the same address
    expect(valid.status).toBe(404);
    await valid.arrayBuffer();
    const log = (await svc.api("GET", "/api/postback-log?limit=500")).body.items as { result: string }[];
    expect(log.map((r) => r.result)).toEqual(["bad-click", ...passed.map(() => "access")]);
  });

  test("inbound without a valid key: all addresses together get at most 20 times the per-address limit", async () => {
    const { svc, port } = await setup({ inbound_per_minute: 100, webhook_per_minute: M, inbound_bad_key_per_minute: 1 });
    const from = (n: number) => new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/postback?key=wrong&click=nope", localAddress: `127.0.1.${n}` }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    const statuses: number[] = [];
    for (let n = 1; n <= 22; n++) statuses.push(await from(n)); // one request from each of 22 addresses
    // 20 (or 21: see the sweep note above) are answered, the rest limited although each address sent one
    const answered = statuses.filter((s) => s === 403).length;
    expect(answered === 20 || answered === 21).toBe(true);
    expect(statuses.slice(answered)).toEqual(statuses.slice(answered).map(() => 429));
    const valid = await inbound(svc);
    expect(valid.status).toBe(404); // the inbound key is never limited by it
  });

  test("management routes are never limited", async () => {
    const { svc } = await setup({ inbound_per_minute: 1, webhook_per_minute: 1 });
    for (let i = 0; i < 40; i++) {
      for (const path of ["/api/leads", "/api/postback-log", "/api/bots"]) {
        const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        await res.arrayBuffer();
      }
      const ev = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 300 + i, status: "wait" });
      expect(ev.status).toBe(200);
    }
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(200);
  });

  test("0 turns both limits off", async () => {
    const { svc } = await setup({ inbound_per_minute: 0, webhook_per_minute: 0 });
    for (let i = 0; i < 60; i++) {
      const a = await inbound(svc);
      expect(a.status).toBe(404);
      await a.arrayBuffer();
      const b = await webhook(svc, start(400 + i));
      expect(b.status).toBe(200);
      await b.arrayBuffer();
    }
  });

  test("the limit is per client address: another loopback address still gets through", async () => {
    const { svc, port } = await setup({ inbound_per_minute: N, webhook_per_minute: M });
    await untilLimited(() => inbound(svc), N + 2);
    expect((await inbound(svc)).status).toBe(429);
    const fromOther = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: `/api/postback?key=${INBOUND}&click=nope`, localAddress: "127.0.0.2" }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    expect(fromOther).toBe(404);
  });

  test("a short Host header does not get around the limits", async () => {
    const { svc, port } = await setup({ inbound_per_minute: N, webhook_per_minute: M });
    await untilLimited(() => inbound(svc), N + 2);
    expect((await inbound(svc)).status).toBe(429);
    const res = await rawHttp(port, rawRequest("GET", `/zz/api/postback?key=${INBOUND}&click=nope`, { Host: "x" }));
    expect(res.status).toBe(429);
  });
});
