// GET /api/money with two currencies (configured payouts in USD and RUB, an inbound postback's in
// EUR), costs entered through PUT (idempotent), the CSV upload (a bad line refuses all of it) and
// the config, and the cost per subscriber still there on day 7.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 4, 1, 9);
const clock = new FakeClock(T0);
const INBOUND = "inbound-key-money-0123456789abcdef01";
let svc: TestService;

const event = async (body: Record<string, unknown>) => expect((await svc.api("POST", "/api/events", body)).body.applied).toBe(true);
const money = async (q = "") => (await svc.api("GET", `/api/money?tz=UTC&since=2025-05-01&until=2025-05-03${q}`)).body;

beforeAll(async () => {
  svc = await startTestService({
    inbound_keys: [INBOUND],
    campaigns: [
      { code: "spring", unsub_window: "30d", payouts: { approve: { payout: "2.00", currency: "USD" } } },
      { code: "autumn", payouts: { approve: { payout: "150", currency: "RUB" } }, costs: [{ date: "2025-05-01", amount: "1000", currency: "RUB" }] },
    ],
  }, { clock });
  for (const s of [1, 2, 3]) await event({ campaign: "spring", subscriber: 4_318_000_000 + s, status: "wait", click: `k${s}` });
  await event({ campaign: "autumn", subscriber: 4_318_000_009, status: "wait", click: "r9" });
  clock.advance(60_000);
  await event({ campaign: "spring", subscriber: 4_318_000_001, status: "approve" });
  await event({ campaign: "spring", subscriber: 4_318_000_002, status: "approve" });
  await event({ campaign: "autumn", subscriber: 4_318_000_009, status: "approve" });
  const inbound = await fetch(`${svc.url}/api/postback?key=${INBOUND}&click=k3&campaign=spring&status=sale&payout=5&currency=EUR`);
  expect(await inbound.json()).toMatchObject({ status: "ok", changed: true });
  clock.advance(DAY);
  await event({ campaign: "spring", subscriber: 4_318_000_002, status: "cancel" });
  clock.advance(8 * DAY - 60_000); // 2025-05-10 09:00: every day 7 of May 1 has come
});
afterAll(() => svc.stop());

describe("costs", () => {
  test("PUT sets a day's cost; the same request again leaves the same state", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await svc.api("PUT", "/api/costs/spring/2025-05-01", { amount: "6", currency: "usd" });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ campaign: "spring", date: "2025-05-01", currency: "USD", amount: "6.00", source: "api" });
    }
    const day = (await money("&campaign=spring")).campaigns[0].days[0];
    expect(day.cost).toEqual({ currency: "USD", amount: "6.00", source: "api" });
  });

  test("bad input names its field and writes nothing", async () => {
    const cases: [string, unknown, string][] = [
      ["/api/costs/winter/2025-05-01", { amount: "1", currency: "USD" }, "params.campaign"],
      ["/api/costs/spring/2025-02-30", { amount: "1", currency: "USD" }, "params.date"],
      ["/api/costs/spring/2025-05-01", { amount: "-1", currency: "USD" }, "body.amount"],
      ["/api/costs/spring/2025-05-01", { amount: "1", currency: "US$" }, "body.currency"],
    ];
    for (const [path, body, field] of cases) {
      const r = await svc.api("PUT", path, body);
      expect({ path, status: r.status, fields: JSON.stringify(r.body.error.details) }).toMatchObject({ path, status: 422, fields: expect.stringContaining(field) });
    }
    expect((await money("&campaign=spring")).campaigns[0].days[0].cost.amount).toBe("6.00");
  });

  test("a CSV upload with a bad line is refused naming it, and nothing of it is written", async () => {
    const csv = "campaign,date,amount,currency\nautumn,2025-05-01,900,RUB\nspring,2025-05-01,7.5,USD\nspring,2025-05-02,oops,USD\n";
    const r = await svc.api("POST", "/api/costs/csv", { csv });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toBe('line 4: "oops" is not an amount such as 12.50 (0 or more, up to 6 decimals); nothing was written');
    expect(r.body.error.details).toEqual([{ field: "body.csv line 4", message: '"oops" is not an amount such as 12.50 (0 or more, up to 6 decimals)' }]);
    const after = await money();
    expect(after.campaigns.find((c: any) => c.campaign === "autumn").days[0].cost).toEqual({ currency: "RUB", amount: "1000.00", source: "config" });
    expect(after.campaigns.find((c: any) => c.campaign === "spring").days[0].cost.amount).toBe("6.00");
  });

  test("a good CSV replaces the config's cost of that day", async () => {
    const r = await svc.api("POST", "/api/costs/csv", { csv: "autumn,2025-05-01,900,RUB\n" });
    expect(r.body).toEqual({ written: 1 });
    expect((await money("&campaign=autumn")).campaigns[0].days[0].cost).toEqual({ currency: "RUB", amount: "900.00", source: "csv" });
  });
});

describe("GET /api/money", () => {
  test("two currencies kept apart; cost per subscriber and per subscriber still there on day 7", async () => {
    const r = await money();
    const spring = r.campaigns.find((c: any) => c.campaign === "spring");
    expect(spring.days).toEqual([{
      day: "2025-05-01", subscribers: 3, retained_7: 2,
      revenue: [{ currency: "EUR", amount: "5.00", events: 1 }, { currency: "USD", amount: "4.00", events: 2 }],
      cost: { currency: "USD", amount: "6.00", source: "api" },
      cost_per_subscriber: "2.00", cost_per_retained_7: "3.00", difference: "-2.00", // 4 USD − 6 USD; the EUR is not converted
    }]);
    expect(spring.totals).toEqual([
      { currency: "EUR", revenue: "5.00", cost: null, difference: null, subscribers: null, cost_per_subscriber: null, retained_7: null, cost_per_retained_7: null },
      { currency: "USD", revenue: "4.00", cost: "6.00", difference: "-2.00", subscribers: 3, cost_per_subscriber: "2.00", retained_7: 2, cost_per_retained_7: "3.00" },
    ]);
    const autumn = r.campaigns.find((c: any) => c.campaign === "autumn");
    expect(autumn.totals).toEqual([
      { currency: "RUB", revenue: "150.00", cost: "900.00", difference: "-750.00", subscribers: 1, cost_per_subscriber: "900.00", retained_7: 1, cost_per_retained_7: "900.00" },
    ]);
  });

  test("a day whose day 7 has not come: retained_7 and its cost per head are null, not 0", async () => {
    await event({ campaign: "spring", subscriber: 4_318_000_020, status: "wait", click: "k20" });
    await event({ campaign: "spring", subscriber: 4_318_000_020, status: "approve" });
    expect((await svc.api("PUT", "/api/costs/spring/2025-05-10", { amount: 3, currency: "USD" })).status).toBe(200);
    const r = await svc.api("GET", "/api/money?tz=UTC&since=2025-05-10&until=2025-05-11&campaign=spring");
    expect(r.body.campaigns[0].days).toEqual([{
      day: "2025-05-10", subscribers: 1, retained_7: null, revenue: [{ currency: "USD", amount: "2.00", events: 1 }],
      cost: { currency: "USD", amount: "3.00", source: "api" }, cost_per_subscriber: "3.00", cost_per_retained_7: null, difference: "-1.00",
    }]);
  });
});
