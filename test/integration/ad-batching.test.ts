/**
 * Batching for the ad platforms, on the real dispatcher against fakes on 127.0.0.1 that answer as
 * Meta and TikTok do (helpers/fake-ad-platforms/): a backlog — here after an outage — goes out
 * several events per request, each row keeping its own lease, outcome and attempt log; a Meta
 * refusal of the whole request because of one bad event sends the others alone (they are
 * delivered, the bad one is rejected in Meta's words); a refusal that is the request's own (a bad
 * token) rejects every row of it at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeMetaCapi, FakeTikTokEvents } from "../helpers/fake-ad-platforms/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { eventually } from "../helpers/eventually.ts";
import { listPostbacks } from "../helpers/service/api-client.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const META_TOKEN = "EAAB-batching-token-41c9";
let meta: FakeMetaCapi;
let tiktok: FakeTikTokEvents;
let svc: TestService;
let clock: FakeClock;
let nextSubscriber = 500_000;

beforeAll(async () => {
  [meta, tiktok] = await Promise.all([
    FakeMetaCapi.start({ token: META_TOKEN, pixelId: "1234567890" }),
    FakeTikTokEvents.start({ token: "tt-batching-token", pixelCode: "CABCD1234" }),
  ]);
  clock = new FakeClock(Date.now() - 10 * 60_000); // Meta refuses events older than 7 days: the clock stays near real time
  svc = await startTestService({
    delivery: { retry_ladder: ["0s", "1m", "1m", "1m"] },
    destinations: {
      fb: { preset: "meta-capi", pixel_id: "1234567890", access_token: META_TOKEN, base_url: meta.base },
      tt: { preset: "tiktok-events", pixel_code: "CABCD1234", access_token: "tt-batching-token", page_url: "https://t.me/spring_channel", base_url: tiktok.base },
    },
    campaigns: [{ code: "c1", postbacks: { wait: [{ destination: "fb" }, { destination: "tt" }] } }],
  }, { clock });
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([meta, tiktok].map((f) => f?.close()));
});

const dispatcher = () => svc.svc.deps.dispatcher;

/** `n` Starts (each a Meta and a TikTok row) while both platforms fail, so that their rows pile up; `stale`: that many with an event 8 days old. */
async function backlogOf(n: number, stale = 0) {
  meta.failWith = "service_temporary"; // code 2: retried
  tiktok.failWith = "too_many_requests"; // 40100: retried
  const events: number[] = [];
  for (let i = 0; i < n; i++) {
    const time = i < stale ? Math.floor(clock.now() / 1000) - 8 * 86_400 : undefined;
    const res = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: ++nextSubscriber, status: "wait", ...(time ? { time } : {}) });
    expect(res.status).toBe(200);
    events.push(res.body.events[0].id);
  }
  // Every row attempted once or held back by the open circuit; nothing in flight.
  await eventually(() => meta.received.length >= 5 && tiktok.received.length >= 5 && dispatcher().inFlightCount === 0, 5000, "the outage felt");
  meta.failWith = tiktok.failWith = null;
  return events;
}

const rowsOf = async (events: number[], template: string) =>
  (await listPostbacks(svc, "")).filter((p) => events.includes(p.event) && p.template === template);

/** The event ids each request of `fake` since `from` carried. */
const requestsSince = (fake: FakeMetaCapi | FakeTikTokEvents, from: number) =>
  fake.received.slice(from).map((r) => (JSON.parse(r.body).data as { event_id: string }[]).map((e) => Number(e.event_id)));

describe("a backlog goes out several events per request", () => {
  test("after an outage: far fewer requests than rows, none over the platform's limit, every row delivered once with its own attempt log", async () => {
    const events = await backlogOf(60);
    const [metaFrom, tiktokFrom] = [meta.received.length, tiktok.received.length];
    clock.advance(61_000); // the retry step and the circuit's cool-down
    await eventually(async () => (await listPostbacks(svc, "&state=pending")).length === 0, 10_000, "the backlog drained");

    for (const [fake, from, template] of [[meta, metaFrom, "destinations.fb.wait"], [tiktok, tiktokFrom, "destinations.tt.wait"]] as const) {
      const requests = requestsSince(fake, from);
      const carried = requests.flat();
      // Nothing was delivered during the outage: after it, every row's event exactly once.
      expect([template, [...carried].sort((a, b) => a - b)]).toEqual([template, [...events].sort((a, b) => a - b)]);
      expect(requests.length).toBeLessThan(carried.length / 4);
      expect(Math.max(...requests.map((r) => r.length))).toBeLessThanOrEqual(100);
    }
    const rows = [...await rowsOf(events, "destinations.fb.wait"), ...await rowsOf(events, "destinations.tt.wait")];
    expect(rows).toHaveLength(120);
    expect(rows.every((p) => p.state === "delivered")).toBe(true);
    // Each row's own attempt log: the batch's answer, and how many events it carried.
    const sample = rows.find((p) => p.template === "destinations.fb.wait")!;
    const attempts = (await svc.api("GET", `/api/postbacks/${sample.id}`)).body.attempts;
    expect(attempts.at(-1)).toMatchObject({ outcome: "delivered", http_status: 200 });
    expect(Number(/"events_received":(\d+)/.exec(attempts.at(-1).response_head)?.[1])).toBeGreaterThan(1);
  }, 20_000);

  test("a row that arrives alone goes alone, at once", async () => {
    const from = meta.received.length;
    const res = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: ++nextSubscriber, status: "wait" });
    await eventually(() => meta.received.length > from, 5000, "sent");
    expect(requestsSince(meta, from)).toEqual([[res.body.events[0].id]]);
  });
});

describe("a refusal of the whole request", () => {
  test("Meta refuses a request for one stale event: the others are sent alone and delivered, the stale one rejected in Meta's words", async () => {
    const events = await backlogOf(10, 1);
    const from = meta.received.length;
    clock.advance(61_000);
    await eventually(async () => (await rowsOf(events, "destinations.fb.wait")).every((p) => p.state !== "pending"), 10_000, "Meta's rows settled");
    const rows = await rowsOf(events, "destinations.fb.wait");
    const stale = rows.find((p) => p.event === events[0])!;
    expect(stale).toMatchObject({ state: "rejected", reason: "platform refused: meta code 100/2804003 (Event Timestamp Too Old): Invalid parameter" });
    expect(rows.filter((p) => p !== stale).every((p) => p.state === "delivered")).toBe(true);
    // The refused request carried several events; after it, each was sent alone.
    const requests = requestsSince(meta, from);
    const refused = requests.findIndex((r) => r.includes(events[0]!) && r.length > 1);
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(requests.slice(refused + 1).every((r) => r.length === 1)).toBe(true);
    const log = (await svc.api("GET", `/api/postbacks/${stale.id}`)).body.attempts.map((a: any) => [a.outcome, a.error]);
    expect(log.at(-2)).toEqual(["retry", expect.stringMatching(/^a request of \d+ events was refused as a whole; each is sent alone next: platform refused: meta code 100\/2804003/)]);
    expect(log.at(-1)).toEqual(["rejected", "platform refused: meta code 100/2804003 (Event Timestamp Too Old): Invalid parameter"]);
    const fine = rows.find((p) => p !== stale)!;
    expect((await svc.api("GET", `/api/postbacks/${fine.id}`)).body.attempts.at(-1)).toMatchObject({ outcome: "delivered" });
  }, 20_000);

  test("a token Meta no longer takes is the request's own refusal: every row of it rejected at once, none sent alone", async () => {
    const events = await backlogOf(12);
    meta.token = "EAAB-rotated-elsewhere"; // ours is now refused: code 190
    const from = meta.received.length;
    try {
      clock.advance(61_000);
      await eventually(async () => (await rowsOf(events, "destinations.fb.wait")).every((p) => p.state !== "pending"), 10_000, "Meta's rows settled");
      const rows = await rowsOf(events, "destinations.fb.wait");
      expect(rows.every((p) => p.state === "rejected" && p.reason === "platform refused: meta code 190: The access token could not be decrypted")).toBe(true);
      const requests = requestsSince(meta, from);
      expect(requests.flat().sort()).toEqual(rows.filter((p) => p.attempts > 1 || requests.flat().includes(p.event)).map((p) => p.event).sort());
      expect(requests.length).toBeLessThan(rows.length);
    } finally {
      meta.token = META_TOKEN;
    }
  }, 20_000);
});
