/**
 * Postback outcomes a buyer can trust (issue 12): fake trackers answering with the words and
 * statuses of shared/reference/trackers.md — genuine Keitaro, the Keitaro-compatible self-hosted
 * tracker, its HTML login page — against the real dispatcher. Each outcome, each reason; nothing
 * retried that was refused, nothing refused that was recorded; no request that cannot count; the
 * warn line and the per-host counters.
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker, FakeKeitaro, FakeKeitaroCompatible } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { applyEvent, listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import type { ConfigInput } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();

async function service(config: ConfigInput, clock = new FakeClock()) {
  const svc = await startTestService(config, { clock });
  cleanup.push(() => svc.stop());
  return { svc, clock };
}

const postbacks = listPostbacks;
const settled = outboxSettled;
const event = applyEvent;

/** The log lines at pino level warn (40), parsed. */
const warnings = (svc: TestService) => svc.logs.map((l) => JSON.parse(l)).filter((l) => l.level === "warn");

const metricsText = async (svc: TestService) => (await fetch(`${svc.url}/metrics`)).text();

const KEY = "3f9a1c";
const HTML_REASON = "answered with an HTML page (wrong path or key?)";

describe("Keitaro preset against a Keitaro-compatible tracker (answers by HTTP status)", () => {
  test("lead, sale 2.5 USD, rejected: each recorded and each `200 Postback recorded successfully.` is delivered", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["clk-1"] }));
    const { svc, clock } = await service({
      destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
      postbacks: { destination: "kc" },
      campaigns: [{ code: "c1", unsub_window: "1h", payouts: { approve: { payout: 2.5, currency: "USD" } } }],
    });
    const { lead } = await event(svc, { subscriber: 1, status: "wait", click: "clk-1" });
    await kc.waitForCount(1);
    await settled(svc);
    await event(svc, { subscriber: 1, status: "approve" });
    await kc.waitForCount(2);
    await settled(svc);
    clock.advance(60_000);
    await event(svc, { subscriber: 1, status: "cancel" });
    await kc.waitForCount(3);
    await settled(svc);

    const tail = "lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash";
    // No payout on wait and cancel: the preset leaves the parameters out rather than sending them empty.
    expect(kc.lines).toEqual([
      `GET /${KEY}/postback?subid=clk-1&status=wait&tid=${lead}&${tail}`,
      `GET /${KEY}/postback?subid=clk-1&status=approve&payout=2.5&currency=USD&tid=${lead}&${tail}`,
      `GET /${KEY}/postback?subid=clk-1&status=cancel&tid=${lead}&${tail}`,
    ]);
    expect(kc.conversions.get("clk-1")?.history).toEqual(["lead", "sale", "rejected"]);
    const rows = await postbacks(svc);
    expect(rows.map((p) => [p.status, p.state, p.attempts, p.reason, p.last_http_status])).toEqual([
      ["cancel", "delivered", 1, null, 200], ["approve", "delivered", 1, null, 200], ["wait", "delivered", 1, null, 200],
    ]);
    // Nothing to retry: a bulk "retry rejected" finds nothing.
    expect((await svc.api("POST", "/api/postbacks/retry", { state: "rejected", dry_run: true })).body.matched).toBe(0);
    expect(warnings(svc).filter((w) => w.postback !== undefined)).toEqual([]);
  });

  test("its refusals: 404 `Click ID not found in database.`, 400 `Missing subid.` / `Ignored: Missing status.` rejected once with its words; 500 retried until it records", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["known", "k2"] }));
    const { svc, clock } = await service({
      destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
      postbacks: { destination: "kc" },
      campaigns: [
        { code: "c1" },
        // plain templates that forgot a parameter
        { code: "c2", postbacks: { wait: [`${kc.base}/${KEY}/postback?status=lead&tid={lead}`, `${kc.base}/${KEY}/postback?subid={click}`] } },
      ],
    });
    await event(svc, { subscriber: 1, status: "wait", click: "ghost" });
    await event(svc, { campaign: "c2", subscriber: 1, status: "wait", click: "k2" });
    await kc.waitForCount(3);
    await settled(svc);
    const c2 = (await postbacks(svc)).filter((p) => p.campaign === "c2");
    expect(c2.map((p) => [p.state, p.attempts, p.last_http_status, p.reason])).toEqual([
      ["rejected", 1, 400, "http_400: Ignored: Missing status."],
      ["rejected", 1, 400, "http_400: Missing subid."],
    ]);
    kc.failWithInternalError = true;
    await event(svc, { subscriber: 2, status: "wait", click: "known" });
    await kc.waitForCount(4);
    await eventually(async () => (await postbacks(svc)).some((p) => p.reason === "http_500: Internal error."), 5000, "the 500 recorded");

    let rows = await postbacks(svc);
    const ghost = rows.find((p) => p.url.includes("subid=ghost"))!;
    expect(ghost).toMatchObject({ state: "rejected", attempts: 1, last_http_status: 404, reason: "http_404: Click ID not found in database." });
    expect(rows.find((p) => p.url.includes("subid=known"))).toMatchObject({ state: "pending", attempts: 1, last_http_status: 500 });

    kc.failWithInternalError = false;
    clock.advance(10_000); // the second step of the ladder
    await kc.waitForCount(5);
    await settled(svc);
    clock.advance(3 * 86_400_000); // the whole ladder: the refused row is never sent again
    await Bun.sleep(50);
    rows = await postbacks(svc);
    expect(rows.find((p) => p.url.includes("subid=known"))).toMatchObject({ state: "delivered", attempts: 2, reason: null });
    expect(kc.received.filter((r) => r.query.subid === "ghost")).toHaveLength(1);
    expect(kc.received).toHaveLength(5); // nothing refused was sent again
    expect(kc.conversions.get("known")?.status).toBe("lead");
  });

  test("a wrong key lands on the HTML login page (200): rejected with a short reason, never the page or its CSRF token", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["c-1"] }));
    const raw = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["c-1"] }));
    const { svc, clock } = await service({
      destinations: { wrong: { preset: "keitaro", domain: kc.base, key: "0000" } },
      campaigns: [
        { code: "c1", postbacks: { wait: { destination: "wrong" } } },
        { code: "c2", postbacks: { wait: `${raw.base}/admin/postback?subid={click}&status=lead` } }, // a plain template, wrong path
      ],
    });
    await event(svc, { subscriber: 1, status: "wait", click: "c-1" });
    await event(svc, { campaign: "c2", subscriber: 1, status: "wait", click: "c-1" });
    await kc.waitForCount(1);
    await raw.waitForCount(1);
    await settled(svc);
    clock.advance(3 * 86_400_000);
    await Bun.sleep(50);

    const rows = await postbacks(svc);
    expect(rows.map((p) => [p.campaign, p.state, p.attempts, p.last_http_status, p.reason])).toEqual([
      ["c2", "rejected", 1, 200, HTML_REASON],
      ["c1", "rejected", 1, 200, HTML_REASON],
    ]);
    expect(kc.received).toHaveLength(1);
    expect(raw.received).toHaveLength(1);
    expect(kc.conversions.size + raw.conversions.size).toBe(0);
    const stored = JSON.stringify(await svc.api("GET", "/api/postbacks"));
    expect(stored).not.toContain(kc.csrfToken);
    for (const w of warnings(svc)) expect(JSON.stringify(w)).not.toContain(kc.csrfToken);
  });
});

describe("genuine Keitaro (always 200; the body decides)", () => {
  test("`Success` for a click it does not know is delivered; `Incorrect postback code` is rejected once with its words", async () => {
    const kt = await cleanup.closing(FakeKeitaro.start({ key: "e89bcbe" }));
    const { svc, clock } = await service({
      destinations: { kt: { preset: "keitaro", domain: kt.base, key: "e89bcbe" }, wrongkey: { preset: "keitaro", domain: kt.base, key: "deadbeef" } },
      campaigns: [{ code: "c1", postbacks: { destination: "kt" } }, { code: "c2", postbacks: { wait: { destination: "wrongkey" } } }],
    });
    await event(svc, { subscriber: 1, status: "wait", click: "never-seen-by-keitaro" });
    await event(svc, { campaign: "c2", subscriber: 2, status: "wait", click: "good-click" });
    await kt.waitForCount(2);
    await settled(svc);
    clock.advance(3 * 86_400_000);
    await Bun.sleep(50);
    const rows = await postbacks(svc);
    expect(rows.find((p) => p.campaign === "c1")).toMatchObject({ state: "delivered", attempts: 1, reason: null });
    expect(rows.find((p) => p.campaign === "c2")).toMatchObject({ state: "rejected", attempts: 1, reason: "tracker refused: Incorrect postback code" });
    expect(kt.received).toHaveLength(2);
  });
});

describe("no request that cannot count", () => {
  test("a lead with no click: the {click} postback is skipped (no_click) and nothing is sent; a template without {click} still goes", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["late-click"] }));
    const crm = await cleanup.closing(RecordingTracker.start());
    const { svc } = await service({
      destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
      postbacks: { wait: [{ destination: "kc" }, `${crm.base}/hook?lead={lead}&s={status}&c={click}x`, `${crm.base}/plain?c={click}`] },
      campaigns: [{ code: "c1" }],
    });
    const first = await event(svc, { subscriber: 1, status: "wait" });
    expect(first.postbacks.map((p) => [p.state, p.reason])).toEqual([["skipped", "no_click"], ["skipped", "no_click"], ["skipped", "no_click"]]);
    // a click arriving later fires wait again, with it
    await event(svc, { subscriber: 1, status: "wait", click: "late-click" });
    await kc.waitForCount(1);
    await crm.waitForCount(2);
    await settled(svc);
    expect(kc.lines.map((l) => l.split("&")[0])).toEqual([`GET /${KEY}/postback?subid=late-click`]);
    expect(crm.lines).toEqual([`GET /hook?lead=${first.lead}&s=wait&c=late-clickx`, "GET /plain?c=late-click"]);

    const skipped = await postbacks(svc, "&state=skipped");
    expect(skipped.map((p) => p.reason)).toEqual(["no_click", "no_click", "no_click"]);
    // Sending one of them again could not count either.
    const retry = await svc.api("POST", `/api/postbacks/${skipped[0].id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe("no_click");
    const bulk = await svc.api("POST", "/api/postbacks/retry", { state: "skipped" });
    expect(bulk.body).toMatchObject({ dry_run: false, matched: 0, queued: 0, retried: 0 });
    expect(kc.received).toHaveLength(1);
  });

  test("a template that does not use {click} is sent for a lead without one", async () => {
    const crm = await cleanup.closing(RecordingTracker.start());
    const { svc } = await service({
      postbacks: { wait: `${crm.base}/hook?lead={lead}&sub={subscriber}` },
      campaigns: [{ code: "c1" }],
    });
    const { lead } = await event(svc, { subscriber: 5, status: "wait" });
    await crm.waitForCount(1);
    await settled(svc);
    expect(crm.lines).toEqual([`GET /hook?lead=${lead}&sub=5`]);
  });

  test("presets leave out an empty payout/currency; a plain template keeps what the user wrote", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["k1"], defaultCurrency: "EUR" }));
    const raw = await cleanup.closing(RecordingTracker.start());
    const { svc } = await service({
      destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
      postbacks: { wait: [{ destination: "kc" }, `${raw.base}/pb?c={click}&p={payout}&cur={currency}`] },
      campaigns: [{ code: "c1" }],
    });
    const { lead } = await event(svc, { subscriber: 1, status: "wait", click: "k1" });
    await kc.waitForCount(1);
    await raw.waitForCount(1);
    await settled(svc);
    expect(kc.lines).toEqual([`GET /${KEY}/postback?subid=k1&status=wait&tid=${lead}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash`]);
    expect(kc.conversions.get("k1")).toMatchObject({ payout: "0", currency: "EUR" }); // not "" and ""
    expect(raw.lines).toEqual(["GET /pb?c=k1&p=&cur="]);
  });
});

describe("verdict overrides per destination", () => {
  test("`verdict: status` judges by HTTP status alone; `verdict: none` counts every answer; `preset` is the default", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: [] }));
    const { svc } = await service({
      destinations: {
        bystatus: { preset: "keitaro", domain: kc.base, key: "wrong", verdict: "status" }, // HTML page with 200 → delivered
        anyanswer: { preset: "keitaro", domain: kc.base, key: KEY, verdict: "none" }, // 404 → delivered
        strict: { preset: "keitaro", domain: kc.base, key: "wrong", verdict: "preset" },
      },
      campaigns: [
        { code: "c1", postbacks: { wait: { destination: "bystatus" } } },
        { code: "c2", postbacks: { wait: { destination: "anyanswer" } } },
        { code: "c3", postbacks: { wait: { destination: "strict" } } },
        { code: "c4", postbacks: { wait: { url: `${kc.base}/x/postback?subid={click}`, verdict: "status" } } },
      ],
    });
    for (const campaign of ["c1", "c2", "c3", "c4"]) await event(svc, { campaign, subscriber: 1, status: "wait", click: "unknown" });
    await kc.waitForCount(4);
    await settled(svc);
    const rows = await postbacks(svc);
    const by = Object.fromEntries(rows.map((p) => [p.campaign, [p.state, p.last_http_status, p.reason]]));
    expect(by).toEqual({
      c1: ["delivered", 200, null],
      c2: ["delivered", 404, null],
      c3: ["rejected", 200, HTML_REASON],
      c4: ["delivered", 200, null],
    });
  });

  test("an unknown verdict is a config error with its path", async () => {
    await expect(startTestService({
      destinations: { kt: { preset: "keitaro", domain: "trk.example", key: KEY, verdict: "lenient" } },
      campaigns: [{ code: "c1" }],
    })).rejects.toThrow(/destinations\.kt\.verdict.*preset, status, none/);
  });
});

describe("signals that fire", () => {
  test("a row ending rejected or failed logs one warn line with id, campaign, host, status and reason — and no URL or key", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["ok"] }));
    const down = await cleanup.closing(RecordingTracker.start(() => ({ status: 503, body: "Service Unavailable" })));
    const { svc } = await service({
      delivery: { retry_ladder: ["0s"] },
      destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
      campaigns: [
        { code: "c1", postbacks: { wait: { destination: "kc" } } },
        { code: "c2", postbacks: { approve: `${down.base}/pb?c={click}&token=s3cr3t-tracker-token` } },
      ],
    });
    await event(svc, { subscriber: 1, status: "wait", click: "ghost" }); // 404 → rejected
    await event(svc, { subscriber: 2, status: "wait", click: "ok" }); // delivered: no warning
    await event(svc, { campaign: "c2", subscriber: 3, status: "wait", click: "k" }); // c2 reports approve only
    await event(svc, { campaign: "c2", subscriber: 3, status: "approve" }); // 503 on a one-step ladder → failed
    await kc.waitForCount(2);
    await down.waitForCount(1);
    await settled(svc);
    const rows = await postbacks(svc);
    const rejected = rows.find((p) => p.state === "rejected")!;
    const failed = rows.find((p) => p.state === "failed")!;
    const lines = warnings(svc).filter((w) => w.postback !== undefined);
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.postback === rejected.id)).toMatchObject({
      campaign: "c1", host: kc.host, status: "wait", state: "rejected", http_status: 404, reason: "http_404: Click ID not found in database.", msg: "postback rejected",
    });
    expect(lines.find((l) => l.postback === failed.id)).toMatchObject({
      campaign: "c2", host: down.host, status: "approve", state: "failed", http_status: 503, reason: failed.reason, msg: "postback failed",
    });
    expect(failed.reason).toContain("http_503");
    for (const l of lines) {
      const text = JSON.stringify(l);
      expect(text).not.toContain("s3cr3t-tracker-token");
      expect(text).not.toContain(`/${KEY}/`);
      expect(text).not.toContain("http://");
    }
  });

  test("/metrics counts outcomes per host and per reason class", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks: ["ok1", "ok2"] }));
    const other = await cleanup.closing(RecordingTracker.start(() => ({ status: 200, body: "OK" })));
    const { svc } = await service({
      delivery: { retry_ladder: ["0s"] },
      destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY }, wrong: { preset: "keitaro", domain: kc.base, key: "nope" } },
      campaigns: [
        { code: "c1", postbacks: { wait: [{ destination: "kc" }, `${other.base}/pb?c={click}`] } },
        { code: "c2", postbacks: { wait: { destination: "wrong" } } },
      ],
    });
    await event(svc, { subscriber: 1, status: "wait", click: "ok1" });
    await event(svc, { subscriber: 2, status: "wait", click: "ok2" });
    await event(svc, { subscriber: 3, status: "wait", click: "ghost" });
    await event(svc, { campaign: "c2", subscriber: 4, status: "wait", click: "ok1" });
    await kc.waitForCount(4);
    await other.waitForCount(3);
    await settled(svc);
    const text = await metricsText(svc);
    const samples = text.split("\n").filter((l) => l.startsWith("tgcpa_postback_outcomes_total{")).sort();
    expect(samples).toEqual([
      `tgcpa_postback_outcomes_total{host="${other.host}",outcome="delivered",reason="ok"} 3`,
      `tgcpa_postback_outcomes_total{host="${kc.host}",outcome="delivered",reason="ok"} 2`,
      `tgcpa_postback_outcomes_total{host="${kc.host}",outcome="rejected",reason="html_page"} 1`,
      `tgcpa_postback_outcomes_total{host="${kc.host}",outcome="rejected",reason="http_4xx"} 1`,
    ].sort());
    expect(text).toContain("# TYPE tgcpa_postback_outcomes_total counter");
  });
});
