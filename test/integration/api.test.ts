import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { API_KEY, type ConfigInput } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { onPostgres, openTestDb, queryDb } from "../helpers/service/database.ts";

const cleanup = cleanupAfterEach();

const INBOUND_KEY = "ik-1-0123456789abcdef0123456789abcdef";

async function setup(config: (t: RecordingTracker) => ConfigInput = (t) => ({
  postbacks: { wait: `${t.base}/pb?c={click}&s={status}`, approve: `${t.base}/pb?c={click}&s={status}` },
  campaigns: [{ code: "c1" }, { code: "c2", unsub_window: "1h" }],
}), clock?: FakeClock) {
  const tracker = await RecordingTracker.start();
  cleanup.push(() => tracker.close());
  const svc = await startTestService(config(tracker), { clock });
  cleanup.push(() => svc.stop());
  return { tracker, svc };
}

/** Row counts of every table that an event writes. */
async function counts(svc: TestService) {
  const db = await svc.db({ readonly: true });
  try {
    const n = async (t: string) => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n;
    return { leads: await n("leads"), events: await n("lead_events"), postbacks: await n("postbacks"), journal: await n("journal"), idem: await n("idempotency_keys") };
  } finally {
    await db.close();
  }
}

describe("API key", () => {
  test("every /api route refuses a missing or wrong key; Bearer and ?key= are accepted", async () => {
    // every wrong key here must get its 401 (the limit on wrong keys: test/security/key-guessing.test.ts)
    const { svc } = await setup(() => ({ campaigns: [{ code: "c1" }], rate_limits: { api_key_failures_per_minute: 0, api_key_failures_all_per_minute: 0 } }));
    const routes: [string, string][] = [
      ["POST", "/api/events"], ["GET", "/api/leads"], ["GET", "/api/leads/1"], ["GET", "/api/postbacks"], ["GET", "/api/postbacks/1"],
      ["POST", "/api/postbacks/1/retry"], ["POST", "/api/postbacks/retry"], ["GET", "/api/campaigns"], ["POST", "/api/campaigns/c1/test"],
      ["GET", "/api/stats"], ["GET", "/api/journal"], ["POST", "/api/config/reload"], ["GET", "/api/unknown"],
    ];
    for (const [method, path] of routes) {
      for (const auth of [{}, { authorization: "Bearer wrong" }, { authorization: `Bearer ${API_KEY}x` }] as Record<string, string>[]) {
        const res = await fetch(`${svc.url}${path}`, { method, headers: auth });
        expect({ path, status: res.status }).toEqual({ path, status: 401 });
        expect(((await res.json()) as any).error.code).toBe("unauthorized");
      }
    }
    expect((await fetch(`${svc.url}/api/leads?key=${API_KEY}`)).status).toBe(200);
    expect((await fetch(`${svc.url}/api/leads`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(200);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    expect(svc.logs.join("")).not.toContain(API_KEY);
  });
});

describe("POST /api/events", () => {
  test("bad input gets 422 naming the field, and nothing is written", async () => {
    const { svc } = await setup();
    const before = await counts(svc);
    const cases: [unknown, string][] = [
      [{ campaign: "c1", subscriber: 1, status: "joined" }, "body.status"],
      [{ campaign: "c1", subscriber: "abc", status: "wait" }, "body.subscriber"],
      [{ campaign: "c1", subscriber: 1.5, status: "wait" }, "body.subscriber"],
      [{ subscriber: 1, status: "wait" }, "body.campaign"],
      [{ campaign: "nope", subscriber: 1, status: "wait" }, "body.campaign"], // known to the schema, unknown to the config: the same name
      [{ campaign: "c1", subscriber: 1, status: "wait", time: -5 }, "body.time"],
      [{ campaign: "c1", subscriber: 1, status: "wait", click: "x".repeat(5000) }, "body.click"],
    ];
    for (const [body, field] of cases) {
      const res = await svc.api("POST", "/api/events", body);
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    const raw = await fetch(`${svc.url}/api/events`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: "{not json" });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as any).error.code).toBe("malformed_body");
    expect(await counts(svc)).toEqual(before);
  });

  test("a lone UTF-16 surrogate in any text field is a 422 naming the field, and nothing is written", async () => {
    const { svc } = await setup();
    const before = await counts(svc);
    const post = (path: string, text: string) =>
      fetch(`${svc.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: text });
    // JSON text, so the surrogates arrive exactly as a client would send them
    const cases: [string, string, string][] = [
      ["/api/events", '{"campaign":"c1","subscriber":1,"status":"wait","click":"\\ud800"}', "body.click"],
      ["/api/events", '{"campaign":"c1","subscriber":1,"status":"wait","username":"ab\\udfffcd"}', "body.username"],
      ["/api/events", '{"campaign":"c\\ud800","subscriber":1,"status":"wait"}', "body.campaign"],
      ["/api/postbacks/retry", '{"campaign":"\\ud800","dry_run":true}', "body.campaign"],
      ["/api/campaigns/c1/test", '{"click":"\\ud800"}', "body.click"],
    ];
    for (const [path, text, field] of cases) {
      const res = await post(path, text);
      const body = (await res.json()) as any;
      expect({ path, field, status: res.status, code: body.error?.code }).toEqual({ path, field, status: 422, code: "validation_failed" });
      expect(body.error.details).toEqual([{ field, message: expect.stringContaining("lone UTF-16 surrogate") }]);
    }
    expect(await counts(svc)).toEqual(before);
    expect(svc.logs.filter((l) => /"level":"(error|fatal)"/.test(l))).toEqual([]);
  });

  test("Idempotency-Key: the same request replays the first answer, another body with the key is refused", async () => {
    const { tracker, svc } = await setup();
    const body = { campaign: "c1", subscriber: 5, status: "wait", click: "k1" };
    const first = await svc.api("POST", "/api/events", body, { "idempotency-key": "evt-1" });
    const again = await svc.api("POST", "/api/events", body, { "idempotency-key": "evt-1" });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const other = await svc.api("POST", "/api/events", { ...body, click: "k2" }, { "idempotency-key": "evt-1" });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    await tracker.waitForCount(1);
    await Bun.sleep(30);
    expect(tracker.received.length).toBe(1);
    expect(await counts(svc)).toMatchObject({ leads: 1, events: 1, postbacks: 1, idem: 1 });
  });

  test("concurrent events share commits: a bad one in the batch fails alone, a repeated Idempotency-Key writes once", async () => {
    const { tracker, svc } = await setup();
    const before = await counts(svc);
    const requests = [
      ...Array.from({ length: 40 }, (_, i) => svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1000 + i, status: "wait", click: `k${i}` })),
      svc.api("POST", "/api/events", { campaign: "missing", subscriber: 1, status: "wait" }),
      ...Array.from({ length: 5 }, () => svc.api("POST", "/api/events", { campaign: "c1", subscriber: 2000, status: "wait", click: "same" }, { "idempotency-key": "dup-key" })),
    ];
    const answers = await Promise.all(requests);
    expect(answers.slice(0, 40).every((a) => a.status === 200 && a.body.applied)).toBe(true);
    expect(answers[40]!.status).toBe(422);
    const dup = answers.slice(41);
    expect(dup.every((a) => a.status === 200)).toBe(true);
    expect(new Set(dup.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(await counts(svc)).toMatchObject({ leads: before.leads + 41, events: before.events + 41, postbacks: before.postbacks + 41, idem: 1 });
    await tracker.waitForCount(41);
  });

  test("lifecycle through the API: duplicates, first click wins, organic join applied to a later Start", async () => {
    const { svc } = await setup();
    const post = (b: object) => svc.api("POST", "/api/events", { campaign: "c1", ...b }).then((r) => r.body);
    expect(await post({ subscriber: 1, status: "wait" })).toMatchObject({ applied: true, lead: { click: "", status: "wait" } });
    const clickAdded = await post({ subscriber: 1, status: "wait", click: "late" });
    expect(clickAdded).toMatchObject({ applied: true, reason: "click_added", lead: { click: "late" } });
    expect(clickAdded.postbacks).toHaveLength(1);
    expect(await post({ subscriber: 1, status: "wait", click: "other" })).toMatchObject({ applied: false, reason: "duplicate", lead: { click: "late" } });
    expect(await post({ subscriber: 1, status: "cancel" })).toMatchObject({ applied: false, reason: "transition_not_allowed", message: expect.stringContaining("cannot go to cancel") });

    // a join with no lead is journaled; the Start that follows within 120 s turns it into approve
    const organic = await post({ subscriber: 2, status: "approve" });
    expect(organic).toMatchObject({ applied: false, reason: "no_lead", lead: null });
    // …and the answer says so in words, with how long the Start has
    expect(organic.message).toBe("no lead for this subscriber in this campaign: the join was kept as an organic join (GET /api/journal); if the subscriber's Start arrives within 120 s, it becomes the new lead's approve");
    const journal = await svc.api("GET", "/api/journal?kind=organic_join");
    expect(journal.body.items).toHaveLength(1);
    expect(journal.body.items[0]).toMatchObject({ campaign: "c1", subscriber: 2 });
    const start = await post({ subscriber: 2, status: "wait", click: "z" });
    expect(start.events.map((e: any) => e.status)).toEqual(["wait", "approve"]);
    expect(start.lead.status).toBe("approve");
    expect(start.postbacks.map((p: any) => p.url)).toEqual([expect.stringContaining("s=wait"), expect.stringContaining("s=approve")]);

    const lead = await svc.api("GET", `/api/leads/${start.lead.id}`);
    expect(lead.body.events.map((e: any) => e.status)).toEqual(["wait", "approve"]);
    expect(lead.body.postbacks).toHaveLength(2);
    const list = await svc.api("GET", "/api/leads?campaign=c1&status=approve");
    expect(list.body.items.map((l: any) => l.subscriber)).toEqual([2]);
    expect((await svc.api("GET", "/api/leads/999")).status).toBe(404);
  });

  test("an organic join older than 120 s stays organic", async () => {
    const clock = new FakeClock();
    const { svc } = await setup(undefined, clock);
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 3, status: "approve" });
    clock.advance(121_000);
    const start = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 3, status: "wait", click: "q" });
    expect(start.body.events.map((e: any) => e.status)).toEqual(["wait"]);
  });

  test("unsubscribe window: a leave after the window changes the status but fires no postback", async () => {
    const clock = new FakeClock();
    const { svc } = await setup((t) => ({
      postbacks: { wait: `${t.base}/w`, approve: `${t.base}/a`, cancel: `${t.base}/c` },
      campaigns: [{ code: "c2", unsub_window: "1h" }],
    }), clock);
    const post = (b: object) => svc.api("POST", "/api/events", { campaign: "c2", ...b }).then((r) => r.body);
    await post({ subscriber: 1, status: "wait", click: "a" });
    await post({ subscriber: 1, status: "approve" });
    clock.advance(3_600_001);
    const late = await post({ subscriber: 1, status: "cancel" });
    expect(late).toMatchObject({ applied: true, reason: "outside_unsub_window", lead: { status: "cancel" }, postbacks: [] });
    const rejoin = await post({ subscriber: 1, status: "approve" });
    expect(rejoin.postbacks).toHaveLength(1);
    clock.advance(60_000);
    expect((await post({ subscriber: 1, status: "cancel" })).postbacks).toHaveLength(1); // re-join re-anchored the window
  });
});

describe("operations", () => {
  test("config reload applies a valid file and keeps the running config on an invalid one", async () => {
    const { svc } = await setup();
    const cfg = JSON.parse(await Bun.file(svc.configPath).text());
    svc.writeConfig({ ...cfg, campaigns: [...cfg.campaigns, { code: "c3" }] });
    const ok = await svc.api("POST", "/api/config/reload");
    expect(ok.body).toMatchObject({ status: "ok", campaigns: 3 });
    svc.writeConfig({ ...cfg, campaigns: [{ code: "bad-code" }, { code: "c1", postbacks: { approve: "https://x.example/?c={clik}" } }] });
    const bad = await svc.api("POST", "/api/config/reload");
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("invalid_config");
    expect(bad.body.error.details.map((d: any) => d.path)).toEqual(["campaigns[0].code", "campaigns[1].postbacks.approve"]);
    expect(bad.body.error.details[1].message).toContain("{clik}");
    const campaigns = await svc.api("GET", "/api/campaigns");
    expect(campaigns.body.items.map((c: any) => c.code)).toEqual(["c1", "c2", "c3"]);
  });

  test("campaigns list effective templates and counters; the test endpoint renders and sends", async () => {
    const { tracker, svc } = await setup((t) => ({
      postbacks: { wait: `${t.base}/g?c={click}` },
      campaigns: [{ code: "c1" }, { code: "own", postbacks: { approve: `${t.base}/own?c={click}&s={status}` } }],
    }));
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "x" });
    await tracker.waitForCount(1);
    await eventually(async () => (await svc.api("GET", "/api/campaigns")).body.items[0].counters.postbacks.delivered === 1, 5000, "counter");
    const { items } = (await svc.api("GET", "/api/campaigns")).body;
    expect(items[0]).toMatchObject({ code: "c1", templates_from: "global", start_payload: "c1-{click}", counters: { starts: 1, confirms: 0, unsubs: 0 } });
    expect(items[0].templates.wait[0].url).toBe(`${tracker.base}/g?c={click}`);
    expect(items[1]).toMatchObject({ code: "own", templates_from: "campaign", templates: { wait: [], approve: [{ template: "campaigns[1].postbacks.approve" }] } });

    const dry = await svc.api("POST", "/api/campaigns/own/test", { click: "t+1" });
    expect(dry.body.requests.map((r: any) => r.url)).toEqual([`${tracker.base}/own?c=t%2B1&s=approve`]);
    expect(tracker.received.length).toBe(1);
    const sent = await svc.api("POST", "/api/campaigns/own/test", { click: "t+1", send: true });
    expect(sent.body.requests[0].result).toMatchObject({ outcome: "delivered", http_status: 200 });
    expect(tracker.received.at(-1)!.query.c).toBe("t+1");
    // a sample lead without a click: the {click} URL is not sent, as for a real lead
    const noClick = await svc.api("POST", "/api/campaigns/own/test", { click: "", send: true });
    expect(noClick.body.requests[0].result).toEqual({ outcome: "skipped", reason: "no_click", http_status: null, response_head: null });
    expect(tracker.received.length).toBe(2);
    expect((await svc.api("POST", "/api/campaigns/none/test", {})).status).toBe(404);
  });

  test("health, metrics, stats and swagger", async () => {
    const { tracker, svc } = await setup();
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "x" });
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "x" });
    await tracker.waitForCount(1);
    await eventually(async () => (await (await fetch(`${svc.url}/metrics`)).text()).includes('tgcpa_postbacks{state="delivered"} 1'), 5000, "metrics");
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('tgcpa_events_total{status="wait",result="applied"} 1');
    expect(metrics).toContain('tgcpa_events_total{status="wait",result="ignored"} 1');
    expect(metrics).toContain('tgcpa_postback_attempts_total{outcome="delivered"} 1');
    expect(metrics).toMatch(/tgcpa_queue_depth 0/);
    expect(metrics).toMatch(/tgcpa_oldest_due_age_seconds 0/);
    expect(await (await fetch(`${svc.url}/health`)).json()).toMatchObject({ status: "ok", db: "ok" });
    const stats = await svc.api("GET", "/api/stats");
    expect(stats.body.items).toEqual([expect.objectContaining({ campaign: "c1", wait: 1, approve: 0 })]);
    expect((await svc.api("GET", "/api/stats?since=yesterday")).status).toBe(422);
    // the far end of the calendar: the last days taken answer, later ones are refused naming the bound (was a 500)
    expect((await svc.api("GET", "/api/stats?since=9999-12-28&until=9999-12-29T23:00&tz=Pacific/Kiritimati")).status).toBe(200);
    expect((await svc.api("GET", "/api/stats?since=9999-12-28&until=9999-12-29&tz=Etc/GMT%2B12")).status).toBe(200);
    const late = await svc.api("GET", "/api/stats?since=9999-12-31&until=9999-12-31T23:59:59Z");
    expect({ status: late.status, field: late.body.error?.details?.[0]?.field }).toEqual({ status: 422, field: "query.since" });
    const spec = (await (await fetch(`${svc.url}/swagger/json`)).json()) as { paths: Record<string, unknown> };
    for (const path of ["/api/events", "/api/leads", "/api/leads/{id}", "/api/postbacks", "/api/postbacks/{id}/retry", "/api/postbacks/retry", "/api/campaigns", "/api/campaigns/{code}/test", "/api/stats", "/api/config/reload", "/health", "/metrics"]) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
    expect((await fetch(`${svc.url}/swagger`)).headers.get("content-type")).toContain("text/html");
  });

  test("graceful stop lets in-flight requests finish within the grace period, then releases the rest", async () => {
    const tracker = await RecordingTracker.start(() => "hang");
    cleanup.push(() => tracker.close());
    const svc = await startTestService({ postbacks: { wait: `${tracker.base}/pb?c={click}` }, campaigns: [{ code: "c1" }], delivery: { timeout_ms: 10_000, lease_ms: 60_000 } }, { keepDir: true });
    for (let i = 1; i <= 3; i++) await svc.api("POST", "/api/events", { campaign: "c1", subscriber: i, status: "wait", click: `c${i}` });
    await tracker.waitForCount(3);
    await svc.stop();
    const rows = await queryDb(`${svc.dir}/tgcpa.db`, "SELECT state, lease_expires_at AS lease, attempts FROM postbacks");
    expect(rows).toEqual([{ state: "pending", lease: null, attempts: 0 }, { state: "pending", lease: null, attempts: 0 }, { state: "pending", lease: null, attempts: 0 }]);
    // started again, the released rows go out at once
    tracker.respond(() => ({ status: 200 }));
    const again = await startTestService(() => JSON.parse(require("node:fs").readFileSync(svc.configPath, "utf8")), { dir: svc.dir });
    cleanup.push(() => again.stop());
    await tracker.waitForCount(6);
  });

  test("retention prunes old delivered rows and their attempts, keeps everything else", async () => {
    const clock = new FakeClock();
    const { tracker, svc } = await setup((t) => ({
      postbacks: { wait: `${t.base}/pb?c={click}` },
      campaigns: [{ code: "c1" }],
      delivery: { retention: "1d" },
    }), clock);
    tracker.respond((r) => (r.query.c === "bad" ? { status: 404 } : { status: 200 }));
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "wait", click: "good" });
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 2, status: "wait", click: "bad" });
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 5000, "settled");
    // A busy day's worth more of delivered rows, each with its attempt: more than one pruning batch (5,000).
    const seed = await svc.db();
    const cols = (await seed.all<{ name: string }>(onPostgres
      ? "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'postbacks' ORDER BY ordinal_position"
      : "SELECT name FROM pragma_table_info('postbacks')")).map((c) => c.name).filter((n) => n !== "id").join(", ");
    await seed.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
      INSERT INTO postbacks (${cols}) SELECT ${cols} FROM postbacks, n WHERE state = 'delivered'`);
    await seed.run(`INSERT INTO delivery_attempts (postback_id, attempt, started_at, duration_ms, url, http_status, outcome)
      SELECT p.id, 1, p.created_at, 1, p.url, 200, 'delivered' FROM postbacks p WHERE p.state = 'delivered' AND NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.postback_id = p.id)`);
    expect(await seed.get("SELECT count(*) AS n FROM postbacks WHERE state = 'delivered'")).toEqual({ n: 12_001 });
    await seed.close();
    clock.advance(86_400_000 + 3_600_000); // past retention, and the hourly pruning timer has fired
    const states = async () => (await svc.api("GET", "/api/postbacks")).body.items.map((p: any) => p.state);
    await eventually(async () => (await states()).length === 1, 5000, "the hourly run pruned"); // its batches are writes of their own
    expect(await states()).toEqual(["rejected"]); // one hourly run prunes them all, not one batch
    expect(await queryDb(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM delivery_attempts")).toEqual([{ n: 1 }]);
    expect(await queryDb(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM leads")).toEqual([{ n: 2 }]);
  });
});

describe("retention of the logs", () => {
  test("inbound log and journal entries older than delivery.retention are pruned by the hourly run; newer ones stay", async () => {
    const clock = new FakeClock();
    const { svc } = await setup(() => ({ inbound_keys: [INBOUND_KEY], campaigns: [{ code: "c1" }], delivery: { retention: "1d" } }), clock);
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 1, status: "approve" }); // organic join: journal
    expect((await fetch(`${svc.url}/api/postback?key=wrong&click=x`)).status).toBe(403);
    expect((await fetch(`${svc.url}/api/postback?key=${INBOUND_KEY}&click=x&status=approve`)).status).toBe(404);
    clock.advance(12 * 3_600_000);
    await svc.api("POST", "/api/events", { campaign: "c1", subscriber: 2, status: "approve" }); // 12 h younger
    expect((await fetch(`${svc.url}/api/postback?key=${INBOUND_KEY}&click=y&status=approve`)).status).toBe(404);
    const rows = async () => {
      const db = await openTestDb(`${svc.dir}/tgcpa.db`, { readonly: true });
      try {
        return {
          journal: await db.all("SELECT subscriber FROM journal ORDER BY id"),
          inbound: (await db.all<{ params: string }>("SELECT params FROM inbound_log ORDER BY id")).map((r) => ({ click: JSON.parse(r.params).click ?? null })),
        };
      } finally {
        await db.close();
      }
    };
    expect(await rows()).toEqual({ journal: [{ subscriber: 1 }, { subscriber: 2 }], inbound: [{ click: null }, { click: "x" }, { click: "y" }] });
    clock.advance(13 * 3_600_000); // the first entries are now 25 h old, the others 13 h; the hourly run has fired
    await eventually(async () => (await rows()).journal.length === 1, 5000, "the hourly run pruned"); // its batches are writes of their own
    expect(await rows()).toEqual({ journal: [{ subscriber: 2 }], inbound: [{ click: "y" }] });
  });
});
