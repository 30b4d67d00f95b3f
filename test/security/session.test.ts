// Dashboard sessions: sign-in with an API key gives an HttpOnly, SameSite=Strict cookie that stands
// in for the key on /api; changes sent with it need X-Requested-With; sign-out, expiry and the
// removal of the key from the config end it; neither the key nor the token is stored.
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { DbWatch } from "../helpers/db-inspect.ts";
import { API_KEY, testConfig } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const OTHER_KEY = "second-key-abcdefghij-0123456789abcdef";
const cleanup = cleanupAfterEach();

async function service(overrides: Record<string, unknown> = {}, clock?: FakeClock) {
  const svc = await startTestService({ api_keys: [API_KEY, OTHER_KEY], campaigns: [{ code: "c1" }], ...overrides }, { clock });
  cleanup.push(() => svc.stop());
  return svc;
}

async function signIn(svc: TestService, key: string) {
  const res = await fetch(`${svc.url}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key }) });
  const setCookie = res.headers.get("set-cookie");
  return { status: res.status, body: (await res.json()) as any, setCookie, cookie: setCookie?.split(";")[0] ?? "" };
}

const call = (svc: TestService, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  fetch(`${svc.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any, setCookie: r.headers.get("set-cookie") }));

describe("sign-in", () => {
  test("a right key gets an HttpOnly, SameSite=Strict, expiring cookie that holds a random token, not the key", async () => {
    const svc = await service({ dashboard: { session_ttl: "2h", timezone: "Asia/Kolkata" } });
    const a = await signIn(svc, API_KEY);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ authenticated_by: "session", timezone: "Asia/Kolkata" });
    expect(Date.parse(a.body.expires_at) - Date.now()).toBeWithin(2 * 3_600_000 - 60_000, 2 * 3_600_000 + 1);
    const attrs = a.setCookie!.split(";").map((x) => x.trim());
    expect(attrs[0]).toMatch(/^tgcpa_session=[A-Za-z0-9_-]{43}$/);
    expect(attrs.slice(1).sort()).toEqual(["HttpOnly", "Max-Age=7200", "Path=/", "SameSite=Strict"]); // no Secure on plain http
    expect(a.setCookie).not.toContain(API_KEY);
    const b = await signIn(svc, API_KEY);
    expect(b.cookie).not.toBe(a.cookie); // a new token per sign-in

    const watch = new DbWatch(`${svc.dir}/tgcpa.db`);
    try {
      const stored = watch.allText();
      expect(stored).not.toContain(API_KEY);
      expect(stored).not.toContain(a.cookie.split("=")[1]!);
    } finally {
      watch.close();
    }
    expect(svc.logs.join("")).not.toContain(a.cookie.split("=")[1]!);
  });

  test("the cookie is Secure when server.public_url is https", async () => {
    const svc = await service({ server: { host: "127.0.0.1", port: 0, public_url: "https://tg.example.com" } });
    const a = await signIn(svc, API_KEY);
    expect(a.setCookie).toContain("; Secure");
  });

  test("a wrong, empty or missing key gets 401 or 422 and no cookie", async () => {
    const svc = await service();
    for (const key of ["wrong", `${API_KEY}x`, API_KEY.slice(0, -1)]) {
      const a = await signIn(svc, key);
      expect({ key, status: a.status, code: a.body.error.code, cookie: a.setCookie }).toEqual({ key, status: 401, code: "unauthorized", cookie: null });
    }
    const empty = await call(svc, "POST", "/api/session", {}, { key: "" });
    expect([empty.status, empty.body.error.details[0].field, empty.setCookie]).toEqual([422, "body.key", null]);
    expect((await call(svc, "POST", "/api/session", {}, {})).status).toBe(422);
  });

  test("sign-in attempts are limited per address: the 21st within a minute gets 429", async () => {
    const svc = await service();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await signIn(svc, i === 20 ? API_KEY : "wrong")).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  test("behind a trusted proxy the limit is per forwarded client: one client's failures do not lock out another", async () => {
    const svc = await service({ server: { host: "127.0.0.1", port: 0, trusted_proxies: ["127.0.0.1"] } });
    const from = (client: string, key: string) => fetch(`${svc.url}/api/session`, {
      method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": client }, body: JSON.stringify({ key }),
    }).then((r) => r.status);
    const attacker: number[] = [];
    for (let i = 0; i < 21; i++) attacker.push(await from("203.0.113.7", "wrong"));
    expect(attacker.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(attacker[20]).toBe(429);
    expect(await from("198.51.100.9", API_KEY)).toBe(200); // another client behind the same proxy
  });
});

describe("the session cookie on /api", () => {
  test("it stands in for the API key on reads and, with X-Requested-With, on changes", async () => {
    const svc = await service();
    const { cookie } = await signIn(svc, API_KEY);
    expect((await call(svc, "GET", "/api/leads", { cookie })).status).toBe(200);
    expect((await call(svc, "GET", "/api/session", { cookie })).body).toMatchObject({ authenticated_by: "session" });
    expect((await call(svc, "GET", "/api/session", { authorization: `Bearer ${API_KEY}` })).body).toMatchObject({ authenticated_by: "api_key", expires_at: null });
    const event = { campaign: "c1", subscriber: 1, status: "wait", click: "k" };
    expect((await call(svc, "POST", "/api/events", { cookie, "x-requested-with": "tgcpa-dashboard" }, event)).status).toBe(200);
  });

  test("a change sent with the cookie but without X-Requested-With is refused with 403 and writes nothing", async () => {
    const svc = await service();
    const { cookie } = await signIn(svc, API_KEY);
    const watch = new DbWatch(`${svc.dir}/tgcpa.db`);
    cleanup.push(() => watch.close());
    const before = watch.fingerprint();
    for (const [method, path, body] of [
      ["POST", "/api/events", { campaign: "c1", subscriber: 2, status: "wait" }],
      ["POST", "/api/postbacks/retry", { state: "failed" }],
      ["POST", "/api/config/reload", undefined],
      ["POST", "/api/campaigns/c1/test", { send: true }],
    ] as const) {
      const a = await call(svc, method, path, { cookie }, body);
      expect({ path, status: a.status, code: a.body?.error?.code }).toEqual({ path, status: 403, code: "csrf_header_missing" });
    }
    expect(watch.fingerprint()).toEqual(before);
    expect(svc.logs.filter((l) => l.includes("config reloaded"))).toEqual([]);
    // The API key needs no such header: scripts are not browsers.
    expect((await call(svc, "POST", "/api/events", { authorization: `Bearer ${API_KEY}` }, { campaign: "c1", subscriber: 2, status: "wait" })).status).toBe(200);
  });

  test("a wrong API key beside a valid cookie is refused; a cookie that is not a session is ignored", async () => {
    const svc = await service();
    const { cookie } = await signIn(svc, API_KEY);
    expect((await call(svc, "GET", "/api/leads", { cookie, authorization: "Bearer wrong" })).status).toBe(401);
    expect((await call(svc, "GET", "/api/leads?key=wrong", { cookie })).status).toBe(401);
    for (const bad of [`tgcpa_session=${"A".repeat(43)}`, `tgcpa_session=${API_KEY}`, `key=${API_KEY}`, `${cookie}x`, "tgcpa_session="]) {
      expect({ bad, status: (await call(svc, "GET", "/api/leads", { cookie: bad })).status }).toEqual({ bad, status: 401 });
    }
  });

  test("sign-out ends the session and clears the cookie; it needs X-Requested-With", async () => {
    const svc = await service();
    const { cookie } = await signIn(svc, API_KEY);
    expect((await call(svc, "DELETE", "/api/session", { cookie })).status).toBe(403);
    expect((await call(svc, "GET", "/api/leads", { cookie })).status).toBe(200);
    const out = await call(svc, "DELETE", "/api/session", { cookie, "x-requested-with": "tgcpa-dashboard" });
    expect(out.status).toBe(200);
    expect(out.setCookie).toMatch(/^tgcpa_session=; .*Max-Age=0/);
    expect((await call(svc, "GET", "/api/leads", { cookie })).status).toBe(401); // the old cookie, replayed
  });

  test("a session expires after dashboard.session_ttl", async () => {
    const clock = new FakeClock();
    const svc = await service({ dashboard: { session_ttl: "1h" } }, clock);
    const { cookie } = await signIn(svc, API_KEY);
    clock.advance(3_600_000 - 1000);
    expect((await call(svc, "GET", "/api/leads", { cookie })).status).toBe(200);
    clock.advance(1000);
    expect((await call(svc, "GET", "/api/leads", { cookie })).status).toBe(401);
  });

  test("removing a key from the config ends the sessions opened with it, not the others", async () => {
    const svc = await service();
    const first = await signIn(svc, API_KEY);
    const second = await signIn(svc, OTHER_KEY);
    svc.writeConfig(testConfig(svc.dir, { api_keys: [OTHER_KEY], campaigns: [{ code: "c1" }] }));
    expect((await call(svc, "POST", "/api/config/reload", { authorization: `Bearer ${OTHER_KEY}` })).status).toBe(200);
    expect((await call(svc, "GET", "/api/leads", { cookie: first.cookie })).status).toBe(401);
    expect((await call(svc, "GET", "/api/leads", { cookie: second.cookie })).status).toBe(200);
  });
});

describe("the pages", () => {
  test("the dashboard and Swagger UI are served without a key and hold no data; they load nothing from elsewhere", async () => {
    const svc = await service();
    await call(svc, "POST", "/api/events", { authorization: `Bearer ${API_KEY}` }, { campaign: "c1", subscriber: 4242, status: "wait", click: "secret-click" });
    for (const path of ["/", "/dashboard", "/swagger", "/swagger/"]) {
      const res = await fetch(`${svc.url}${path}`);
      const html = await res.text();
      expect({ path, status: res.status, type: res.headers.get("content-type") }).toEqual({ path, status: 200, type: "text/html; charset=utf-8" });
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(html).not.toContain("secret-click");
      // Every script and stylesheet is a path on this service, and is served.
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith("#") && !r.startsWith("data:"));
      for (const ref of refs) {
        expect({ ref, local: ref.startsWith("/") && !ref.startsWith("//") }).toEqual({ ref, local: true });
        expect({ ref, status: (await fetch(`${svc.url}${ref}`)).status }).toEqual({ ref, status: 200 });
      }
    }
  });
});
