// No answer carries a stack, a path or a source line: a 5,000-deep JSON body on every public route
// (and on /api/events with a key) is a 4xx naming the limit; the error handler answers whatever it
// is handed; a service started with NODE_ENV=development shows no development error page either.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorHandler } from "../../src/http/errors.ts";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "../../src/http/json-limits.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { FakeBotApi } from "../helpers/fake-bot-api/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { freePort } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { processTestDir, spawnService, withServices } from "../helpers/service/subprocess.ts";

const TOKEN = "777777:error-leaks-bot_TOKEN";
const SECRET = "error-leaks-webhook-secret";
const INBOUND = "error-leaks-inbound-key-0123456789abcdef";

/** `[[[…]]]` nested `n` deep. */
const deepArray = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;

/** What must never be in an answer: stack frames, source lines, file paths, the runtime's error page. */
function expectNoLeak(path: string, text: string) {
  for (const leak of [/\bat [\w.<>]+ \(/, /\.(ts|js|mjs):\d+/, /\/work\/|\/tmp\/|node_modules/, /<html|<!doctype/i, /RangeError|Maximum call stack/]) {
    expect({ path, leak: leak.test(text) ? text.slice(0, 300) : null }).toEqual({ path, leak: null });
  }
}

let api: FakeBotApi;
let svc: TestService;

beforeAll(async () => {
  api = await FakeBotApi.start();
  api.addBot({ token: TOKEN, username: "leaks_bot" });
  const port = await freePort();
  svc = await startTestService({
    server: { host: "127.0.0.1", port, public_url: `http://127.0.0.1:${port}` },
    inbound_keys: [INBOUND],
    bots: { main: { token: TOKEN, mode: "webhook", api_root: api.apiRoot, secret: SECRET } },
    campaigns: [{ code: "c1", bot: "main", chat: -1005000000001 }],
  }, { port });
  await eventually(() => api.webhook(TOKEN)?.url !== undefined, 5000, "setWebhook");
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await api?.close();
});

const json = { "content-type": "application/json" };
const ROUTES: [string, Record<string, string>, (deep: string) => string][] = [
  ["/api/session", json, (d) => `{"key":${d}}`],
  ["/api/postback", json, (d) => `{"key":"${INBOUND}","click":${d}}`],
  ["/api/postback?key=nope", json, (d) => `{"click":${d}}`],
  ["/telegram/main", { ...json, "x-telegram-bot-api-secret-token": SECRET }, (d) => `{"update_id":1,"message":${d}}`],
  ["/telegram/main", json, (d) => `{"update_id":1,"message":${d}}`], // no secret: 401 before the body is read
  ["/api/events", { ...json, authorization: `Bearer ${API_KEY}` }, (d) => `{"campaign":"c1","subscriber":1,"status":"wait","click":${d}}`],
  ["/api/postbacks/retry", { ...json, authorization: `Bearer ${API_KEY}` }, (d) => `{"state":${d}}`],
];

describe("deep JSON", () => {
  test.each([["arrays", deepArray], ["objects", deepObject]] as const)("5,000-deep %s on every public route and /api/events: a 4xx without a stack or a path", async (_, deep) => {
    for (const [path, headers, body] of ROUTES) {
      const res = await fetch(`${svc.url}${path}`, { method: "POST", headers, body: body(deep(5000)) });
      const text = await res.text();
      expect({ path, status: res.status >= 400 && res.status < 500, type: res.headers.get("content-type") }).toEqual({ path, status: true, type: expect.stringContaining("application/json") });
      expectNoLeak(path, text);
    }
  });

  test("past 64 levels the answer names the limit (422; the inbound endpoint: 400 bad-request), and nothing is written", async () => {
    const before = (await svc.api("GET", "/api/leads")).body.items.length;
    const answers: Record<string, unknown> = {};
    for (const [path, headers, body] of ROUTES.filter(([p], i) => i !== 4 && p !== "/api/postback?key=nope")) {
      const res = await fetch(`${svc.url}${path}`, { method: "POST", headers, body: body(deepArray(MAX_JSON_DEPTH + 1)) });
      answers[path] = { status: res.status, body: await res.json() };
    }
    const envelope = { error: { code: "validation_failed", message: "body: nested deeper than 64 levels", details: [{ field: "body", message: "nested deeper than 64 levels" }] } };
    expect(answers).toEqual({
      "/api/session": { status: 422, body: envelope },
      "/api/postback": { status: 400, body: { status: "error", error: "bad-request", message: "body: nested deeper than 64 levels" } },
      "/telegram/main": { status: 422, body: envelope },
      "/api/events": { status: 422, body: envelope },
      "/api/postbacks/retry": { status: 422, body: envelope },
    });
    expect((await svc.api("GET", "/api/leads")).body.items).toHaveLength(before);
  });

  test("within the limit a deep value is an ordinary validation error naming its field", async () => {
    const res = await fetch(`${svc.url}/api/session`, { method: "POST", headers: json, body: `{"key":${deepArray(MAX_JSON_DEPTH - 1)}}` });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { details: { field: string }[] } }).error.details[0]!.field).toBe("body.key");
  });

  test("a management body declared over 64 KiB is refused with 413 before it is read", async () => {
    const res = await fetch(`${svc.url}/api/events`, {
      method: "POST", headers: { ...json, authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ campaign: "c1", subscriber: 2, status: "wait", click: "x".repeat(70_000) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: "body_too_large", message: "body: larger than 65536 bytes" } });
  });

  test("nestedDeeperThan counts levels without recursion", () => {
    expect([nestedDeeperThan(1), nestedDeeperThan({}), nestedDeeperThan(JSON.parse(deepArray(64))), nestedDeeperThan(JSON.parse(deepArray(65)))]).toEqual([false, false, false, true]);
    expect(nestedDeeperThan(JSON.parse(deepObject(100_000)))).toBe(true);
    expect(nestedDeeperThan({ a: [1, { b: 1 }], c: "x" }, 3)).toBe(false); // object, array, object: 3 levels
    expect(nestedDeeperThan({ a: [1, { b: [] }] }, 3)).toBe(true);
  });
});

describe("the error handler answers whatever it is handed", () => {
  const handle = errorHandler({ log: createLogger("silent"), noteStorageFailure: () => {}, storagePath: () => "/x.db" });
  const request = new Request("http://127.0.0.1/api/events", { method: "POST" });
  const throwing = new Proxy({}, { get: () => { throw new Error("trap"); }, getPrototypeOf: () => { throw new Error("trap"); } });
  const deep = JSON.parse(deepArray(100_000));

  test.each([
    ["a validation error whose details throw", "VALIDATION", { type: "body", get all() { throw new RangeError("Maximum call stack size exceeded."); } }],
    ["a validation error over a 100,000-deep value", "VALIDATION", { type: "body", all: [{ path: "/key", message: "Expected string", value: deep, schema: {} }] }],
    ["null", "UNKNOWN", null],
    ["a string", "UNKNOWN", "boom"],
    ["a proxy that throws on every access", "UNKNOWN", throwing],
    ["a status that is a getter throwing", "UNKNOWN", { get status() { throw new Error("x"); } }],
    ["a 4xx whose message is an object", "UNKNOWN", { status: 400, message: { deep } }],
  ])("%s → an envelope, never a throw", async (_, code, error) => {
    const res = handle({ code, error, request }) as Response;
    expect(res).toBeInstanceOf(Response);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    expectNoLeak(String(code), text);
  });
});

describe("whatever NODE_ENV is", () => {
  const dir = processTestDir("leaks");

  test("a service started with NODE_ENV=development answers a deep body and a route that throws without its development page", () => withServices("dev mode", async () => {
    const s = await spawnService({ dir, config: { api_keys: [API_KEY], storage: { path: `${dir}/t.db` }, campaigns: [{ code: "c1" }] }, env: { NODE_ENV: "development" } });
    const res = await fetch(`${s.url}/api/session`, { method: "POST", headers: json, body: `{"key":${deepArray(5000)}}` });
    expect(res.status).toBe(422);
    expectNoLeak("/api/session", await res.text());
    const odd = await fetch(`${s.url}/api/session`, { method: "POST", headers: json, body: `{"key":${"[".repeat(3000)}` }); // not JSON
    expect(odd.status).toBe(400);
    expectNoLeak("/api/session (broken)", await odd.text());
    expect(await s.stop()).toBe(0);
  }), 30_000);
});
