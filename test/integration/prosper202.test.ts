// The prosper202 preset against a fake Prosper202 that answers as its gpb.php does: approve only
// (Prosper202 has no status parameter and counts every request as a conversion), the txid constant
// per lead; delivered on 200 empty or 202 JSON, rejected on its 404 JSON or a JSON `"error": true`.
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { FakeProsper202 } from "../helpers/fake-trackers/index.ts";
import { applyEvent, listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();

async function setup(pixel: "none" | "server") {
  const p202 = await cleanup.closing(FakeProsper202.start({ clicks: ["1001", "1002"], pixel }));
  const clock = new FakeClock();
  const svc = await startTestService({
    destinations: { p202: { preset: "prosper202", domain: p202.base } },
    postbacks: { destination: "p202" },
    campaigns: [{ code: "c1", payouts: { approve: { payout: "2.5", currency: "USD" } } }],
  }, { clock });
  cleanup.push(() => svc.stop());
  return { p202, svc, clock };
}

describe("prosper202 preset", () => {
  test.each([["none", 200], ["server", 202]] as const)("pixel %s: a lead's wait, hold, approve, cancel send one request, the approve; one conversion, delivered (%i)", async (pixel, status) => {
    const { p202, svc } = await setup(pixel);
    for (const s of ["wait", "hold", "approve", "cancel"]) await applyEvent(svc, { campaign: "c1", subscriber: 1, status: s, click: "1001" });
    await p202.waitForCount(1);
    await outboxSettled(svc);
    const rows = await listPostbacks(svc);
    expect(rows.map((r) => [r.status, r.state, r.last_http_status])).toEqual([["approve", "delivered", status]]);
    const lead = rows[0].lead;
    expect(p202.lines).toEqual([`GET /tracking202/static/gpb.php?subid=1001&amount=2.5&txid=${lead}`]);
    expect(p202.conversions).toEqual([{ subid: "1001", amount: "2.5", txid: String(lead) }]);
  });

  test("a re-approve after a cancel sends again with the same txid (Prosper202 counts it again: the README says to check its report)", async () => {
    const { p202, svc } = await setup("none");
    for (const s of ["wait", "approve", "cancel", "approve"]) await applyEvent(svc, { campaign: "c1", subscriber: 2, status: s, click: "1002" });
    await p202.waitForCount(2);
    await outboxSettled(svc);
    expect(new Set(p202.conversions.map((c) => c.txid)).size).toBe(1);
    expect(p202.conversions).toHaveLength(2);
  });

  test("an unknown or non-numeric click: its 404 JSON is rejected with its words, sent once", async () => {
    const { p202, svc, clock } = await setup("server");
    for (const [subscriber, click] of [[3, "999"], [4, "abc"]] as const) {
      for (const s of ["wait", "approve"]) await applyEvent(svc, { campaign: "c1", subscriber, status: s, click });
    }
    await p202.waitForCount(2);
    await outboxSettled(svc);
    clock.advance(3 * 86_400_000);
    await Bun.sleep(50);
    const rows = await listPostbacks(svc);
    expect(rows.map((r) => [r.state, r.reason])).toEqual([
      ["rejected", 'http_404: {"error":true,"code":404,"msg":"SubID not found"}'],
      ["rejected", 'http_404: {"error":true,"code":404,"msg":"SubID not found"}'],
    ]);
    expect(p202.received).toHaveLength(2);
    expect(p202.conversions).toEqual([]);
  });

  test("a 2xx whose JSON says \"error\": true is rejected as the tracker's refusal", async () => {
    const { p202, svc } = await setup("server");
    p202.override(() => ({ status: 200, body: JSON.stringify({ error: true, code: 500, msg: "Database error" }), headers: { "content-type": "application/json" } }));
    for (const s of ["wait", "approve"]) await applyEvent(svc, { campaign: "c1", subscriber: 5, status: s, click: "1001" });
    await p202.waitForCount(1);
    await outboxSettled(svc);
    expect((await listPostbacks(svc)).map((r) => [r.state, r.reason])).toEqual([["rejected", "tracker refused: error true, code 500: Database error"]]);
  });

  test("GET /api/presets lists it: approve only", async () => {
    const { svc } = await setup("none");
    const presets = (await svc.api("GET", "/api/presets")).body.items as { name: string; verdict: string | null; templates: Record<string, string> }[];
    const p = presets.find((x) => x.name === "prosper202")!;
    expect(p.templates).toEqual({ wait: "", hold: "", approve: "{domain}/tracking202/static/gpb.php?subid={click}&amount={payout}&txid={lead}", cancel: "", trash: "" });
  });
});
