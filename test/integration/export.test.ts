// GET /api/export/leads and /api/export/postbacks: the lists' filters, CSV per RFC 4180 and safe in
// a spreadsheet, JSON Lines, and streamed — the first rows reach a client before the last are read.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { rawGet } from "../helpers/raw-http.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { applyEvent, outboxSettled } from "../helpers/service/api-client.ts";
import { onPostgres } from "../helpers/service/database.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

/** RFC 4180 records: quoted fields with "" for a quote, CRLF between records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") record.push(field), records.push(record), (record = []), (field = ""), i++;
    else field += c;
  }
  if (field || record.length) throw new Error(`a record without CRLF at the end: ${JSON.stringify(record)}`);
  return records;
}

const table = (text: string) => {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
};

let svc: TestService;
let tracker: RecordingTracker;
const clock = new FakeClock(Date.UTC(2026, 2, 1, 9, 0, 0));
const DAY = 86_400_000;

beforeAll(async () => {
  tracker = await RecordingTracker.start();
  const pb = `${tracker.base}/pb?c={click}&s={status}`;
  svc = await startTestService({
    postbacks: { wait: pb, approve: pb, cancel: pb },
    campaigns: [{ code: "c1", unsub_window: "30d" }, { code: "c2" }],
  }, { clock });
  await applyEvent(svc, { subscriber: 1, status: "wait", click: '=HYPERLINK("http://evil.example","click")' });
  clock.advance(60_000);
  await applyEvent(svc, { subscriber: 1, status: "approve" });
  clock.advance(DAY);
  await applyEvent(svc, { subscriber: 2, status: "wait", click: 'a,"b"\nc' });
  await applyEvent(svc, { subscriber: 3, status: "wait", click: "-5+3" });
  await applyEvent(svc, { subscriber: 3, status: "approve" });
  await applyEvent(svc, { subscriber: 3, status: "cancel" });
  await applyEvent(svc, { campaign: "c2", subscriber: 4, status: "wait", click: "k4" });
  await applyEvent(svc, { campaign: "c2", subscriber: 4, status: "approve" });
  await outboxSettled(svc);
  // Lead 4 came through the click link (issue 21): its click record, as the link stores it.
  const db = await svc.db();
  // SQLite keeps the parameters as JSON text, PostgreSQL as jsonb (the driver encodes an object).
  const params = { utm_source: "fb", sub1: "=1+1" };
  await db.run(`INSERT INTO clicks (token, campaign_id, params, fbc, fbp, ip, user_agent, referrer, landing_url, cut, created_at)
    VALUES ('Xk3vQ9aLm2Tb', (SELECT id FROM campaigns WHERE code = 'c2'), ?, 'fb.1.1.IwAR', NULL, '203.0.113.7', 'Mozilla/5.0', NULL, ?, 0, CAST(? AS BIGINT))`,
  [onPostgres ? params : JSON.stringify(params), "https://tg.example.com/c/c2?utm_source=fb", Date.UTC(2026, 2, 2, 9, 0)]);
  await db.run("UPDATE leads SET click_id = (SELECT id FROM clicks WHERE token = 'Xk3vQ9aLm2Tb') WHERE subscriber = 4");
  await db.close();
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await tracker?.close();
});

const get = (path: string) => fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });

describe("export of leads", () => {
  test("a filter (campaign, status) as CSV: the matching leads only, each status with its first time, every event in order", async () => {
    const res = await get("/api/export/leads?campaign=c1&status=approve");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="leads-20260302-090100.csv"');
    const rows = table(await res.text());
    expect(rows.map((r) => r.subscriber)).toEqual(["1"]); // 3 is cancel now, 4 is in c2
    expect(rows[0]).toMatchObject({
      campaign: "c1", status: "approve", wait_at: "2026-03-01T09:00:00.000Z", approve_at: "2026-03-01T09:01:00.000Z", hold_at: "", cancel_at: "",
      events: "wait@2026-03-01T09:00:00.000Z approve@2026-03-01T09:01:00.000Z",
    });
  });

  test("CSV cells: quotes, commas and newlines quoted per RFC 4180; a text a spreadsheet would run as a formula starts with '; numbers stay numbers", async () => {
    const text = await (await get("/api/export/leads?campaign=c1")).text();
    const rows = table(text);
    expect(rows.map((r) => r.subscriber)).toEqual(["3", "2", "1"]); // newest first
    const click = Object.fromEntries(rows.map((r) => [r.subscriber, r.click]));
    expect(click["1"]).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(click["2"]).toBe('a,"b"\nc');
    expect(click["3"]).toBe("'-5+3");
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(rows[0]!.events).toBe("wait@2026-03-02T09:01:00.000Z approve@2026-03-02T09:01:00.000Z cancel@2026-03-02T09:01:00.000Z");
  });

  test("since/until (creation time) and JSON Lines: one object per line with the events", async () => {
    const since = new Date(Date.UTC(2026, 2, 2)).toISOString();
    const res = await get(`/api/export/leads?since=${since}&format=jsonl`);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.subscriber)).toEqual([4, 3, 2]);
    expect(lines[0]).toMatchObject({ campaign: "c2", click: "k4", status: "approve", approve_at: "2026-03-02T09:01:00.000Z" });
    expect(lines[0].click_record).toEqual({
      params: { utm_source: "fb", sub1: "=1+1" }, fbc: "fb.1.1.IwAR", fbp: null, ip: "203.0.113.7", user_agent: "Mozilla/5.0", referrer: null,
      landing_url: "https://tg.example.com/c/c2?utm_source=fb", at: "2026-03-02T09:00:00.000Z",
    });
    expect(lines[1].click_record).toBeNull();
    expect(lines[0].events.map((e: any) => e.status)).toEqual(["wait", "approve"]);
    expect(lines[2].click).toBe('a,"b"\nc'); // JSON keeps text as it is
    const list = (await svc.api("GET", `/api/leads?since=${since}`)).body.items.map((l: any) => l.subscriber);
    expect(list).toEqual([4, 3, 2]); // the list takes the same filter
  });

  test("a search by subscriber, with its click link's parameters; an unknown campaign (header only), a bad format and an unknown filter", async () => {
    const [four] = table(await (await get("/api/export/leads?subscriber=4")).text());
    expect(four).toMatchObject({ campaign: "c2", click_params: "utm_source=fb&sub1=%3D1%2B1", click_ip: "203.0.113.7", click_at: "2026-03-02T09:00:00.000Z" });
    const none = await (await get("/api/export/leads?campaign=nope")).text();
    expect(parseCsv(none)).toHaveLength(1);
    const bad = await get("/api/export/leads?format=xml");
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).error.details[0].field).toBe("query.format");
    const typo = await get("/api/export/leads?statu=approve");
    expect(typo.status).toBe(422);
    expect(((await typo.json()) as any).error.details[0].field).toBe("query.statu");
    expect((await fetch(`${svc.url}/api/export/leads`)).status).toBe(401);
  });
});

describe("export of postbacks", () => {
  test("by state and status with the lead's click, CSV and JSON Lines", async () => {
    const rows = table(await (await get("/api/export/postbacks?status=approve&state=delivered")).text());
    expect(rows.map((r) => [r.campaign, r.click, r.status, r.state])).toEqual([
      ["c2", "k4", "approve", "delivered"], ["c1", "'-5+3", "approve", "delivered"], ["c1", `'=HYPERLINK("http://evil.example","click")`, "approve", "delivered"],
    ]);
    expect(rows[0]!.url).toBe(`${tracker.base}/pb?c=k4&s=approve`);
    const lines = (await (await get("/api/export/postbacks?campaign=c2&format=jsonl")).text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.status, l.click, l.attempts])).toEqual([["approve", "k4", 1], ["wait", "k4", 1]]);
  });
});

describe("streaming", () => {
  test("the first rows reach the client before the last ones are read: a change to the oldest lead made meanwhile is in the export", async () => {
    // 20,000 leads with 2 KB clicks, about 45 MB of JSON Lines: far more than the socket buffers
    // hold, so once the client stops reading, the service stops reading pages too.
    const first = 1_000_000;
    if (onPostgres) {
      const db = await svc.db();
      await db.run(`INSERT INTO leads (campaign_id, subscriber, click, status, created_at, updated_at)
        SELECT (SELECT id FROM campaigns WHERE code = 'c2'), ? + i, 'bulk' || i || '-' || repeat('x', 2000), 'wait', CAST(? AS BIGINT), CAST(? AS BIGINT)
        FROM generate_series(0, 19999) AS i`, [first, clock.now(), clock.now()]);
      await db.close();
    } else {
      const db = svc.sqlite();
      const campaign = (db.query("SELECT id FROM campaigns WHERE code = 'c2'").get() as { id: number }).id;
      const insert = db.prepare("INSERT INTO leads (campaign_id, subscriber, click, status, created_at, updated_at) VALUES (?, ?, ?, 'wait', ?, ?)");
      db.transaction(() => {
        for (let i = 0; i < 20_000; i++) insert.run(campaign, first + i, `bulk${i}-${"x".repeat(2000)}`, clock.now(), clock.now());
      })();
    }
    const res = await rawGet(svc.svc.server.port!, "/api/export/leads?campaign=c2&format=jsonl", { authorization: `Bearer ${API_KEY}` });
    expect(res.head).toStartWith("HTTP/1.1 200");
    const start = await res.until((b) => b.includes("\n"));
    res.pause();
    const firstLine = JSON.parse(start.slice(0, start.indexOf("\n")));
    expect(firstLine.subscriber).toBe(first + 19_999); // newest first
    // The oldest of them changes while the client is not reading.
    expect((await svc.api("POST", "/api/events", { campaign: "c2", subscriber: first, status: "approve" })).status).toBe(200);
    const lines = (await res.rest()).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20_001); // and subscriber 4
    const oldest = lines.find((l) => l.subscriber === first)!;
    expect(oldest.status).toBe("approve");
    expect(oldest.events.map((e: any) => e.status)).toEqual(["approve"]);
    expect(lines.at(-1).subscriber).toBe(4);
  }, 60_000);
});
