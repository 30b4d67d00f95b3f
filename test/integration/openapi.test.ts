// The OpenAPI document: every operation declares its answers (success shape with an example, and
// the error envelope), the routes that need no key say so, and the real answers of every operation
// match what the document says for their status.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { schemaProblems } from "../helpers/json-schema.ts";
import { eventually } from "../helpers/eventually.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const INBOUND = "inbound-key-openapi-01-0123456789abcdef0123456789abcdef";
let tracker: RecordingTracker;
let svc: TestService;
let spec: any;

beforeAll(async () => {
  tracker = await RecordingTracker.start();
  svc = await startTestService({
    inbound_keys: [INBOUND],
    demo_tracker: true,
    // One wrong-key call per management operation (their 401s): more than the default limit a minute.
    rate_limits: { api_key_failures_per_minute: 1000 },
    postbacks: { wait: `${tracker.base}/pb?c={click}&s={status}`, approve: `${tracker.base}/pb?c={click}&s={status}` },
    campaigns: [{ code: "c1", payouts: { approve: { payout: 2, currency: "USD" } } }],
  });
  expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "k1", username: "alice" })).status).toBe(200);
  expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 2, status: "approve" })).status).toBe(200); // organic: a journal row
  await eventually(() => tracker.received.length === 1, 5000, "the postback");
  await eventually(async () => (await svc.api("GET", "/api/postbacks/1")).body.postback.state === "delivered", 5000, "delivered");
  spec = (await svc.api("GET", "/swagger/json")).body;
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await tracker?.close();
});

const operations = () =>
  Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));

/** Routes whose answers are not the error envelope (AlterCPA style, health, text, the demo tracker). */
const OWN_ANSWERS = new Set(["/api/postback", "/health", "/metrics", "/demo/postback", "/demo/received", "/c/{campaign}"]);

describe("the OpenAPI document", () => {
  test("every operation declares a success answer with its schema and an example that fits it", () => {
    const problems: string[] = [];
    for (const { method, path, op } of operations()) {
      const ok = op.responses?.["200"];
      const media = ok && (Object.values(ok.content ?? {})[0] as any);
      if (!media?.schema || media.example === undefined) {
        problems.push(`${method} ${path}: no 200 answer with schema and example`);
        continue;
      }
      for (const p of schemaProblems(media.schema, media.example)) problems.push(`${method} ${path} example: ${p}`);
    }
    expect(problems).toEqual([]);
    expect(operations().length).toBeGreaterThanOrEqual(27);
  });

  test("every error answer of the management routes is the error envelope, with an example", () => {
    const problems: string[] = [];
    for (const { method, path, op } of operations()) {
      if (OWN_ANSWERS.has(path)) continue;
      const errors = Object.entries(op.responses as Record<string, any>).filter(([status]) => Number(status) >= 400);
      if (path.startsWith("/api/") && !(method === "POST" && path === "/api/session") && !(method === "DELETE" && path === "/api/session") && !errors.some(([s]) => s === "401")) {
        problems.push(`${method} ${path}: 401 not declared`);
      }
      for (const [status, r] of errors) {
        const media = r.content?.["application/json"];
        if (!media?.schema?.properties?.error) problems.push(`${method} ${path} ${status}: not the error envelope`);
        else for (const p of schemaProblems(media.schema, media.example)) problems.push(`${method} ${path} ${status} example: ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("routes that need no key show no lock; the inbound postback and the webhook name their own key; the rest any of the API key forms", () => {
    const security = Object.fromEntries(operations().map(({ method, path, op }) => [`${method} ${path}`, op.security ?? "global"]));
    for (const open of ["GET /health", "GET /metrics", "POST /api/session", "DELETE /api/session", "GET /demo/postback", "GET /demo/received", "GET /c/{campaign}"]) expect([open, security[open]]).toEqual([open, []]);
    expect(security["GET /api/postback"]).toEqual([{ inboundKey: [] }]);
    expect(security["POST /telegram/{bot}"]).toEqual([{ webhookSecret: [] }]);
    for (const managed of ["GET /api/leads", "POST /api/events", "GET /api/stats", "GET /api/session"]) expect([managed, security[managed]]).toEqual([managed, "global"]);
    expect(spec.security).toEqual([{ apiKey: [] }, { apiKeyQuery: [] }, { dashboardSession: [] }]);
    expect(spec.components.securitySchemes.apiKeyQuery).toMatchObject({ type: "apiKey", in: "query", name: "key" });
    expect(spec.components.securitySchemes.inboundKey).toMatchObject({ type: "apiKey", in: "query", name: "key" });
  });

  test("the Idempotency-Key header, the query filters and the inbound parameters are documented", () => {
    const params = (method: string, path: string) => (spec.paths[path][method].parameters ?? []).map((p: any) => `${p.in}:${p.name}`);
    expect(params("post", "/api/events")).toContain("header:Idempotency-Key");
    expect(params("get", "/api/stats")).toEqual(expect.arrayContaining(["query:campaign", "query:since", "query:until", "query:tz"]));
    expect(params("get", "/api/postbacks")).toEqual(expect.arrayContaining(["query:state", "query:status", "query:campaign", "query:host", "query:since", "query:until", "query:before", "query:limit"]));
    expect(params("get", "/api/leads")).toEqual(expect.arrayContaining(["query:subscriber", "query:click", "query:username"]));
    expect(params("get", "/api/postback")).toEqual(expect.arrayContaining(["query:lead", "query:click", "query:status", "query:stn"]));
  });
});

interface Call {
  method: string;
  path: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

describe("real answers match the document", () => {
  test("every operation, called as documented, answers with a declared status and the declared shape", async () => {
    const key = { authorization: `Bearer ${API_KEY}` };
    const json = { "content-type": "application/json" };
    const signIn = await fetch(`${svc.url}/api/session`, { method: "POST", headers: json, body: JSON.stringify({ key: API_KEY }) });
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const calls: Call[] = [
      { method: "POST", path: "/api/session", url: "/api/session", headers: json, body: { key: API_KEY } },
      { method: "POST", path: "/api/session", url: "/api/session", headers: json, body: { key: "wrong" } },
      { method: "GET", path: "/api/session", url: "/api/session", headers: { cookie } },
      { method: "DELETE", path: "/api/session", url: "/api/session", headers: { cookie } },
      { method: "DELETE", path: "/api/session", url: "/api/session", headers: { cookie, "x-requested-with": "t" } },
      { method: "GET", path: "/health", url: "/health" },
      { method: "GET", path: "/metrics", url: "/metrics" },
      { method: "GET", path: "/api/journal", url: "/api/journal" },
      { method: "GET", path: "/api/journal", url: "/api/journal?limit=0" },
      { method: "POST", path: "/api/config/reload", url: "/api/config/reload" },
      { method: "GET", path: "/api/stats", url: "/api/stats?since=2020-01-01&tz=Europe/Moscow" },
      { method: "GET", path: "/api/stats", url: "/api/stats?tz=Nowhere/Else" },
      { method: "POST", path: "/api/events", url: "/api/events", headers: { ...json, "idempotency-key": "oa-1" }, body: { campaign: "c1", subscriber: 3, status: "wait", click: "k3" } },
      { method: "POST", path: "/api/events", url: "/api/events", headers: json, body: { campaign: "c1", subscriber: 3, status: "bogus" } },
      { method: "POST", path: "/api/events", url: "/api/events", headers: json, body: "{not json" },
      { method: "GET", path: "/api/leads", url: "/api/leads?username=ALICE" },
      { method: "GET", path: "/api/leads/{id}", url: "/api/leads/1" },
      { method: "GET", path: "/api/leads/{id}", url: "/api/leads/999" },
      { method: "GET", path: "/api/postbacks", url: "/api/postbacks?status=wait" },
      { method: "GET", path: "/api/postbacks/{id}", url: "/api/postbacks/1" },
      { method: "POST", path: "/api/postbacks/{id}/retry", url: "/api/postbacks/1/retry" },
      { method: "POST", path: "/api/postbacks/{id}/retry", url: "/api/postbacks/1/retry" }, // now queued: 409 (or delivered again: 200)
      { method: "POST", path: "/api/postbacks/retry", url: "/api/postbacks/retry", headers: json, body: { state: "delivered", dry_run: true } },
      { method: "GET", path: "/api/campaigns", url: "/api/campaigns" },
      { method: "POST", path: "/api/campaigns/{code}/test", url: "/api/campaigns/c1/test", headers: json, body: { status: "wait", send: true } },
      { method: "POST", path: "/api/campaigns/{code}/test", url: "/api/campaigns/nope/test" },
      { method: "GET", path: "/api/postback", url: `/api/postback?key=${INBOUND}&click=k1&status=hold` },
      { method: "GET", path: "/api/postback", url: `/api/postback?key=${INBOUND}&click=k1&status=hold` }, // no-changes
      { method: "GET", path: "/api/postback", url: `/api/postback?key=${INBOUND}&click=nope&status=hold` },
      { method: "POST", path: "/api/postback", url: "/api/postback", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `key=wrong&click=k1&status=approve` },
      { method: "GET", path: "/api/postback-log", url: "/api/postback-log" },
      { method: "GET", path: "/api/presets", url: "/api/presets" },
      { method: "GET", path: "/api/retention", url: "/api/retention?since=2020-01-01&by=quality" },
      { method: "GET", path: "/api/retention", url: "/api/retention?by=month" },
      { method: "GET", path: "/api/money", url: "/api/money?since=2020-01-01&tz=Europe/Moscow" },
      { method: "PUT", path: "/api/costs/{campaign}/{date}", url: "/api/costs/c1/2024-05-01", headers: json, body: { amount: "12.50", currency: "USD" } },
      { method: "PUT", path: "/api/costs/{campaign}/{date}", url: "/api/costs/c1/2024-02-30", headers: json, body: { amount: "1", currency: "USD" } },
      { method: "POST", path: "/api/costs/csv", url: "/api/costs/csv", headers: json, body: { csv: "c1,2024-05-02,3,EUR\n" } },
      { method: "POST", path: "/api/costs/csv", url: "/api/costs/csv", headers: json, body: { csv: "c1,2024-05-02,x,EUR\n" } },
      { method: "POST", path: "/api/leads/{id}/join-request", url: "/api/leads/1/join-request", headers: json, body: { decision: "approve" } },
      { method: "POST", path: "/telegram/{bot}", url: "/telegram/nosuch", headers: json, body: { update_id: 1 } },
      { method: "GET", path: "/api/bots", url: "/api/bots" },
      { method: "GET", path: "/api/hosts", url: "/api/hosts" },
      { method: "GET", path: "/api/alerts", url: "/api/alerts" },
      { method: "GET", path: "/api/export/leads", url: "/api/export/leads?campaign=c1" },
      { method: "GET", path: "/api/export/leads", url: "/api/export/leads?format=xml" },
      { method: "GET", path: "/api/export/postbacks", url: "/api/export/postbacks?format=jsonl" },
      { method: "GET", path: "/api/trace", url: "/api/trace?click=k1" },
      { method: "GET", path: "/api/trace", url: "/api/trace?subscriber=2" },
      { method: "GET", path: "/api/trace", url: "/api/trace" },
      { method: "GET", path: "/api/chats", url: "/api/chats" },
      { method: "GET", path: "/demo/postback", url: "/demo/postback?subid=x" },
      { method: "POST", path: "/demo/postback", url: "/demo/postback", body: "x=1" },
      { method: "GET", path: "/demo/received", url: "/demo/received" },
      // The click link of a campaign without a bot, and of none: plain pages (a redirect would leave 127.0.0.1).
      { method: "GET", path: "/c/{campaign}", url: "/c/c1?utm_source=fb" },
      { method: "GET", path: "/c/{campaign}", url: "/c/nope" },
    ];
    // Every management operation without a key: its declared 401.
    for (const { method, path } of operations()) {
      if (path.startsWith("/api/") && path !== "/api/postback" && !(path === "/api/session" && method !== "GET")) {
        calls.push({ method, path, url: path.replace("{id}", "1").replace("{code}", "c1").replace("{campaign}", "c1").replace("{date}", "2024-05-01"), headers: { authorization: "Bearer wrong" } });
      }
    }
    const covered = new Set(calls.map((c) => `${c.method} ${c.path}`));
    expect(operations().map((o) => `${o.method} ${o.path}`).filter((o) => !covered.has(o))).toEqual([]);

    const problems: string[] = [];
    for (const c of calls) {
      const usesKey = c.path.startsWith("/api/") && c.path !== "/api/postback" && c.path !== "/api/session" && !c.headers?.authorization;
      const res = await fetch(`${svc.url}${c.url}`, {
        method: c.method,
        headers: { ...(usesKey ? key : {}), ...c.headers },
        body: c.body === undefined ? undefined : typeof c.body === "string" ? c.body : JSON.stringify(c.body),
      });
      const text = await res.text();
      const declared = spec.paths[c.path][c.method.toLowerCase()].responses[String(res.status)];
      if (!declared) {
        problems.push(`${c.method} ${c.url} → ${res.status}, not declared: ${text.slice(0, 150)}`);
        continue;
      }
      // The declared media type the answer came as (an export answers CSV or JSON Lines), else the first.
      const media_types = Object.entries(declared.content as Record<string, any>);
      const [type, media] = media_types.find(([t]) => (res.headers.get("content-type") ?? "").startsWith(t)) ?? media_types[0]!;
      if (!(res.headers.get("content-type") ?? "").startsWith(type)) problems.push(`${c.method} ${c.url} → ${res.status} ${res.headers.get("content-type")}, declared ${type}`);
      const value = type === "application/json" ? JSON.parse(text) : text;
      for (const p of schemaProblems(media.schema, value)) problems.push(`${c.method} ${c.url} → ${res.status}: ${p}`);
    }
    expect(problems).toEqual([]);
  });
});
