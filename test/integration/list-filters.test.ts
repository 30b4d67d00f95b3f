/**
 * Filters say no (issue 12): an unknown query parameter or body field on a management route is a
 * 422 naming it (a typo like `?statu=approve` must not list everything, nor `{"dryrun": true}`
 * re-send everything), `?key=` is accepted everywhere, and
 * the OpenAPI document lists every filter a list endpoint takes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

let svc: TestService;
let tracker: RecordingTracker;

beforeAll(async () => {
  tracker = await RecordingTracker.start();
  svc = await startTestService({
    postbacks: { wait: `${tracker.base}/pb?c={click}&s={status}`, approve: `${tracker.base}/pb?c={click}&s={status}` },
    campaigns: [{ code: "c1" }],
  });
  for (const [subscriber, status] of [[1, "wait"], [1, "approve"], [2, "wait"]] as const) {
    expect((await svc.api("POST", "/api/events", { campaign: "c1", subscriber, status, click: `k${subscriber}` })).status).toBe(200);
  }
  await tracker.waitForCount(3);
  await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 5000, "delivered");
});

afterAll(async () => {
  await svc?.stop();
  await tracker?.close();
});

const LIST_ENDPOINTS = [
  "/api/leads", "/api/postbacks", "/api/journal", "/api/postback-log", "/api/stats", "/api/campaigns", "/api/bots", "/api/chats", "/api/presets",
  "/api/hosts", "/api/alerts", "/api/export/leads", "/api/export/postbacks",
];

describe("unknown query parameters", () => {
  test.each(LIST_ENDPOINTS)("GET %s?statu=approve → 422 naming query.statu", async (path) => {
    const res = await svc.api("GET", `${path}?statu=approve`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toStartWith("query.statu: unknown parameter");
    expect(res.body.error.details).toEqual([{ field: "query.statu", message: expect.stringContaining("unknown parameter") }]);
  });

  test.each(LIST_ENDPOINTS)("GET %s?key=API_KEY is accepted (the key may travel in the query)", async (path) => {
    const res = await fetch(`${svc.url}${path}?key=${API_KEY}`);
    expect(res.status).toBe(200);
  });

  test("every unknown parameter is named, and the known ones are listed", async () => {
    const res = await svc.api("GET", "/api/postbacks?state=delivered&foo=1&bar=2");
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: any) => d.field)).toEqual(["query.foo", "query.bar"]);
    expect(res.body.error.details[0].message).toContain("known: state, lead, status, campaign, host, since, until, before, limit");
  });

  test("filters sent in the query of a POST route are refused, not ignored (a bulk retry would hit every row)", async () => {
    const res = await svc.api("POST", "/api/postbacks/retry?campaign=c1", { dry_run: true });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([{ field: "query.campaign", message: expect.stringContaining("unknown parameter") }]);
  });
});

describe("unknown body fields", () => {
  test("a misspelt field of a bulk retry is refused, not dropped: {dryrun} would re-send, {campain} would match every campaign", async () => {
    const delivered = (await svc.api("GET", "/api/postbacks?state=delivered")).body.items.length;
    for (const body of [{ state: "delivered", dryrun: true }, { state: "delivered", campain: "other" }]) {
      const res = await svc.api("POST", "/api/postbacks/retry", body);
      const field = Object.keys(body)[1];
      expect({ status: res.status, details: res.body.error?.details }).toEqual({
        status: 422, details: [{ field: `body.${field}`, message: expect.stringContaining("unknown field (known: state, status, campaign") }],
      });
    }
    // a JSON array is not read as an empty filter (every failed row)
    const array = await svc.api("POST", "/api/postbacks/retry", []);
    expect({ status: array.status, details: array.body.error?.details }).toEqual({ status: 422, details: [{ field: "body", message: "must be a JSON object" }] });
    expect((await svc.api("GET", "/api/postbacks?state=delivered")).body.items.length).toBe(delivered); // nothing was queued again
  });

  test("an event with a misspelt field is refused and writes nothing (a lead without its click would be recorded)", async () => {
    const leads = (await svc.api("GET", "/api/leads")).body.items.length;
    const res = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 9, status: "wait", clikc: "k9" });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toStartWith("body.clikc: unknown field (known: campaign, subscriber, status, click");
    expect((await svc.api("GET", "/api/leads")).body.items.length).toBe(leads);
  });
});

describe("GET /api/postbacks?status=", () => {
  test("filters by the lead status a postback reports", async () => {
    const approve = await svc.api("GET", "/api/postbacks?status=approve");
    expect(approve.status).toBe(200);
    expect(approve.body.items.map((p: any) => p.status)).toEqual(["approve"]);
    const wait = await svc.api("GET", "/api/postbacks?status=wait&state=delivered");
    expect(wait.body.items.map((p: any) => p.status)).toEqual(["wait", "wait"]);
    const bad = await svc.api("GET", "/api/postbacks?status=approved");
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].field).toBe("query.status");
  });

  test("bulk retry takes the same status filter", async () => {
    const res = await svc.api("POST", "/api/postbacks/retry", { state: "delivered", status: "approve", dry_run: true });
    expect(res.body).toMatchObject({ dry_run: true, matched: 1, retried: 0 });
  });
});

describe("the OpenAPI document lists the filters", () => {
  const EXPECTED: Record<string, string[]> = {
    "/api/leads": ["campaign", "status", "subscriber", "click", "username", "since", "until", "before", "limit"],
    "/api/export/leads": ["campaign", "status", "subscriber", "click", "username", "since", "until", "format"],
    "/api/export/postbacks": ["state", "status", "lead", "campaign", "host", "since", "until", "format"],
    "/api/trace": ["click", "subscriber"],
    "/api/postbacks": ["state", "status", "lead", "campaign", "host", "since", "until", "before", "limit"],
    "/api/journal": ["kind", "before", "limit"],
    "/api/postback-log": ["result", "before", "limit"],
    "/api/stats": ["campaign", "since", "until", "tz", "group"],
  };
  test.each(Object.entries(EXPECTED))("%s documents %p", async (path, names) => {
    const spec = (await (await fetch(`${svc.url}/swagger/json`)).json()) as any;
    const params = (spec.paths[path].get.parameters ?? []) as { name: string; in: string; description?: string }[];
    expect(params.filter((p) => p.in === "query").map((p) => p.name).sort()).toEqual([...names].sort());
    const status = params.find((p) => p.name === "status");
    if (path === "/api/postbacks") expect(JSON.stringify(status)).toContain("approve");
  });

  test("the key in the query is documented as a way to authenticate", async () => {
    const spec = (await (await fetch(`${svc.url}/swagger/json`)).json()) as any;
    expect(spec.components.securitySchemes.apiKeyQuery).toMatchObject({ type: "apiKey", in: "query", name: "key" });
  });
});
