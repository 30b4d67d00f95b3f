// Authentication of every entry point: the management API key on every /api route (enumerated from
// the OpenAPI document, so new routes are covered), the webhook secret per bot, the inbound key.
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import * as crypto from "node:crypto";
import { keyMatches } from "../../src/lib/keys.ts";
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { DbWatch } from "../helpers/db-inspect.ts";
import { envelopeProblem } from "../helpers/error-envelope.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort, rawHttp, rawRequest } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const INBOUND = "inbound-key-abcdef123456-0123456789abcdef0123456789abcdef";
const TOKEN = "111111:auth-hooked-bot_TOKEN";
const TOKEN2 = "222222:auth-derived-secret_TOKEN";
const TOKEN3 = "333333:auth-polling-bot_TOKEN";
const SECRET = "hooked-secret-0123456789";
const CHAT = -1002000000001;

let api: FakeBotApi;
let svc: TestService;
let watch: DbWatch;
let port: number;

beforeAll(async () => {
  api = await FakeBotApi.start();
  api.addBot({ token: TOKEN, username: "hooked_bot" });
  api.addBot({ token: TOKEN2, username: "derived_bot" });
  api.addBot({ token: TOKEN3, username: "poller_bot" });
  port = await freePort();
  svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    inbound_keys: [INBOUND],
    // every refusal here must be the 401 or 403 itself (the limits: rate-limit.test.ts, key-guessing.test.ts)
    rate_limits: { inbound_bad_key_per_minute: 0, api_key_failures_per_minute: 0, api_key_failures_all_per_minute: 0 },
    bots: {
      hooked: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: SECRET },
      derived: { token: TOKEN2, mode: "webhook", api_root: api.apiRoot }, // secret derived from the token
      poller: { token: TOKEN3, mode: "polling", api_root: api.apiRoot },
    },
    campaigns: [{ code: "c1", bot: "hooked", chat: CHAT }, { code: "c2", bot: "derived", chat: CHAT - 1 }],
  }, { port });
  await eventually(() => api.webhook(TOKEN)?.url !== undefined && api.webhook(TOKEN2)?.url !== undefined, 5000, "setWebhook");
  // One lead, so that a refused request that slipped through would have something to change.
  expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "k1" })).status).toBe(200);
  watch = new DbWatch(`${svc.dir}/tgcpa.db`);
}, 30_000);

afterAll(async () => {
  watch?.close();
  await svc?.stop();
  await api?.close();
});

interface Route {
  method: string;
  path: string;
}

/**
 * Every management route of the OpenAPI document: /api/*, except the inbound postback and the
 * dashboard's sign-in and sign-out (test/security/session.test.ts).
 */
async function managementRoutes(): Promise<Route[]> {
  const spec = (await (await fetch(`${svc.url}/swagger/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(spec.paths)) {
    if (!path.startsWith("/api/") || path === "/api/postback") continue;
    for (const method of Object.keys(ops)) {
      if (path === "/api/session" && method !== "get") continue;
      routes.push({ method: method.toUpperCase(), path: path.replace("{id}", "1").replace("{code}", "c1").replace(/\{[^}]+\}/g, "x") });
    }
  }
  return routes;
}

/** A body that would do something if the request got through. */
const bodyFor = (r: Route) =>
  r.method !== "POST" ? undefined
    : r.path === "/api/events" ? JSON.stringify({ campaign: "c1", subscriber: 99, status: "wait", click: "should-not-exist" })
      : JSON.stringify({});

const basic = (user: string) => `Basic ${Buffer.from(`${user}:`).toString("base64")}`;

/** Credentials that must all be refused: [label, extra headers, extra query]. */
const BAD_CREDENTIALS: [string, Record<string, string>, string][] = [
  ["no key", {}, ""],
  ["wrong Bearer", { authorization: "Bearer wrong-key" }, ""],
  ["Bearer key + 1 char", { authorization: `Bearer ${API_KEY}x` }, ""],
  ["Bearer prefix (all but the last char)", { authorization: `Bearer ${API_KEY.slice(0, -1)}` }, ""],
  ["Bearer short prefix", { authorization: `Bearer ${API_KEY.slice(0, 4)}` }, ""],
  ["Bearer key upper-cased", { authorization: `Bearer ${API_KEY.toUpperCase()}` }, ""],
  ["empty Bearer", { authorization: "Bearer " }, ""],
  ["?key= + 1 char", {}, `key=${API_KEY}x`],
  ["?key= prefix", {}, `key=${API_KEY.slice(0, -1)}`],
  ["?key= empty", {}, "key="],
  ["key as X-API-Key", { "x-api-key": API_KEY }, ""],
  ["key as Api-Key", { "api-key": API_KEY }, ""],
  ["key as bare Authorization", { authorization: API_KEY }, ""],
  ["key as Token scheme", { authorization: `Token ${API_KEY}` }, ""],
  ["key as Basic user", { authorization: basic(API_KEY) }, ""],
  ["key in a cookie", { cookie: `key=${API_KEY}` }, ""],
  ["key in Proxy-Authorization", { "proxy-authorization": `Bearer ${API_KEY}` }, ""],
  ["key as webhook secret header", { "x-telegram-bot-api-secret-token": API_KEY }, ""],
  ["key as ?api_key=", {}, `api_key=${API_KEY}`],
  ["key as ?Key=", {}, `Key=${API_KEY}`],
  ["key as ?token=", {}, `token=${API_KEY}`],
  ["inbound key as Bearer", { authorization: `Bearer ${INBOUND}` }, ""],
  ["inbound key as ?key=", {}, `key=${INBOUND}`],
  ["webhook secret as Bearer", { authorization: `Bearer ${SECRET}` }, ""],
  ["wrong Bearer beside a right ?key=", { authorization: "Bearer wrong" }, `key=${API_KEY}`],
];

const withQuery = (path: string, q: string) => (q ? `${path}${path.includes("?") ? "&" : "?"}${q}` : path);

async function call(method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(`${svc.url}${path}`, { method, headers: { ...(body ? { "content-type": "application/json" } : {}), ...headers }, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, headers: res.headers };
}

describe("management API key", () => {
  test("the OpenAPI document lists the management routes", async () => {
    const routes = await managementRoutes();
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const known of ["POST /api/events", "GET /api/leads", "GET /api/postbacks", "POST /api/postbacks/retry", "POST /api/config/reload", "GET /api/bots", "GET /api/postback-log"]) {
      expect(names).toContain(known);
    }
    expect(routes.length).toBeGreaterThanOrEqual(16);
  });

  test("every /api route refuses a missing, wrong, extended, truncated, misplaced or foreign key with 401 and the envelope", async () => {
    const routes = await managementRoutes();
    const before = watch.fingerprint();
    const reloadsBefore = svc.logs.filter((l) => l.includes("config reloaded")).length;
    const failures: string[] = [];
    for (const r of routes) {
      for (const [label, headers, query] of BAD_CREDENTIALS) {
        const a = await call(r.method, withQuery(r.path, query), headers, bodyFor(r));
        const problem = envelopeProblem(r.path, a);
        let code: unknown;
        try {
          code = JSON.parse(a.text)?.error?.code;
        } catch {}
        if (a.status !== 401 || problem || code !== "unauthorized") failures.push(`${r.method} ${r.path} [${label}] → ${a.status} ${problem ?? ""} ${a.text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(watch.fingerprint()).toEqual(before);
    expect(svc.logs.filter((l) => l.includes("config reloaded")).length).toBe(reloadsBefore);
  }, 30_000);

  test("the right key, as Bearer (any case of the scheme) or ?key=, gets through on every route", async () => {
    const routes = await managementRoutes();
    const failures: string[] = [];
    for (const r of routes) {
      for (const [headers, query] of [[{ authorization: `Bearer ${API_KEY}` }, ""], [{ authorization: `bearer ${API_KEY}` }, ""], [{}, `key=${API_KEY}`]] as [Record<string, string>, string][]) {
        const body = r.path === "/api/events" ? JSON.stringify({ campaign: "c1", subscriber: 1, status: "wait" }) : bodyFor(r);
        const a = await call(r.method, withQuery(r.path, query), headers, body);
        if (a.status === 401 || a.status >= 500) failures.push(`${r.method} ${r.path} → ${a.status} ${a.text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 30_000);
});

describe("webhook secret", () => {
  const start = (id: number) => JSON.stringify({ update_id: 500_000 + id, ...tg.startMessage(tg.user(7000 + id), `c1-hook${id}`) });
  const post = (bot: string, headers: Record<string, string>, body: string) =>
    call("POST", `/telegram/${bot}`, { "content-type": "application/json", ...headers }, body);

  test("a wrong, missing, extended, truncated or foreign secret gets 401 and changes nothing", async () => {
    const derived = api.webhook(TOKEN2)!.secret_token!;
    expect(derived).toBeTruthy();
    const before = watch.fingerprint();
    const cases: [string, string, Record<string, string>][] = [
      ["hooked", "missing", {}],
      ["hooked", "wrong", { "x-telegram-bot-api-secret-token": "wrong" }],
      ["hooked", "empty", { "x-telegram-bot-api-secret-token": "" }],
      ["hooked", "secret + 1 char", { "x-telegram-bot-api-secret-token": `${SECRET}x` }],
      ["hooked", "prefix", { "x-telegram-bot-api-secret-token": SECRET.slice(0, -1) }],
      ["hooked", "upper-cased", { "x-telegram-bot-api-secret-token": SECRET.toUpperCase() }],
      ["hooked", "API key", { "x-telegram-bot-api-secret-token": API_KEY }],
      ["hooked", "inbound key", { "x-telegram-bot-api-secret-token": INBOUND }],
      ["hooked", "the bot token", { "x-telegram-bot-api-secret-token": TOKEN }],
      ["hooked", "secret as Bearer", { authorization: `Bearer ${SECRET}` }],
      ["hooked", "API key as Bearer", { authorization: `Bearer ${API_KEY}` }],
      ["hooked", "another bot's secret", { "x-telegram-bot-api-secret-token": derived }],
      ["derived", "another bot's secret", { "x-telegram-bot-api-secret-token": SECRET }],
      ["derived", "missing", {}],
      ["derived", "the bot token", { "x-telegram-bot-api-secret-token": TOKEN2 }],
    ];
    const failures: string[] = [];
    let i = 0;
    for (const [bot, label, headers] of cases) {
      const a = await post(bot, headers, start(++i));
      const problem = envelopeProblem(`/telegram/${bot}`, a);
      if (a.status !== 401 || problem) failures.push(`${bot} [${label}] → ${a.status} ${problem ?? ""} ${a.text.slice(0, 120)}`);
    }
    expect(failures).toEqual([]);
    expect(watch.fingerprint()).toEqual(before);
  });

  test("an unknown bot, a polling bot or a bot name with the right secret gets 404 and changes nothing", async () => {
    const before = watch.fingerprint();
    const failures: string[] = [];
    let i = 100;
    for (const bot of ["nosuch", "poller", "HOOKED", "hooked_", "__proto__", "constructor", "toString", encodeURIComponent("hooked/"), "%00"]) {
      const a = await post(bot, { "x-telegram-bot-api-secret-token": SECRET }, start(++i));
      const problem = envelopeProblem(`/telegram/${bot}`, a);
      if (a.status !== 404 || problem) failures.push(`${bot} → ${a.status} ${problem ?? ""} ${a.text.slice(0, 120)}`);
    }
    expect(failures).toEqual([]);
    expect(watch.fingerprint()).toEqual(before);
  });

  test("the right secret (configured or derived from the token) is accepted", async () => {
    expect((await post("hooked", { "x-telegram-bot-api-secret-token": SECRET }, start(900))).status).toBe(200);
    expect((await post("derived", { "x-telegram-bot-api-secret-token": api.webhook(TOKEN2)!.secret_token! }, JSON.stringify({ update_id: 1, ...tg.startMessage(tg.user(8000), "c2-x") }))).status).toBe(200);
  });
});

describe("inbound key", () => {
  test("/api/postback refuses a wrong inbound key and the management API key with {status:error, error:access}", async () => {
    const before = watch.fingerprint();
    const target = "lead=1&status=approve";
    const cases: [string, string, Record<string, string>][] = [
      ["no key", target, {}],
      ["wrong key", `key=wrong&${target}`, {}],
      ["empty key", `key=&${target}`, {}],
      ["key + 1 char", `key=${INBOUND}x&${target}`, {}],
      ["key prefix", `key=${INBOUND.slice(0, -1)}&${target}`, {}],
      ["key upper-cased", `key=${INBOUND.toUpperCase()}&${target}`, {}],
      ["API key as ?key=", `key=${API_KEY}&${target}`, {}],
      ["API key as Bearer", target, { authorization: `Bearer ${API_KEY}` }],
      ["inbound key as Bearer", target, { authorization: `Bearer ${INBOUND}` }],
      ["webhook secret", `key=${SECRET}&${target}`, {}],
      ["key twice (right, wrong)", `key=${INBOUND}&key=wrong&${target}`, {}],
    ];
    const failures: string[] = [];
    for (const [label, query, headers] of cases) {
      for (const how of ["GET", "POST form", "POST json"]) {
        const a = how === "GET"
          ? await call("GET", `/api/postback?${query}`, headers)
          : how === "POST form"
            ? await call("POST", "/api/postback", { "content-type": "application/x-www-form-urlencoded", ...headers }, query)
            : await call("POST", "/api/postback", headers, JSON.stringify(Object.fromEntries(new URLSearchParams(query))));
        let body: any;
        try {
          body = JSON.parse(a.text);
        } catch {}
        if (a.status !== 403 || body?.status !== "error" || body?.error !== "access") failures.push(`${how} [${label}] → ${a.status} ${a.text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(watch.fingerprint()).toEqual(before); // the refusals are logged in inbound_log (by design), nothing else
    const log = await svc.api("GET", "/api/postback-log?result=access&limit=500");
    expect(log.body.items.length).toBeGreaterThanOrEqual(cases.length * 3 - 3); // JSON with a duplicated key collapses
  });

  test("the right inbound key is accepted", async () => {
    const a = await call("GET", `/api/postback?key=${INBOUND}&lead=1&status=hold`, {});
    expect(JSON.parse(a.text)).toMatchObject({ status: "ok", changed: true });
  });
});

describe("key comparison", () => {
  test("keyMatches accepts the exact key and refuses everything else, whatever its length", () => {
    const keys = ["k1", "a-much-longer-second-key-0123456789", "third"];
    expect(keyMatches("k1", keys)).toBe(true);
    expect(keyMatches("third", keys)).toBe(true);
    expect(keyMatches("a-much-longer-second-key-0123456789", keys)).toBe(true);
    for (const bad of [null, undefined, "", "k", "k1 ", " k1", "K1", "k1k1", "thir", "thirdx", "a-much-longer-second-key-012345678", "x".repeat(10_000), "\u0000", "k1\u0000"]) {
      expect({ bad, ok: keyMatches(bad, keys) }).toEqual({ bad, ok: false });
    }
    expect(keyMatches("k1", [])).toBe(false);
    expect(keyMatches("", [""])).toBe(false); // an empty key never matches
  });

  test("it compares fixed-size digests with timingSafeEqual, against every key (no early exit, no length check)", () => {
    const tse = spyOn(crypto, "timingSafeEqual");
    try {
      const keys = ["short", "a-much-longer-second-key-0123456789", "x".repeat(500)];
      for (const given of ["short", "s", "y".repeat(5000), "a-much-longer-second-key-0123456789"]) {
        tse.mockClear();
        expect(() => keyMatches(given, keys)).not.toThrow(); // raw buffers of other lengths would throw
        expect(tse.mock.calls.length).toBe(keys.length);
        for (const [a, b] of tse.mock.calls as unknown as [Uint8Array, Uint8Array][]) {
          expect([a.byteLength, b.byteLength]).toEqual([32, 32]); // SHA-256 digests
        }
      }
    } finally {
      tse.mockRestore();
    }
  });

  test("the API key, the webhook secret and the inbound key are all checked that way by the running service", async () => {
    const tse = spyOn(crypto, "timingSafeEqual");
    try {
      for (const send of [
        () => call("GET", "/api/leads", { authorization: "Bearer nope" }),
        () => call("POST", "/telegram/hooked", { "content-type": "application/json", "x-telegram-bot-api-secret-token": "nope" }, JSON.stringify({ update_id: 1 })),
        () => call("GET", "/api/postback?key=nope&lead=1&status=approve", {}),
      ]) {
        tse.mockClear();
        expect((await send()).status).toBeGreaterThanOrEqual(400);
        expect(tse.mock.calls.length).toBeGreaterThanOrEqual(1);
        for (const [a, b] of tse.mock.calls as unknown as [Uint8Array, Uint8Array][]) expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
      }
    } finally {
      tse.mockRestore();
    }
  });
});

describe("request routing", () => {
  test("a short Host header cannot reach a management route without the key", async () => {
    const before = watch.fingerprint();
    const answers: Record<string, number> = {};
    for (const [method, target, body] of [
      ["GET", "/zz/api/leads", ""],
      ["GET", "/zz/api/bots", ""],
      ["POST", "/zz/api/events", JSON.stringify({ campaign: "c1", subscriber: 4242, status: "wait", click: "via-host-bypass" })],
      ["POST", "/zz/api/config/reload", ""],
    ] as const) {
      const res = await rawHttp(port, rawRequest(method, target, { Host: "x", "Content-Type": "application/json" }, body));
      answers[`${method} ${target}`] = res.status;
    }
    for (const [name, status] of Object.entries(answers)) expect({ name, status, refused: status === 401 || status === 404 }).toEqual({ name, status, refused: true });
    expect(watch.fingerprint()).toEqual(before);
  });
});
