import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeBotApi } from "../helpers/fake-bot-api/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker, ok, type Responder } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { listPostbacks } from "../helpers/service/api-client.ts";
import type { ConfigInput } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { openTestDb, queryDb } from "../helpers/service/database.ts";

const cleanup = cleanupAfterEach();
const BOT_TOKEN = "123456:ABC-delivery-token";

async function setup(opts: { responder?: Responder; config?: (t: RecordingTracker) => ConfigInput; clock?: FakeClock } = {}) {
  const tracker = await RecordingTracker.start(opts.responder);
  cleanup.push(() => tracker.close());
  const pb = (status: string) => `${tracker.base}/pb?click={click}&status=${status}&lead={lead}`;
  const config = opts.config?.(tracker) ?? {
    postbacks: { wait: pb("wait"), hold: pb("hold"), approve: pb("approve"), cancel: pb("cancel"), trash: pb("trash") },
    campaigns: [{ code: "c1" }],
  };
  const svc = await startTestService(config, { clock: opts.clock });
  cleanup.push(() => svc.stop());
  return { tracker, svc };
}

const event = (svc: TestService, body: Record<string, unknown>, headers?: Record<string, string>) =>
  svc.api("POST", "/api/events", { campaign: "c1", ...body }, headers);

describe("delivery", () => {
  test("every event's postbacks arrive with exactly the expected URLs", async () => {
    const { tracker, svc } = await setup({
      config: (t) => ({
        account_id: 7,
        postbacks: {
          wait: `${t.base}/g?c={click}&s={status}`,
          approve: [`${t.base}/a1?c={click}&u={user}&sub={subscriber}&n={username}`, { url: `${t.base}/a2`, json: { click: "{click}", lead: "{lead}" } }],
          cancel: "",
        },
        campaigns: [
          { code: "c1", chat: -100123, payouts: { approve: { payout: 2.5, currency: "USD" } } },
          { code: "own", postbacks: { approve: `${t.base}/own?c={click}&p={payout}{currency}&chat={chat}` } },
        ],
      }),
    });
    expect((await event(svc, { subscriber: 1, status: "wait", click: "a+b c/d=é" })).status).toBe(200);
    expect((await event(svc, { subscriber: 1, status: "approve", username: "@bob" })).status).toBe(200);
    expect((await event(svc, { subscriber: 1, status: "cancel" })).status).toBe(200); // empty global = off
    expect((await event(svc, { campaign: "own", subscriber: 2, status: "wait", click: "k" })).status).toBe(200); // campaign sets none for wait
    expect((await event(svc, { campaign: "own", subscriber: 2, status: "approve" })).status).toBe(200);
    await tracker.waitForCount(4);
    await eventually(async () => (await listPostbacks(svc, "&state=pending")).length === 0, 5000, "queue drained");
    const urls = tracker.received.map((r) => `${r.method} ${r.url}${r.body ? ` ${r.body}` : ""}`).sort();
    expect(urls).toEqual([
      "GET /a1?c=a%2Bb%20c%2Fd%3D%C3%A9&u=7&sub=1&n=bob",
      `POST /a2 {"click":"a+b c/d=é","lead":"1"}`,
      "GET /g?c=a%2Bb%20c%2Fd%3D%C3%A9&s=wait",
      "GET /own?c=k&p=&chat=",
    ].sort());
    expect(tracker.received.find((r) => r.path === "/a2")!.headers["content-type"]).toBe("application/json");
    expect(tracker.received.find((r) => r.path === "/a1")!.query.c).toBe("a+b c/d=é");
  });

  test("retries follow the ladder with the injected clock, then fail after the last step", async () => {
    const clock = new FakeClock();
    const { tracker, svc } = await setup({
      clock,
      responder: () => ({ status: 503 }),
      config: (t) => ({ postbacks: { wait: `${t.base}/pb?c={click}` }, campaigns: [{ code: "c1" }], delivery: { retry_ladder: ["0s", "10s", "1m", "5m"] } }),
    });
    const t0 = clock.now();
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    const ladder = [10_000, 60_000, 300_000];
    let elapsed = 0;
    for (const [i, step] of ladder.entries()) {
      await tracker.waitForCount(i + 1);
      await eventually(async () => (await listPostbacks(svc))[0].attempts === i + 1 && (await listPostbacks(svc))[0].next_attempt_at === new Date(t0 + elapsed + step).toISOString(), 5000, `attempt ${i + 1} recorded`);
      // The dispatcher arms its timer after the claim round that follows the outcome's commit.
      await eventually(() => clock.nextTimerIn() === step, 5000, `timer armed for ${step} ms`);
      clock.advance(step - 1);
      expect(tracker.received.length).toBe(i + 1); // not a millisecond early
      clock.advance(1);
      elapsed += step;
    }
    await tracker.waitForCount(4);
    await eventually(async () => (await listPostbacks(svc))[0].state === "failed", 5000, "failed");
    const [row] = await listPostbacks(svc);
    expect(row.reason).toContain("gave up after 4 attempts");
    expect(row.attempts).toBe(4);
    const detail = await svc.api("GET", `/api/postbacks/${row.id}`);
    expect(detail.body.attempts.map((a: any) => [a.attempt, a.http_status, a.outcome])).toEqual([[1, 503, "retry"], [2, 503, "retry"], [3, 503, "retry"], [4, 503, "retry"]]);
  });

  test("429 with Retry-After lengthens the step up to twice it, and never below 60 s", async () => {
    const clock = new FakeClock();
    const { tracker, svc } = await setup({
      clock,
      responder: (_r, i) => (i === 0 ? { status: 429, headers: { "retry-after": "15" } } : i === 1 ? { status: 429, headers: { "retry-after": "3600" } } : ok()),
    });
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    await tracker.waitForCount(1);
    // step 10 s, Retry-After 15 s (≤ 2×10 s) → 15 s, but the 429 floor makes it 60 s
    await eventually(async () => (await listPostbacks(svc))[0].attempts === 1 && clock.nextTimerIn() === 60_000, 5000, "first retry scheduled");
    clock.advance(60_000);
    await tracker.waitForCount(2);
    // step 1 min, Retry-After 1 h → capped at 2 min
    await eventually(async () => (await listPostbacks(svc))[0].attempts === 2 && clock.nextTimerIn() === 120_000, 5000, "second retry scheduled");
    clock.advance(120_000);
    await tracker.waitForCount(3);
    await eventually(async () => (await listPostbacks(svc))[0].state === "delivered", 5000, "delivered");
  });

  test("a hanging tracker times out and is retried no sooner than 60 s; a dropped connection is retried", async () => {
    const clock = new FakeClock();
    const { tracker, svc } = await setup({
      clock,
      responder: (r) => (r.query.c === "hang" ? "hang" : r.query.c === "drop" && tracker.received.filter((x) => x.query.c === "drop").length === 1 ? "close" : ok()),
      config: (t) => ({ postbacks: { wait: `${t.base}/pb?c={click}` }, campaigns: [{ code: "c1" }], delivery: { timeout_ms: 300 } }),
    });
    await event(svc, { subscriber: 1, status: "wait", click: "hang" });
    await event(svc, { subscriber: 2, status: "wait", click: "drop" });
    await eventually(async () => (await listPostbacks(svc)).every((p) => p.attempts === 1 && p.state === "pending" && p.reason), 5000, "both failed once");
    const rows = await listPostbacks(svc);
    const hang = rows.find((p) => p.url.includes("hang"))!;
    const drop = rows.find((p) => p.url.includes("drop"))!;
    expect(hang.reason).toStartWith("timeout");
    expect(new Date(hang.next_attempt_at).getTime() - clock.now()).toBe(60_000);
    expect(drop.reason).toStartWith("network");
    expect(new Date(drop.next_attempt_at).getTime() - clock.now()).toBe(10_000);
    clock.advance(10_000);
    await eventually(async () => (await listPostbacks(svc)).find((p) => p.id === drop.id).state === "delivered", 5000, "drop delivered");
  });

  test("per-lead order holds while another lead's postbacks flow", async () => {
    const clock = new FakeClock();
    let failA = true;
    const { tracker, svc } = await setup({ clock, responder: (r) => (r.query.click === "A" && failA ? { status: 500 } : ok()) });
    await event(svc, { subscriber: 1, status: "wait", click: "A" });
    await tracker.waitForCount(1);
    await event(svc, { subscriber: 1, status: "approve" });
    await event(svc, { subscriber: 2, status: "wait", click: "B" });
    await event(svc, { subscriber: 2, status: "approve" });
    await tracker.waitUntil((r) => r.filter((x) => x.query.click === "B").length === 2, 5000, "lead B delivered");
    await eventually(async () => (await listPostbacks(svc, "&state=pending")).length === 2, 5000, "B done");
    // A's approve waits behind A's retrying wait
    expect(tracker.received.filter((r) => r.query.click === "A").map((r) => r.query.status)).toEqual(["wait"]);
    failA = false;
    clock.advance(10_000);
    await tracker.waitUntil((r) => r.filter((x) => x.query.click === "A").length === 3, 5000, "lead A delivered");
    expect(tracker.received.filter((r) => r.query.click === "A").map((r) => r.query.status)).toEqual(["wait", "wait", "approve"]);
  });

  test("a rejected postback is not retried; bulk retry re-sends it", async () => {
    const clock = new FakeClock();
    let answer = 404;
    const { tracker, svc } = await setup({ clock, responder: () => ({ status: answer, body: "nope" }) });
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    await event(svc, { subscriber: 2, status: "wait", click: "y" });
    await eventually(async () => (await listPostbacks(svc, "&state=rejected")).length === 2, 5000, "rejected");
    const [row] = await listPostbacks(svc, "&state=rejected");
    expect(row.reason).toBe("http_404: nope"); // the tracker's words come along
    expect(clock.nextTimerIn()).not.toBe(10_000); // nothing scheduled for it
    clock.advance(86_400_000);
    await Bun.sleep(50);
    expect(tracker.received.length).toBe(2);

    answer = 200;
    const dry = await svc.api("POST", "/api/postbacks/retry", { state: "rejected", dry_run: true });
    expect(dry.body).toEqual({ dry_run: true, and_later: false, matched: 2, superseded: 0, held_back: 0, later: 0, queued: 2, retried: 0 });
    expect(tracker.received.length).toBe(2);
    const bulk = await svc.api("POST", "/api/postbacks/retry", { state: "rejected" });
    expect(bulk.body).toMatchObject({ dry_run: false, matched: 2, queued: 2, retried: 2 });
    await tracker.waitForCount(4);
    await eventually(async () => (await listPostbacks(svc, "&state=delivered")).length === 2, 5000, "delivered after retry");
    expect((await svc.api("POST", `/api/postbacks/${row.id}/retry`)).status).toBe(200);
    expect((await svc.api("POST", "/api/postbacks/999999/retry")).status).toBe(404);
    await tracker.waitForCount(5);
  });

  test("redirects: followed up to 3 hops, a 4th is refused, a hop to a private address is refused", async () => {
    const { tracker, svc } = await setup({
      responder: (r) => {
        const n = Number(r.query.n ?? 0);
        if (r.path === "/meta") return { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } };
        if (r.path === "/bad") return { status: 302, headers: { location: "http://[bad" } };
        if (r.path === "/r" && n < Number(r.query.max)) return { status: 302, headers: { location: `/r?max=${r.query.max}&n=${n + 1}` } };
        return ok();
      },
      config: (t) => ({
        postbacks: { wait: `${t.base}/r?max={click}`, approve: `${t.base}/meta?c={click}`, hold: `${t.base}/bad?c={click}` },
        campaigns: [{ code: "c1" }],
      }),
    });
    await event(svc, { subscriber: 1, status: "wait", click: "3" });
    await event(svc, { subscriber: 2, status: "wait", click: "4" });
    await event(svc, { subscriber: 3, status: "wait", click: "1" });
    await event(svc, { subscriber: 3, status: "approve" });
    await event(svc, { subscriber: 2, status: "hold" });
    await eventually(async () => (await listPostbacks(svc, "&state=pending")).length === 0, 5000, "all settled");
    const rows = await listPostbacks(svc);
    const byClick = (c: string) => rows.find((p) => p.url.endsWith(`max=${c}`));
    expect(byClick("3").state).toBe("delivered");
    expect(byClick("4").state).toBe("rejected");
    expect(byClick("4").reason).toContain("too_many_redirects");
    const meta = rows.find((p) => p.url.includes("/meta"));
    expect(meta.state).toBe("rejected");
    expect(meta.reason).toContain("169.254.169.254");
    // a Location that is not a URL: the answer of one request, not a sender that throws and re-sends each lease
    const bad = rows.find((p) => p.url.includes("/bad"));
    expect({ state: bad.state, attempts: bad.attempts }).toEqual({ state: "rejected", attempts: 1 });
    expect(bad.reason).toContain("malformed_url: redirect to an invalid Location");
    expect(tracker.received.filter((r) => r.path === "/bad")).toHaveLength(1);
  });

  test("a sender that throws counts as an attempt on the ladder and ends failed, instead of being sent again each lease", async () => {
    const api = await FakeBotApi.start();
    cleanup.push(() => api.close());
    api.addBot({ token: BOT_TOKEN, username: "tgcpa_test_bot" });
    const tracker = await RecordingTracker.start(() => ({ status: 503, body: "busy" }));
    cleanup.push(() => tracker.close());
    const dir = mkdtempSync(join(tmpdir(), "tgcpa-throwing-sender-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = {
      bots: { main: { token: BOT_TOKEN, mode: "polling", api_root: api.apiRoot } },
      postbacks: { wait: `${tracker.base}/pb?c={click}` },
      campaigns: [{ code: "c1" }],
      delivery: { retry_ladder: ["0s", "1h"] },
    };
    const first = await startTestService(config, { dir, keepDir: true });
    expect((await event(first, { subscriber: 1, status: "wait", click: "k" })).status).toBe(200);
    await eventually(async () => (await listPostbacks(first))[0]?.attempts === 1, 5000, "the first attempt recorded");
    await first.stop();
    // The row becomes a Bot API call whose body is not JSON: its sender throws while reading it.
    const db = await openTestDb(join(dir, "tgcpa.db"));
    await db.run("UPDATE postbacks SET channel = 'telegram', url = 'tg://main/welcome', body = 'not json', host = 'telegram:main', next_attempt_at = 0");
    await db.close();
    const svc = await startTestService({ ...config, delivery: { retry_ladder: ["0s", "50ms", "50ms"], lease_ms: 3000 } }, { dir, keepDir: true });
    cleanup.push(() => svc.stop());
    await eventually(async () => (await listPostbacks(svc))[0]?.state === "failed", 10_000, "failed at the end of the ladder");
    const [row] = await listPostbacks(svc);
    expect(row.attempts).toBe(3);
    expect(row.reason).toContain("last: internal: ");
    const { attempts } = (await svc.api("GET", `/api/postbacks/${row.id}`)).body;
    expect(attempts.map((a: { attempt: number; error: string }) => `${a.attempt} ${a.error.split(":")[0]}`).sort()).toEqual(["1 http_503", "2 internal", "3 internal"]);
    expect(svc.logs.join("")).toContain("sending a postback threw");
  }, 20_000);

  test("a blocked address is rejected without any request", async () => {
    const { tracker, svc } = await setup({
      config: (t) => ({ postbacks: { wait: `${t.base.replace("127.0.0.1", "localhost")}/pb?c={click}` }, campaigns: [{ code: "c1" }], delivery: { allow_hosts: [] } }),
    });
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    await eventually(async () => (await listPostbacks(svc))[0].state === "rejected", 5000, "rejected");
    expect((await listPostbacks(svc))[0].reason).toContain("blocked_address");
    expect(tracker.received.length).toBe(0);
  });

  test("per-host in-flight cap holds while the host hangs, and other hosts still flow", async () => {
    const slow = await RecordingTracker.start(() => "hang");
    cleanup.push(() => slow.close());
    const { tracker, svc } = await setup({
      config: (t) => ({
        postbacks: { wait: `${slow.base}/pb?c={click}`, approve: `${t.base}/pb?c={click}` },
        campaigns: [{ code: "c1" }],
        delivery: { per_host_in_flight: 3, max_in_flight: 10, timeout_ms: 10_000, lease_ms: 30_000 },
      }),
    });
    for (let i = 1; i <= 8; i++) await event(svc, { subscriber: i, status: "wait", click: `c${i}` });
    await slow.waitForCount(3);
    // approve of each lead goes to the other host; it is not held back by the hanging one
    // (different host, so no ordering constraint).
    for (let i = 1; i <= 8; i++) await event(svc, { subscriber: i, status: "approve" });
    await tracker.waitForCount(8);
    await eventually(() => svc.svc.deps.dispatcher.inFlightCount === 3, 5000, "only the hanging requests in flight");
    expect(slow.received.length).toBe(3);
  });

  test("circuit breaker pauses a failing host and probes it after the cool-down, losing nothing", async () => {
    const clock = new FakeClock();
    let down = true;
    const { tracker, svc } = await setup({
      clock,
      responder: () => (down ? { status: 503 } : ok()),
      config: (t) => ({
        postbacks: { wait: `${t.base}/pb?c={click}` },
        campaigns: [{ code: "c1" }],
        delivery: { circuit_failures: 3, circuit_cooldown: "5m", retry_ladder: ["0s", "1s", "1s", "1s", "1s", "1s"] },
      }),
    });
    for (let i = 1; i <= 5; i++) await event(svc, { subscriber: i, status: "wait", click: `c${i}` });
    await eventually(async () => (await listPostbacks(svc)).filter((p) => p.attempts >= 1).length >= 3, 5000, "3 failures");
    await Bun.sleep(50);
    const afterOpen = tracker.received.length;
    expect(afterOpen).toBeLessThan(5 + 1); // the circuit opened after the 3rd failure; no retry storm
    clock.advance(60_000); // retries are due, but the host is paused
    await Bun.sleep(50);
    expect(tracker.received.length).toBe(afterOpen);
    down = false;
    clock.advance(5 * 60_000); // cool-down over: one probe, then everything flows
    await eventually(async () => (await listPostbacks(svc, "&state=delivered")).length === 5, 5000, "all delivered");
    expect((await listPostbacks(svc)).every((p) => p.state === "delivered")).toBe(true);
  });

  test("a row claimed ahead for a busy host waits for a slot, and goes back unattempted when the host's circuit opens", async () => {
    const clock = new FakeClock();
    // The first request is answered after 1.5 s, with a 503; every later one at once, with a 200.
    const tracker = await RecordingTracker.start((_, i) => (i === 0 ? { status: 503 } : ok()), { delayMs: (_, i) => (i === 0 ? 1500 : 0) });
    cleanup.push(() => tracker.close());
    const svc = await startTestService({
      postbacks: { wait: `${tracker.base}/pb?c={click}` },
      campaigns: [{ code: "c1" }],
      delivery: { per_host_in_flight: 1, max_in_flight: 4, circuit_failures: 1, circuit_cooldown: "5m", retry_ladder: ["0s", "1s"] },
    }, { clock });
    cleanup.push(() => svc.stop());
    const leased = async () => (await queryDb<{ n: number }>(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM postbacks WHERE state = 'pending' AND lease_expires_at IS NOT NULL"))[0]!.n;
    for (let i = 1; i <= 3; i++) await event(svc, { subscriber: i, status: "wait", click: `c${i}` });
    // One request out (the host's cap), one more row claimed ahead, the third left in the database.
    await eventually(async () => (await leased()) === 2, 1000, "one sent, one queued");
    expect(tracker.received.length).toBe(1);
    expect(svc.svc.deps.dispatcher.inFlightCount).toBe(1); // a queued row is not a request in flight
    // The 503 opens the circuit: the queued row goes back without an attempt, nothing else is sent.
    await eventually(async () => (await leased()) === 0, 5000, "nothing held for the paused host");
    expect((await listPostbacks(svc)).map((p) => [p.state, p.attempts]).sort()).toEqual([["pending", 0], ["pending", 0], ["pending", 1]]);
    expect(tracker.received.length).toBe(1);
    clock.advance(5 * 60_000); // cool-down over: one probe, then everything flows
    await eventually(async () => (await listPostbacks(svc, "&state=delivered")).length === 3, 5000, "all delivered");
    expect(tracker.received.map((r) => r.query.c).sort()).toEqual(["c1", "c1", "c2", "c3"]); // only the 503 was sent twice
  });

  test("a row that waited for a slot so long that its lease could run out mid-request is given back and claimed afresh", async () => {
    const clock = new FakeClock();
    const tracker = await RecordingTracker.start(() => ok(), { delayMs: (_, i) => (i === 0 ? 1500 : 0) });
    cleanup.push(() => tracker.close());
    // timeout 2 s, lease 5 s (test defaults): a queued row may start within 3 s of its claim.
    const svc = await startTestService({
      postbacks: { wait: `${tracker.base}/pb?c={click}` },
      campaigns: [{ code: "c1" }],
      delivery: { per_host_in_flight: 1, max_in_flight: 4 },
    }, { clock });
    cleanup.push(() => svc.stop());
    const leased = async () => (await queryDb<{ n: number }>(`${svc.dir}/tgcpa.db`, "SELECT count(*) AS n FROM postbacks WHERE state = 'pending' AND lease_expires_at IS NOT NULL"))[0]!.n;
    for (let i = 1; i <= 2; i++) await event(svc, { subscriber: i, status: "wait", click: `c${i}` });
    await eventually(async () => (await leased()) === 2, 1000, "one sent, one queued");
    clock.advance(3_001); // the queued row's lease would now end before a 2 s request could
    await eventually(async () => (await listPostbacks(svc, "&state=delivered")).length === 2, 5000, "both delivered");
    expect(svc.logs.some((l) => l.includes("queued postbacks given back"))).toBe(true);
    expect((await listPostbacks(svc)).map((p) => p.attempts)).toEqual([1, 1]); // the given-back row was not attempted twice
    expect(tracker.received.map((r) => r.query.c).sort()).toEqual(["c1", "c2"]);
  });

  test("the attempt log keeps the first 1 KiB of the body", async () => {
    const { svc } = await setup({ responder: () => ({ status: 400, body: "é".repeat(2000) }) });
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    await eventually(async () => (await listPostbacks(svc))[0].state === "rejected", 5000, "rejected");
    const detail = await svc.api("GET", `/api/postbacks/${(await listPostbacks(svc))[0].id}`);
    const head: string = detail.body.attempts[0].response_head;
    expect(Buffer.byteLength(head)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(head)).toBeGreaterThan(1000);
    expect(head).toBe("é".repeat(512));
    expect(detail.body.attempts[0].url).toContain("/pb?click=x");
  });

  test("a paused campaign records status changes but skips their postbacks", async () => {
    const { tracker, svc } = await setup({
      config: (t) => ({ postbacks: { wait: `${t.base}/w?c={click}`, approve: `${t.base}/a?c={click}` }, campaigns: [{ code: "c1" }] }),
    });
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    await tracker.waitForCount(1);
    const cfg = JSON.parse(await Bun.file(svc.configPath).text());
    cfg.campaigns[0].paused = true;
    svc.writeConfig(cfg);
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    const approve = await event(svc, { subscriber: 1, status: "approve" });
    expect(approve.body.applied).toBe(true);
    expect(approve.body.postbacks.map((p: any) => [p.state, p.reason])).toEqual([["skipped", "campaign_paused"]]);
    const newLead = await event(svc, { subscriber: 2, status: "wait", click: "y" });
    expect(newLead.body).toMatchObject({ applied: false, reason: "campaign_paused", lead: null });
    await Bun.sleep(50);
    expect(tracker.received.length).toBe(1);
  });
});
