/**
 * Tracker presets end to end: config `destinations` → lead events → the real dispatcher → fake
 * trackers that answer like the real ones (helpers/fake-trackers/). Every expected URL below is
 * written from shared/reference/trackers.md, not computed by src code.
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { FakeAlterCpaLite, FakeAlterCpaPro, FakeBinom, FakeUndocumentedTracker, FakeKeitaro, RecordingTracker, type ContractTracker } from "../helpers/fake-trackers/index.ts";
import { applyEvent, listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import type { ConfigInput } from "../helpers/service/config.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();

async function service(config: ConfigInput, clock?: FakeClock) {
  const svc = await startTestService(config, { clock });
  cleanup.push(() => svc.stop());
  return svc;
}

/**
 * Percent-encodes like the reference asks ("every substituted value", `+` as %2B), written here
 * independently of src: everything but RFC 3986 unreserved characters, as UTF-8 bytes.
 */
const enc = (value: string) =>
  Array.from(new TextEncoder().encode(value), (b) => {
    const ch = String.fromCharCode(b);
    return /[A-Za-z0-9\-_.~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");

/** A click id with everything that breaks naive URL building. */
const CLICK = "a+b c/d=e&f#g%h-ключ";
const CLICK_ENCODED = "a%2Bb%20c%2Fd%3De%26f%23g%25h-%D0%BA%D0%BB%D1%8E%D1%87";
const CLICK_B = "B/2 x+y?z";

const KEY = "e89bcbe";
const PRO_TOKEN = "12-5f3a9c";
const LITE_TOKEN = "a1b2c3d4";

const postbacks = listPostbacks;
const settled = outboxSettled;
const event = applyEvent;

interface Sent {
  status: "wait" | "hold" | "approve" | "cancel" | "trash";
  click: string;
  lead: number;
  event: number;
  payout: string;
  currency: string;
}

interface PresetCase {
  preset: string;
  start(): Promise<ContractTracker>;
  params: Record<string, string>;
  /** The query parameter that carries the click id. */
  clickParam: string;
  /** path + query string as the tracker must receive it. */
  url(s: Sent): string;
  /** The tracker-side outcome after the whole story (lead A: wait→hold→approve→cancel, lead B: …→trash). */
  check?(t: ContractTracker, leadA: number, leadB: number): void;
}

/** `&name=value`, or nothing for an empty value: presets leave out a parameter whose macro is empty. */
const opt = (name: string, value: string) => (value === "" ? "" : `&${name}=${value}`);

const REDTRACK: Record<Sent["status"], string> = { wait: "Pending", hold: "Pending", approve: "Approved", cancel: "Declined", trash: "Declined" };
const LITE: Record<Sent["status"], string> = { wait: "new", hold: "hold", approve: "approve", cancel: "cancel", trash: "trash" };

const CASES: PresetCase[] = [
  {
    preset: "keitaro",
    start: () => FakeKeitaro.start({ key: KEY }),
    params: { key: KEY },
    clickParam: "subid",
    url: (s) => `/${KEY}/postback?subid=${enc(s.click)}&status=${s.status}${opt("payout", s.payout)}${opt("currency", s.currency)}&tid=${s.lead}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash`,
    check(t, leadA) {
      const k = t as FakeKeitaro;
      expect(k.conversions.get(CLICK)).toEqual({ subid: CLICK, status: "rejected", payout: "10", currency: "USD", tid: String(leadA), asked: ["lead", "lead", "sale", "rejected"] });
      expect(k.conversions.get(CLICK_B)?.status).toBe("rejected");
      expect(k.unplaced).toEqual([]);
    },
  },
  {
    preset: "binom",
    start: () => FakeBinom.start(),
    params: {},
    clickParam: "cnv_id",
    url: (s) => `/click.php?cnv_id=${enc(s.click)}&cnv_status=${s.status}&cnv_status2=${s.lead}${opt("payout", s.payout)}${opt("cnv_currency", s.currency)}`,
    check(t, leadA) {
      expect((t as FakeBinom).conversions.get(CLICK)).toEqual({ cnvId: CLICK, status: "cancel", status2: String(leadA), payout: "", currency: "", writes: 4 });
      expect((t as FakeBinom).conversions.get(CLICK_B)?.status).toBe("trash");
    },
  },
  {
    preset: "binom-goal",
    start: () => FakeUndocumentedTracker.start(),
    params: {},
    clickParam: "clickid",
    url: (s) => `/postback?clickid=${enc(s.click)}&goal=${s.status}`,
  },
  {
    preset: "altercpa-pro",
    start: () => FakeAlterCpaPro.start({ token: PRO_TOKEN }),
    params: { token: PRO_TOKEN },
    clickParam: "click",
    url: (s) => s.status === "wait"
      ? `/api/site/click.json?token=${PRO_TOKEN}&click=${enc(s.click)}&exto=${s.lead}`
      : `/api/site/status.json?token=${PRO_TOKEN}&click=${enc(s.click)}&status=${s.status}&auto=1&exto=${s.lead}`,
    check(t, leadA, leadB) {
      const a = (t as FakeAlterCpaPro).byClick(CLICK);
      expect(a).toMatchObject({ ext: String(leadA), status: "cancel", history: ["wait", "hold", "approve", "cancel"] });
      expect((t as FakeAlterCpaPro).byClick(CLICK_B)).toMatchObject({ ext: String(leadB), status: "trash", history: ["wait", "hold", "trash"] });
      expect((t as FakeAlterCpaPro).leads.size).toBe(2);
    },
  },
  {
    preset: "altercpa-lite",
    start: () => FakeAlterCpaLite.start({ token: LITE_TOKEN }),
    params: { token: LITE_TOKEN },
    clickParam: "click",
    url: (s) => `/api/track/postback.json?id=${LITE_TOKEN}&click=${enc(s.click)}&uid=${s.lead}&status=${LITE[s.status]}${opt("price", s.payout)}${opt("currency", s.currency)}`,
    check(t, leadA) {
      expect((t as FakeAlterCpaLite).byClick(CLICK)).toMatchObject({ ext: String(leadA), status: "cancel", price: "10", history: ["new", "hold", "approve", "cancel"] });
      expect((t as FakeAlterCpaLite).byClick(CLICK_B)?.status).toBe("trash");
    },
  },
  {
    preset: "voluum",
    start: () => FakeUndocumentedTracker.start(),
    params: {},
    clickParam: "cid",
    url: (s) => `/postback?cid=${enc(s.click)}&et=${s.status}${opt("payout", s.payout)}${opt("currency", s.currency)}&txid=${s.event}`,
  },
  {
    preset: "redtrack",
    start: () => FakeUndocumentedTracker.start(),
    params: {},
    clickParam: "clickid",
    url: (s) => `/postback?clickid=${enc(s.click)}&status=${REDTRACK[s.status]}&type=${s.status}${opt("sum", s.payout)}`,
  },
  {
    preset: "bemob",
    start: () => FakeUndocumentedTracker.start(),
    params: {},
    clickParam: "cid",
    url: (s) => `/postback?cid=${enc(s.click)}&status=${s.status}${opt("payout", s.payout)}&txid=${s.event}`,
  },
  {
    preset: "peerclick",
    start: () => FakeUndocumentedTracker.start(),
    params: {},
    clickParam: "cid",
    url: (s) => `/postback?cid=${enc(s.click)}&status=${s.status}${opt("payout", s.payout)}${opt("currency", s.currency)}&txid=${s.event}`,
  },
  {
    preset: "clickflare",
    start: () => FakeUndocumentedTracker.start(),
    params: {},
    clickParam: "click_id",
    url: (s) => `/cf/cv?click_id=${enc(s.click)}&ct=${s.status}${opt("payout", s.payout)}&txid=${s.event}`,
  },
];

/** Campaign payouts used throughout: hold and approve are paid, the rest are not. */
const PAYOUTS = { hold: { payout: "0.5", currency: "EUR" }, approve: { payout: 10, currency: "USD" } };
const payoutOf = (status: Sent["status"]) => (status === "hold" ? ["0.5", "EUR"] : status === "approve" ? ["10", "USD"] : ["", ""]);

test("the independent encoder agrees with the hand-written encoding of the test click", () => {
  expect(enc(CLICK)).toBe(CLICK_ENCODED);
});

describe("each preset end to end", () => {
  for (const c of CASES) {
    test(`${c.preset}: wait → hold → approve → cancel, and hold → trash, arrive exactly as the tracker expects`, async () => {
      const clock = new FakeClock();
      const t = await cleanup.closing(c.start());
      const svc = await service({
        destinations: { trk: { preset: c.preset, domain: t.base, ...c.params } },
        postbacks: { destination: "trk" },
        campaigns: [{ code: "c1", unsub_window: "1h", payouts: PAYOUTS }],
      }, clock);

      const expected: string[] = [];
      const sent: Sent[] = [];
      const step = async (subscriber: number, status: Sent["status"], click?: string) => {
        const r = await event(svc, { subscriber, status, ...(click === undefined ? {} : { click }) });
        expect(r.postbacks).toHaveLength(1);
        expect(r.postbacks[0].state).toBe("pending");
        const [payout, currency] = payoutOf(status);
        const s: Sent = { status, click: subscriber === 1 ? CLICK : CLICK_B, lead: r.lead, event: r.event, payout: payout!, currency: currency! };
        sent.push(s);
        expected.push(`GET ${c.url(s)}`);
        await t.waitForCount(expected.length);
        await settled(svc); // before the clock moves: a lease must not expire under an in-flight request
        return r;
      };

      const a = await step(1, "wait", CLICK);
      await step(1, "hold");
      clock.advance(60_000);
      await step(1, "approve");
      clock.advance(30 * 60_000); // inside the 1 h unsubscribe window
      await step(1, "cancel");
      const b = await step(2, "wait", CLICK_B);
      await step(2, "hold");
      await step(2, "trash");

      expect(t.lines).toEqual(expected);
      // the click arrives intact once the tracker decodes its query (`+` would turn into a space)
      for (const [i, r] of t.received.entries()) expect(r.query[c.clickParam]).toBe(sent[i]!.click);
      expect(t.received[0]!.url).toContain(CLICK_ENCODED);

      await settled(svc);
      const rows = await postbacks(svc);
      expect(rows.map((p) => [p.state, p.attempts, p.reason])).toEqual(Array(7).fill(["delivered", 1, null]));
      c.check?.(t, a.lead, b.lead);
    });
  }
});

describe("refusals in a 200 answer", () => {
  test("Keitaro `Incorrect postback code` → rejected once, with the tracker's words; a lead without a click never meets `Incorrect subid`", async () => {
    const clock = new FakeClock();
    const kt = await cleanup.closing(FakeKeitaro.start({ key: KEY }));
    const svc = await service({
      destinations: { kt: { preset: "keitaro", domain: kt.base, key: KEY }, wrongkey: { preset: "keitaro", domain: kt.base, key: "deadbeef" } },
      campaigns: [{ code: "c1", postbacks: { destination: "kt" } }, { code: "c2", postbacks: { wait: { destination: "wrongkey" } } }],
    }, clock);

    await event(svc, { subscriber: 1, status: "wait", click: "" });
    await event(svc, { campaign: "c2", subscriber: 2, status: "wait", click: "good-click" });
    await kt.waitForCount(1);
    await settled(svc);

    const rows = await postbacks(svc);
    const emptyClick = rows.find((p) => p.campaign === "c1")!;
    const wrongKey = rows.find((p) => p.campaign === "c2")!;
    expect(emptyClick).toMatchObject({ state: "skipped", attempts: 0, reason: "no_click", last_http_status: null });
    expect(wrongKey).toMatchObject({ state: "rejected", attempts: 1, last_http_status: 200, next_attempt_at: null, reason: "tracker refused: Incorrect postback code" });
    const detail = await svc.api("GET", `/api/postbacks/${wrongKey.id}`);
    expect(detail.body.attempts).toEqual([expect.objectContaining({ attempt: 1, http_status: 200, outcome: "rejected", response_head: "Incorrect postback code" })]);

    // the whole retry ladder passes: nothing is sent again; a later good postback still goes out
    clock.advance(3 * 86_400_000);
    await event(svc, { subscriber: 3, status: "wait", click: "later" });
    await kt.waitUntil((r) => r.some((x) => x.query.subid === "later"), 5000, "the later postback");
    await settled(svc);
    expect(kt.received.filter((r) => !r.query.subid)).toHaveLength(0);
    expect(kt.received.filter((r) => r.path === "/deadbeef/postback")).toHaveLength(1);
    expect(kt.conversions.has("good-click")).toBe(false);
    expect(kt.conversions.get("later")?.status).toBe("lead");

    const campaigns = (await svc.api("GET", "/api/campaigns")).body.items;
    expect(campaigns.find((x: any) => x.code === "c1").counters.postbacks).toEqual({ delivered: 1, skipped: 1 });
    expect(campaigns.find((x: any) => x.code === "c2").counters.postbacks).toEqual({ rejected: 1 });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('tgcpa_postbacks{state="delivered"} 1');
    expect(metrics).toContain('tgcpa_postbacks{state="rejected"} 1');
    expect(metrics).toContain('tgcpa_postbacks{state="skipped"} 1');
  });

  test("AlterCPA `status: error` (bad token) → rejected once with the error code; `status: ok` → delivered; no click → nothing sent", async () => {
    const clock = new FakeClock();
    const pro = await cleanup.closing(FakeAlterCpaPro.start({ token: PRO_TOKEN }));
    const lite = await cleanup.closing(FakeAlterCpaLite.start({ token: LITE_TOKEN }));
    const svc = await service({
      destinations: {
        pro: { preset: "altercpa-pro", domain: pro.base, token: PRO_TOKEN },
        probad: { preset: "altercpa-pro", domain: pro.base, token: "12-wrong" },
        litebad: { preset: "altercpa-lite", domain: lite.base, token: "nope" },
      },
      campaigns: [
        { code: "c1", postbacks: { destination: "pro" } },
        { code: "c2", postbacks: { destination: "probad" } },
        { code: "c3", postbacks: { destination: "litebad" } },
      ],
    }, clock);

    await event(svc, { campaign: "c2", subscriber: 1, status: "wait", click: "k1" });
    await event(svc, { campaign: "c1", subscriber: 2, status: "wait", click: "" });
    await event(svc, { campaign: "c3", subscriber: 3, status: "wait", click: "k3" });
    await event(svc, { campaign: "c1", subscriber: 4, status: "wait", click: "k4" });
    await pro.waitForCount(2);
    await lite.waitForCount(1);
    await settled(svc);

    const rows = await postbacks(svc);
    const byCampaignSub = (code: string, click: string) => rows.find((p) => p.campaign === code && p.url.includes(`click=${click}&`))!;
    const badToken = byCampaignSub("c2", "k1");
    const liteBad = byCampaignSub("c3", "k3");
    for (const row of [badToken, liteBad]) {
      expect(row).toMatchObject({ state: "rejected", attempts: 1, last_http_status: 200, reason: 'tracker refused: status "error", error "token"' });
    }
    expect(rows.filter((p) => p.campaign === "c1" && p.state !== "delivered")).toEqual([expect.objectContaining({ state: "skipped", attempts: 0, reason: "no_click" })]);
    expect(byCampaignSub("c1", "k4")).toMatchObject({ state: "delivered", attempts: 1, reason: null });

    clock.advance(3 * 86_400_000);
    await event(svc, { campaign: "c1", subscriber: 4, status: "approve" });
    await pro.waitForCount(3);
    await settled(svc);
    expect(pro.received.length).toBe(3);
    expect(lite.received.length).toBe(1);
    expect(pro.byClick("k4")?.history).toEqual(["wait", "approve"]);
    expect(pro.leads.size).toBe(1);
    const counters = Object.fromEntries((await svc.api("GET", "/api/campaigns")).body.items.map((x: any) => [x.code, x.counters.postbacks]));
    expect(counters).toEqual({ c1: { delivered: 2, skipped: 1 }, c2: { rejected: 1 }, c3: { rejected: 1 } });
  });

  test("a parking page (HTML with 200) where the tracker should answer is rejected by every preset, with a short reason", async () => {
    const parked = await cleanup.closing(RecordingTracker.start(() => ({ status: 200, body: "<!DOCTYPE html><html><body>This domain is parked. Buy it!</body></html>", headers: { "content-type": "text/html" } })));
    const svc = await service({
      destinations: { kt: { preset: "keitaro", domain: parked.base, key: KEY }, bn: { preset: "binom", domain: parked.base } },
      postbacks: { destination: ["kt", "bn"] },
      campaigns: [{ code: "c1" }],
    });
    await event(svc, { subscriber: 1, status: "wait", click: "x" });
    await parked.waitForCount(2);
    await settled(svc);
    const rows = await postbacks(svc);
    expect(rows.map((p) => [p.template, p.state, p.attempts, p.reason])).toEqual([
      ["destinations.bn.wait", "rejected", 1, "answered with an HTML page (wrong path or key?)"],
      ["destinations.kt.wait", "rejected", 1, "answered with an HTML page (wrong path or key?)"],
    ]);
  });
});

describe("destinations in templates", () => {
  test("`destination: [keitaro, binom]` sends every event to both, with campaign payouts", async () => {
    const kt = await cleanup.closing(FakeKeitaro.start({ key: KEY }));
    const bn = await cleanup.closing(FakeBinom.start({ path: "/click" }));
    const svc = await service({
      destinations: { kt: { preset: "keitaro", domain: `${kt.base}/`, key: KEY }, bn: { preset: "binom", domain: bn.base, path: "click" } },
      postbacks: { destination: ["kt", "bn"] },
      campaigns: [{ code: "c1", payouts: { approve: { payout: "12.34", currency: "RUB" } } }],
    });
    const w = await event(svc, { subscriber: 7, status: "wait", click: CLICK });
    expect(w.postbacks.map((p) => p.template)).toEqual(["destinations.kt.wait", "destinations.bn.wait"]);
    const ap = await event(svc, { subscriber: 7, status: "approve" });
    expect(ap.postbacks).toHaveLength(2);
    await kt.waitForCount(2);
    await bn.waitForCount(2);
    await settled(svc);

    const L = w.lead;
    expect(kt.lines).toEqual([
      `GET /${KEY}/postback?subid=${CLICK_ENCODED}&status=wait&tid=${L}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash`,
      `GET /${KEY}/postback?subid=${CLICK_ENCODED}&status=approve&payout=12.34&currency=RUB&tid=${L}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash`,
    ]);
    expect(bn.lines).toEqual([
      `GET /click?cnv_id=${CLICK_ENCODED}&cnv_status=wait&cnv_status2=${L}`,
      `GET /click?cnv_id=${CLICK_ENCODED}&cnv_status=approve&cnv_status2=${L}&payout=12.34&cnv_currency=RUB`,
    ]);
    expect(kt.conversions.get(CLICK)).toMatchObject({ status: "sale", payout: "12.34", currency: "RUB" });
    expect(bn.conversions.get(CLICK)).toMatchObject({ status: "approve", payout: "12.34", currency: "RUB", writes: 2 });
    expect((await postbacks(svc)).every((p) => p.state === "delivered")).toBe(true);
  });

  test("lists mix destinations, raw URLs and POST bodies; JSON and form bodies are substituted and escaped", async () => {
    const kt = await cleanup.closing(FakeKeitaro.start({ key: KEY }));
    const raw = await cleanup.closing(RecordingTracker.start());
    const click = `q"uo\\te&x=y+z ключ`;
    const svc = await service({
      destinations: { kt: { preset: "keitaro", domain: kt.base, key: KEY } },
      campaigns: [{
        code: "c1",
        payouts: { approve: { payout: 3, currency: "USD" } },
        postbacks: {
          destination: "kt",
          wait: [{ destination: "kt" }, `${raw.base}/raw?c={click}&s={status}`],
          approve: [
            { url: `${raw.base}/json?l={lead}`, json: { click: "{click}", status: "{status}", lead: "{lead}", pay: "{payout} {currency}", note: 'say "{status}" \\ ok', n: 5, on: true, none: null, list: ["{click}", 1] } },
            { url: `${raw.base}/form`, form: { click: "{click}", status: "{status}", note: "a&b=c {status}" } },
            { destination: "kt" },
          ],
          trash: "",
        },
      }],
    });
    const w = await event(svc, { subscriber: 1, status: "wait", click });
    expect(w.postbacks).toHaveLength(2);
    expect((await event(svc, { subscriber: 1, status: "hold" })).postbacks).toHaveLength(1); // not listed: from `destination`
    expect((await event(svc, { subscriber: 1, status: "approve" })).postbacks).toHaveLength(3);
    expect((await event(svc, { subscriber: 1, status: "trash" })).postbacks).toHaveLength(0); // empty = off
    await kt.waitForCount(3);
    await raw.waitForCount(3);
    await settled(svc);
    const L = w.lead;

    expect(kt.received.map((r) => [r.query.subid, r.query.status])).toEqual([[click, "wait"], [click, "hold"], [click, "approve"]]);
    expect(raw.received.find((r) => r.path === "/raw")!.url).toBe(`/raw?c=${enc(click)}&s=wait`);

    const json = raw.received.find((r) => r.path === "/json")!;
    expect(json.method).toBe("POST");
    expect(json.url).toBe(`/json?l=${L}`);
    expect(json.headers["content-type"]).toStartWith("application/json");
    const expectedJson = { click, status: "approve", lead: String(L), pay: "3 USD", note: 'say "approve" \\ ok', n: 5, on: true, none: null, list: [click, 1] };
    expect(JSON.parse(json.body)).toEqual(expectedJson);
    expect(json.body).toBe(JSON.stringify(expectedJson));

    const form = raw.received.find((r) => r.path === "/form")!;
    expect(form.method).toBe("POST");
    expect(form.headers["content-type"]).toStartWith("application/x-www-form-urlencoded");
    expect(form.body).toBe(`click=${enc(click)}&status=approve&note=${enc("a&b=c approve")}`);
    expect(Object.fromEntries(new URLSearchParams(form.body))).toEqual({ click, status: "approve", note: "a&b=c approve" });
    expect((await postbacks(svc)).map((p) => p.state)).toEqual(Array(6).fill("delivered"));
  });
});

describe("configuration errors", () => {
  test("unknown preset, missing or unknown param, unknown destination: reload refused with paths, running config kept", async () => {
    const kt = await cleanup.closing(FakeKeitaro.start({ key: KEY }));
    const good: ConfigInput = {
      destinations: { kt: { preset: "keitaro", domain: kt.base, key: KEY } },
      postbacks: { destination: "kt" },
      campaigns: [{ code: "c1" }],
    };
    const svc = await service(good);
    const base = JSON.parse(await Bun.file(svc.configPath).text());
    const reload = async (patch: ConfigInput) => {
      svc.writeConfig({ ...base, ...patch });
      const res = await svc.api("POST", "/api/config/reload");
      return res;
    };
    const refused = async (patch: ConfigInput) => {
      const res = await reload(patch);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("invalid_config");
      return res.body.error.details as { path: string; message: string }[];
    };

    let details = await refused({ destinations: { kt: { preset: "keitaro", domain: kt.base, key: KEY }, x: { preset: "nosuch", domain: "a.example" } } });
    expect(details).toEqual([expect.objectContaining({ path: "destinations.x.preset", message: expect.stringContaining("nosuch") })]);
    expect(details[0]!.message).toContain("keitaro"); // lists the known ones

    details = await refused({ destinations: { kt: { preset: "keitaro", domain: kt.base } } });
    expect(details.map((d) => d.path)).toEqual(["destinations.kt"]);
    expect(details[0]!.message).toContain("key");

    details = await refused({ destinations: { kt: { preset: "altercpa-pro", domain: kt.base } } });
    expect(details.map((d) => d.path)).toEqual(["destinations.kt"]);
    expect(details[0]!.message).toContain("token");

    details = await refused({ destinations: { kt: { preset: "binom", domain: kt.base, colour: "red" } } });
    expect(details.map((d) => d.path)).toEqual(["destinations.kt.colour"]); // a param no preset takes: an unknown key, at its own line
    expect(details[0]!.message).toContain("colour");

    details = await refused({ destinations: { kt: { preset: "binom", domain: kt.base, key: "k1" } } });
    expect(details.map((d) => d.path)).toEqual(["destinations.kt"]); // another preset's param: the preset names its own
    expect(details[0]!.message).toBe("unknown param key for preset binom (known: domain, path)");

    details = await refused({ campaigns: [{ code: "c1", postbacks: { approve: { destination: "nowhere" } } }] });
    expect(details).toEqual([expect.objectContaining({ path: "campaigns[0].postbacks.approve.destination", message: expect.stringContaining("nowhere") })]);

    details = await refused({ campaigns: [{ code: "c1", postbacks: { wait: [`${kt.base}/ok?c={click}`, { destination: "nowhere" }] } }] });
    expect(details.map((d) => d.path)).toEqual(["campaigns[0].postbacks.wait[1].destination"]);

    details = await refused({ postbacks: { destination: ["kt", "nowhere"] } });
    expect(details.length).toBeGreaterThan(0);
    for (const d of details) {
      expect(d.path).toStartWith("postbacks.destination");
      expect(d.message).toContain("nowhere");
    }

    // the running config is the first one all along
    const campaigns = (await svc.api("GET", "/api/campaigns")).body.items;
    expect(campaigns[0].templates.approve.map((t: any) => t.url)).toEqual([
      `${kt.base}/${KEY}/postback?subid={click}&status={status}&payout={payout}&currency={currency}&tid={lead}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash`,
    ]);
    expect((await reload({})).status).toBe(200);
  });

  test("an unknown name in the default `destination` is reported once, at the name's own path", async () => {
    const svc = await service({ campaigns: [{ code: "c1" }] });
    const base = JSON.parse(await Bun.file(svc.configPath).text());
    const paths = async (postbacks: unknown) => {
      svc.writeConfig({ ...base, destinations: { kt: { preset: "keitaro", domain: "trk.example", key: KEY } }, postbacks });
      const res = await svc.api("POST", "/api/config/reload");
      expect(res.status).toBe(422);
      return res.body.error.details.map((d: any) => d.path);
    };
    expect(await paths({ destination: "nowhere" })).toEqual(["postbacks.destination"]);
    expect(await paths({ destination: ["kt", "nowhere"] })).toEqual(["postbacks.destination[1]"]);
  });

  test("an unknown destination at start-up is refused the same way", async () => {
    await expect(startTestService({ postbacks: { hold: { destination: "ghost" } }, campaigns: [{ code: "c1" }] })).rejects.toThrow(/postbacks\.hold\.destination/);
  });
});

describe("GET /api/presets", () => {
  test("lists all eleven with params, verdict and five templates (empty: the preset sends nothing for that status)", async () => {
    const svc = await service({ campaigns: [{ code: "c1" }] });
    const res = await svc.api("GET", "/api/presets");
    expect(res.status).toBe(200);
    const items = res.body.items as any[];
    expect(items.map((p) => p.name).sort()).toEqual(
      ["altercpa-lite", "altercpa-pro", "bemob", "binom", "binom-goal", "clickflare", "keitaro", "peerclick", "prosper202", "redtrack", "voluum"],
    );
    const by = Object.fromEntries(items.map((p) => [p.name, p]));
    for (const p of items) {
      expect(typeof p.tracker).toBe("string");
      expect(p.params.find((x: any) => x.name === "domain")).toMatchObject({ required: true });
      expect(Object.keys(p.templates).sort()).toEqual(["approve", "cancel", "hold", "trash", "wait"]);
      for (const url of Object.values(p.templates) as string[]) if (url !== "") expect(url).toStartWith("{domain}");
      expect(Object.keys(p.example).sort()).toEqual(["approve", "cancel", "hold", "trash", "wait"]);
      for (const url of Object.values(p.example) as string[]) if (url !== "") expect(url).toStartWith("https://trk.example.com/");
    }
    expect(by.keitaro.params.map((x: any) => [x.name, x.required])).toEqual([["domain", true], ["key", true]]);
    expect(by["altercpa-pro"].params.map((x: any) => [x.name, x.required])).toEqual([["domain", true], ["token", true]]);
    expect(by["altercpa-lite"].params.find((x: any) => x.name === "path")).toMatchObject({ required: false, default: "/api/track/postback.json" });
    expect(by.binom.params.find((x: any) => x.name === "path")).toMatchObject({ required: false, default: "/click.php" });
    expect(Object.fromEntries(items.map((p) => [p.name, p.verdict]))).toEqual({
      keitaro: "keitaro", "altercpa-pro": "altercpa", "altercpa-lite": "altercpa",
      binom: null, "binom-goal": null, voluum: null, redtrack: null, bemob: null, peerclick: null, clickflare: null, prosper202: "prosper202",
    });
    expect(by["altercpa-pro"].templates.wait).toContain("/api/site/click.json");
    expect(by["altercpa-pro"].templates.approve).toContain("/api/site/status.json");
    expect(by.keitaro.example.approve).toBe("https://trk.example.com/YOUR_KEY/postback?subid={click}&status={status}&payout={payout}&currency={currency}&tid={lead}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash");
    expect(Object.entries(by.prosper202.templates).filter(([, url]) => url !== "").map(([s]) => s)).toEqual(["approve"]);
    expect((await fetch(`${svc.url}/api/presets`)).status).toBe(401);
  });
});
