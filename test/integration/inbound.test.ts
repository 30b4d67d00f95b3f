/**
 * Inbound postbacks (SPEC §5) through HTTP: `GET|POST /api/postback` with an inbound key, every
 * result code, the three ways parameters arrive, lead lookup, outbound postbacks fired by an inbound
 * change, and the log at `GET /api/postback-log`.
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { RecordingTracker, FakeKeitaro } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { onPostgres } from "../helpers/service/database.ts";

const INBOUND_KEY = "inbound-secret-1-0123456789abcdef0123456789abcdef";
const KT_KEY = "e89bcbe";

const cleanup = cleanupAfterEach();

/** c1 reports to a Keitaro (approve pays 10 USD), c2 to a raw template that shows every money macro. */
async function setup() {
  const kt = await FakeKeitaro.start({ key: KT_KEY });
  cleanup.push(() => kt.close());
  const raw = await RecordingTracker.start();
  cleanup.push(() => raw.close());
  const svc = await startTestService({
    inbound_keys: [INBOUND_KEY],
    destinations: { kt: { preset: "keitaro", domain: kt.base, key: KT_KEY } },
    campaigns: [
      { code: "c1", postbacks: { destination: "kt" }, payouts: { approve: { payout: 10, currency: "USD" } } },
      { code: "c2", postbacks: { approve: `${raw.base}/pb?c={click}&s={status}&p={payout}&cur={currency}&l={lead}`, cancel: `${raw.base}/pb?c={click}&s={status}&p={payout}&cur={currency}&l={lead}` } },
    ],
  });
  cleanup.push(() => svc.stop());
  return { kt, raw, svc };
}

/** A lead made the ordinary way (POST /api/events); returns its id. */
async function lead(svc: TestService, campaign: string, subscriber: number, click: string) {
  const res = await svc.api("POST", "/api/events", { campaign, subscriber, status: "wait", click });
  expect(res.body.applied).toBe(true);
  return res.body.lead.id as number;
}

type Via = "get" | "form" | "json";

/** Calls /api/postback like an outside system: no Authorization header unless given. */
async function inbound(svc: TestService, params: Record<string, string | number>, via: Via = "get", headers: Record<string, string> = {}) {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const res = via === "get"
    ? await fetch(`${svc.url}/api/postback?${qs}`, { headers })
    : await fetch(`${svc.url}/api/postback`, {
      method: "POST",
      headers: { "content-type": via === "json" ? "application/json" : "application/x-www-form-urlencoded", ...headers },
      body: via === "json" ? JSON.stringify(params) : qs,
    });
  return { status: res.status, body: (await res.json()) as any };
}

/**
 * Every insert into lead_events fails until the returned function is called: a storage failure
 * the service cannot tell from a real one (a trigger, on either engine).
 */
async function failLeadEvents(svc: TestService): Promise<() => Promise<void>> {
  const db = await svc.db();
  if (onPostgres) {
    await db.run(`CREATE FUNCTION test_storage_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$`);
    await db.run("CREATE TRIGGER test_storage_failure BEFORE INSERT ON lead_events FOR EACH ROW EXECUTE FUNCTION test_storage_failure()");
  } else {
    await db.run("CREATE TRIGGER test_storage_failure BEFORE INSERT ON lead_events BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END");
  }
  await db.close();
  return async () => {
    const again = await svc.db();
    await again.run(onPostgres ? "DROP TRIGGER test_storage_failure ON lead_events" : "DROP TRIGGER test_storage_failure");
    await again.close();
  };
}

async function postbackLog(svc: TestService, query = "") {
  const res = await svc.api("GET", `/api/postback-log?limit=200${query}`);
  expect(res.status).toBe(200);
  return res.body.items as any[];
}

const leadStatus = async (svc: TestService, id: number) => (await svc.api("GET", `/api/leads/${id}`)).body.lead.status as string;

describe("result codes", () => {
  test("access, no-click, bad-click, bad-status, ok, no-changes, db: HTTP code and AlterCPA-style body, each logged", async () => {
    const { svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk-1");
    const l2 = await lead(svc, "c2", 2, "clk-2");
    const key = INBOUND_KEY;
    const expectedLog: string[] = [];
    const check = async (params: Record<string, string | number>, http: number, body: object, via: Via = "get", headers?: Record<string, string>) => {
      const res = await inbound(svc, params, via, headers);
      expect({ params, via, http: res.status, body: res.body }).toEqual({ params, via, http, body: expect.objectContaining(body) });
      expectedLog.push(res.body.status === "ok" ? "ok" : res.body.error);
      return res;
    };
    const err = (error: string, extra: object = {}) => ({ status: "error", error, message: expect.any(String), ...extra });

    // access: no key, a wrong key, the management API key (not configured as an inbound key)
    await check({ lead: l1, status: "approve" }, 403, err("access"));
    await check({ key: "inbound-secret-2", lead: l1, status: "approve" }, 403, err("access"));
    await check({ key: `${key}x`, lead: l1, status: "approve" }, 403, err("access"), "json");
    await check({ key: API_KEY, lead: l1, status: "approve" }, 403, err("access"));
    await check({ lead: l1, status: "approve" }, 403, err("access"), "form", { authorization: `Bearer ${API_KEY}` });

    // no-click: neither lead nor click
    await check({ key, status: "approve" }, 400, err("no-click"));
    await check({ key, click: "", status: "approve" }, 400, err("no-click"), "form");
    await check({ key, campaign: "c1", status: "approve" }, 400, err("no-click"), "json");

    // bad-click: no such lead
    await check({ key, lead: 99_999, status: "approve" }, 404, err("bad-click"));
    await check({ key, lead: "abc", status: "approve" }, 404, err("bad-click"));
    await check({ key, click: "no-such-click", status: "approve" }, 404, err("bad-click"), "json");
    await check({ key, click: "clk-2", campaign: "c1", status: "approve" }, 404, err("bad-click")); // exists, in c2
    await check({ key, click: "clk-1", campaign: "nosuch", status: "approve" }, 404, err("bad-click"), "form");

    // bad-status
    await check({ key, lead: l1, status: "frobnicated" }, 400, err("bad-status", { lead: l1 }));
    await check({ key, lead: l1 }, 400, err("bad-status", { lead: l1 }), "json");
    await check({ key, click: "clk-1", status: "!!!" }, 400, err("bad-status", { lead: l1 }));
    expect(await leadStatus(svc, l1)).toBe("wait");

    // ok, then no-changes (same status again; a transition tgcpa does not make)
    await check({ key, lead: l1, status: "Approved" }, 200, { status: "ok", lead: l1, changed: true });
    expect(await leadStatus(svc, l1)).toBe("approve");
    await check({ key, lead: l1, status: "sale" }, 200, err("no-changes", { lead: l1 }), "form");
    await check({ key, click: "clk-2", status: "cancelled" }, 200, err("no-changes", { lead: l2 }), "json"); // wait → cancel
    expect(await leadStatus(svc, l2)).toBe("wait");

    // db: a storage failure is 503 and changes nothing; the same request later succeeds
    const restore = await failLeadEvents(svc);
    try {
      await check({ key, lead: l2, status: "hold" }, 503, err("db", { lead: l2 }));
      expect(await leadStatus(svc, l2)).toBe("wait");
    } finally {
      await restore();
    }
    await check({ key, lead: l2, status: "hold" }, 200, { status: "ok", lead: l2, changed: true });

    // every request is in the log, newest first, with its code and without the key
    const log = await postbackLog(svc);
    expect(log.map((r) => r.result)).toEqual([...expectedLog].reverse());
    expect(new Set(expectedLog)).toEqual(new Set(["access", "no-click", "bad-click", "bad-status", "ok", "no-changes", "db"]));
    for (const row of log) {
      expect(row.params).not.toHaveProperty("key");
      expect(row).toHaveProperty("ip"); // its value: see the failing test below
    }
    expect(JSON.stringify(log)).not.toContain(key);
    expect(JSON.stringify(log)).not.toContain(API_KEY);
    const okRow = log.find((r) => r.result === "ok")!;
    expect(okRow).toMatchObject({ lead: l2, status: "hold", params: { lead: String(l2), status: "hold" } });
    expect(log.find((r) => r.result === "bad-status" && r.params.status === "frobnicated")).toMatchObject({ lead: l1, status: "frobnicated" });
    expect((await postbackLog(svc, "&result=bad-click")).length).toBe(5);
    expect((await postbackLog(svc, "&result=access")).length).toBe(5);

    // the log endpoint is a management route: the inbound key does not open it
    expect((await fetch(`${svc.url}/api/postback-log?key=${INBOUND_KEY}`)).status).toBe(401);
    expect(svc.logs.join("")).not.toContain(INBOUND_KEY);
  });

  test("the log records the caller's address", async () => {
    const { svc } = await setup();
    await inbound(svc, { key: INBOUND_KEY, lead: 1, status: "approve" });
    const [row] = await postbackLog(svc);
    expect(row.ip).toMatch(/127\.0\.0\.1$/);
  });

  test("a lead whose campaign was removed from the config is bad-click", async () => {
    const { svc } = await setup();
    const l2 = await lead(svc, "c2", 2, "clk-2");
    const cfg = JSON.parse(await Bun.file(svc.configPath).text());
    svc.writeConfig({ ...cfg, campaigns: cfg.campaigns.filter((c: any) => c.code !== "c2") });
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    const res = await inbound(svc, { key: INBOUND_KEY, lead: l2, status: "approve" });
    expect(res).toEqual({ status: 404, body: { status: "error", error: "bad-click", lead: l2, message: expect.stringContaining("c2") } });
  });
});

describe("hostile input", () => {
  test("a request without a valid key is logged with its time, address and result only, however large", async () => {
    const { svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk-1");
    // as large as the endpoint takes (bodies over 64 KiB get 413 before they are read)
    const big = { key: "wrong", lead: l1, status: "approve", click: "x".repeat(40_000), note: "n".repeat(20_000) };
    for (const via of ["form", "json"] as const) expect((await inbound(svc, big, via)).status).toBe(403);
    expect((await inbound(svc, { lead: l1, status: "approve", payout: "p".repeat(5000) })).status).toBe(403); // no key at all
    const log = await postbackLog(svc);
    expect(log).toHaveLength(3);
    for (const row of log) expect(row).toEqual({ id: expect.any(Number), result: "access", lead: null, status: null, params: {}, ip: expect.stringMatching(/127\.0\.0\.1$/), created_at: expect.any(String) });
  });

  test("a request with the key keeps its parameters, each capped at 256 bytes and 4 KiB in all, the cut marked", async () => {
    const { svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk-1");
    const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, "v".repeat(1000)]));
    const res = await inbound(svc, { key: INBOUND_KEY, lead: l1, status: "s".repeat(3000), ...extra }, "form");
    expect(res.body).toMatchObject({ status: "error", error: "bad-status", lead: l1 });
    const [row] = await postbackLog(svc);
    expect(row.status).toBe(`${"s".repeat(256)}…[+2744 bytes]`);
    expect(row.params.lead).toBe(String(l1));
    expect(row.params.x0).toBe(`${"v".repeat(256)}…[+744 bytes]`);
    expect(row.params["…"]).toMatch(/^\+\d+ more parameters not kept$/);
    expect(Buffer.byteLength(JSON.stringify(row.params))).toBeLessThan(4096 + 512);
    expect(row.params).not.toHaveProperty("key");
  });

  test("a lone UTF-16 surrogate in any parameter is a 400 naming it (AlterCPA style); nothing changes or is logged", async () => {
    const { svc } = await setup();
    const l2 = await lead(svc, "c2", 2, "clk-2");
    for (const field of ["payout", "click", "status", "currency", "campaign", "stn", "key"]) {
      const params: Record<string, string> = { key: INBOUND_KEY, click: "clk-2", status: "approve", [field]: "PLACEHOLDER" };
      const text = JSON.stringify(params).replace('"PLACEHOLDER"', '"a\\ud800"'); // JSON escape: a lone surrogate on the wire
      const res = await fetch(`${svc.url}/api/postback`, { method: "POST", headers: { "content-type": "application/json" }, body: text });
      expect({ field, status: res.status, body: await res.json() }).toEqual({
        field, status: 400, body: { status: "error", error: "bad-request", message: expect.stringContaining(`${field}: must be well-formed Unicode`) },
      });
    }
    expect(await leadStatus(svc, l2)).toBe("wait");
    expect(await postbackLog(svc)).toEqual([]);
    expect(svc.logs.filter((l) => /"level":"(error|fatal)"/.test(l))).toEqual([]);
  });
});

describe("parameters and lookup", () => {
  test("GET query, POST form and POST JSON; by lead id, by click, by click + campaign; custom word lists", async () => {
    const { svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk-1");
    const l2 = await lead(svc, "c2", 2, "clk-2");
    const s3 = await lead(svc, "c1", 3, "shared+id");
    const s4 = await lead(svc, "c2", 4, "shared+id");
    const key = INBOUND_KEY;

    expect((await inbound(svc, { key, click: "clk-1", status: "on-hold" }, "get")).body).toEqual({ status: "ok", lead: l1, changed: true });
    expect((await inbound(svc, { key, lead: l2, status: "PENDING!" }, "form")).body).toMatchObject({ error: "no-changes", lead: l2 }); // pending = wait
    expect((await inbound(svc, { key, lead: l2, status: "Confirmed!" }, "form")).body).toEqual({ status: "ok", lead: l2, changed: true });
    // the same click in two campaigns: the campaign picks one; without it the newest lead wins
    expect((await inbound(svc, { key, click: "shared+id", campaign: "c1", status: "hold" }, "json")).body).toEqual({ status: "ok", lead: s3, changed: true });
    expect((await inbound(svc, { key, click: "shared+id", status: "hold" }, "json")).body).toEqual({ status: "ok", lead: s4, changed: true });
    // JSON numbers are fine for ids; the key may be in the query while the rest is in the body
    expect((await inbound(svc, { key, lead: l1, status: "sale" }, "json")).body).toEqual({ status: "ok", lead: l1, changed: true });
    const mixed = await fetch(`${svc.url}/api/postback?key=${key}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ lead: s3, status: "APPROVED" }) });
    expect(await mixed.json()).toEqual({ status: "ok", lead: s3, changed: true });

    // per-request lists: a word of one's own, and a list that overrides the built-in meaning
    expect((await inbound(svc, { key, lead: s4, status: "Одобрен", sta: "принят,одобрен" }, "get")).body).toEqual({ status: "ok", lead: s4, changed: true });
    expect(await leadStatus(svc, s4)).toBe("approve");
    expect((await inbound(svc, { key, lead: l2, status: "approved", stt: "approved" }, "form")).body).toEqual({ status: "ok", lead: l2, changed: true });
    expect(await leadStatus(svc, l2)).toBe("trash");
    expect((await inbound(svc, { key, lead: l1, status: "x-1", stc: "x1" }, "json")).body).toEqual({ status: "ok", lead: l1, changed: true });
    expect(await leadStatus(svc, l1)).toBe("cancel");

    const events = (await svc.api("GET", `/api/leads/${l1}`)).body.events;
    expect(events.map((e: any) => [e.status, e.source])).toEqual([["wait", "api"], ["hold", "inbound"], ["approve", "inbound"], ["cancel", "inbound"]]);
    const log = await postbackLog(svc);
    expect(log).toHaveLength(10);
    for (const row of log) expect(Object.keys(row.params)).not.toContain("key");
    expect(log[0]).toMatchObject({ result: "ok", lead: l1, status: "cancel", params: { lead: String(l1), status: "x-1", stc: "x1" } });
  });
});

describe("outbound postbacks from inbound changes", () => {
  test("an inbound change fires the campaign's postbacks; inbound payout/currency override the campaign's for that event", async () => {
    const { kt, raw, svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk 1+x");
    await kt.waitForCount(1);
    const l3 = await lead(svc, "c1", 3, "clk-3");
    await kt.waitForCount(2);
    const l2 = await lead(svc, "c2", 2, "clk-2"); // c2 reports no wait
    const key = INBOUND_KEY;

    // one at a time: postbacks of different leads may overtake each other
    expect((await inbound(svc, { key, lead: l1, status: "approve", payout: "25.5", currency: "EUR" })).body.changed).toBe(true);
    await kt.waitForCount(3);
    expect((await inbound(svc, { key, click: "clk-3", campaign: "c1", status: "approve" }, "form")).body.changed).toBe(true);
    await kt.waitForCount(4);
    expect((await inbound(svc, { key, lead: l2, status: "approve", payout: 7 }, "json")).body.changed).toBe(true);
    expect((await inbound(svc, { key, lead: l2, status: "cancel", currency: "RUB" }, "json")).body.changed).toBe(true);
    expect((await inbound(svc, { key, lead: l1, status: "approve", payout: "99" })).body.error).toBe("no-changes"); // fires nothing
    await raw.waitForCount(2);
    await eventually(async () => (await svc.api("GET", "/api/postbacks?state=pending")).body.items.length === 0, 5000, "outbox drained");

    const tail = "&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash";
    expect(kt.lines).toEqual([
      `GET /${KT_KEY}/postback?subid=clk%201%2Bx&status=wait&tid=${l1}${tail}`, // no payout yet: left out, not sent empty
      `GET /${KT_KEY}/postback?subid=clk-3&status=wait&tid=${l3}${tail}`,
      `GET /${KT_KEY}/postback?subid=clk%201%2Bx&status=approve&payout=25.5&currency=EUR&tid=${l1}${tail}`,
      `GET /${KT_KEY}/postback?subid=clk-3&status=approve&payout=10&currency=USD&tid=${l3}${tail}`,
    ]);
    expect(kt.conversions.get("clk 1+x")).toMatchObject({ status: "sale", payout: "25.5", currency: "EUR" });
    // c2 has no campaign payouts: only what the inbound request brought
    expect(raw.received.map((r) => r.url)).toEqual([
      `/pb?c=clk-2&s=approve&p=7&cur=&l=${l2}`,
      `/pb?c=clk-2&s=cancel&p=&cur=RUB&l=${l2}`,
    ]);
    expect((await svc.api("GET", "/api/postbacks?state=delivered")).body.items).toHaveLength(6);
  });
});

describe("paused campaign", () => {
  async function pausedSetup() {
    const { raw, svc } = await setup();
    const l2 = await lead(svc, "c2", 2, "clk-2");
    const cfg = JSON.parse(await Bun.file(svc.configPath).text());
    svc.writeConfig({ ...cfg, campaigns: cfg.campaigns.map((c: any) => (c.code === "c2" ? { ...c, paused: true } : c)) });
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    return { raw, svc, l2 };
  }

  test("an inbound change to a lead of a paused campaign is applied; its postbacks are recorded as skipped", async () => {
    const { raw, svc, l2 } = await pausedSetup();
    expect((await inbound(svc, { key: INBOUND_KEY, lead: l2, status: "approve" })).body).toEqual({ status: "ok", lead: l2, changed: true });
    const detail = (await svc.api("GET", `/api/leads/${l2}`)).body;
    expect(detail.lead.status).toBe("approve");
    expect(detail.postbacks.map((p: any) => [p.status, p.state, p.reason])).toEqual([["approve", "skipped", "campaign_paused"]]);
    expect(raw.received).toHaveLength(0);
  });

  test("postbacks skipped by an inbound change are counted in tgcpa_postbacks_finished_total", async () => {
    const { svc, l2 } = await pausedSetup();
    await inbound(svc, { key: INBOUND_KEY, lead: l2, status: "approve" });
    expect(await (await fetch(`${svc.url}/metrics`)).text()).toContain('tgcpa_postbacks_finished_total{state="skipped"} 1');
  });
});

describe("keys", () => {
  test("the inbound key never reaches the service logs, even on failures", async () => {
    const { svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk-1");
    for (const via of ["get", "form", "json"] as const) {
      await inbound(svc, { key: INBOUND_KEY, lead: l1, status: "approve" }, via);
      await inbound(svc, { key: INBOUND_KEY, lead: 424242, status: "approve" }, via);
      await inbound(svc, { key: INBOUND_KEY, lead: l1, status: "nonsense" }, via);
      await inbound(svc, { key: `${INBOUND_KEY}-wrong`, lead: l1, status: "approve" }, via);
    }
    await failLeadEvents(svc);
    expect((await inbound(svc, { key: INBOUND_KEY, lead: l1, status: "cancel" })).body.error).toBe("db");
    const logs = svc.logs.join("");
    expect(logs).toContain("inbound postback: write failed"); // the failure is logged…
    expect(logs).not.toContain(INBOUND_KEY); // …but not the key
    expect(JSON.stringify(await postbackLog(svc))).not.toContain(INBOUND_KEY);
  });

  test("the management API key is an inbound key only when configured as one", async () => {
    const { svc } = await setup();
    const l1 = await lead(svc, "c1", 1, "clk-1");
    expect(await inbound(svc, { key: API_KEY, lead: l1, status: "hold" })).toEqual({ status: 403, body: expect.objectContaining({ error: "access" }) });
    expect(await inbound(svc, { key: API_KEY, lead: l1, status: "hold" }, "json")).toEqual({ status: 403, body: expect.objectContaining({ error: "access" }) });

    const cfg = JSON.parse(await Bun.file(svc.configPath).text());
    svc.writeConfig({ ...cfg, inbound_keys: [INBOUND_KEY, API_KEY] });
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    expect(await inbound(svc, { key: API_KEY, lead: l1, status: "hold" })).toEqual({ status: 200, body: { status: "ok", lead: l1, changed: true } });

    // and a key dropped from the config stops working at once
    svc.writeConfig({ ...cfg, inbound_keys: ["inbound-secret-9-0123456789abcdef0123456789abcdef"] });
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    expect((await inbound(svc, { key: INBOUND_KEY, lead: l1, status: "approve" })).status).toBe(403);
    expect((await inbound(svc, { key: "inbound-secret-9-0123456789abcdef0123456789abcdef", lead: l1, status: "approve" })).body).toEqual({ status: "ok", lead: l1, changed: true });
  });
});
