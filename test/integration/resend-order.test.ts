/**
 * A tracker always ends at the lead's current status (issue 24, item 7): a re-sent older postback
 * must not undo a later one. Against a fake Keitaro-compatible tracker that keeps each click's
 * conversion (lead→sale, lead→rejected, sale→rejected, and rejected→sale as a real one was seen
 * doing; a late lead ignored), driven by the real dispatcher through the HTTP API.
 */
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { FakeKeitaroCompatible } from "../helpers/fake-trackers/index.ts";
import { applyEvent, listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();
const KEY = "3f9a1c";

async function setup(clicks: string[], delivery: Record<string, unknown> = {}) {
  const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: KEY, clicks }));
  const clock = new FakeClock();
  const svc = await startTestService({
    destinations: { kc: { preset: "keitaro", domain: kc.base, key: KEY } },
    postbacks: { destination: "kc" },
    campaigns: [{ code: "c1", unsub_window: "1h", payouts: { approve: { payout: 2.5, currency: "USD" } } }],
    delivery,
  }, { clock });
  cleanup.push(() => svc.stop());
  return { kc, svc, clock };
}

/** The lead's postbacks, oldest first, as [status, state]. */
const rowsOf = async (svc: Parameters<typeof listPostbacks>[0], lead: number) =>
  (await listPostbacks(svc, `&lead=${lead}`)).reverse();

/** The status words the tracker was sent for one click, in arrival order. */
const sent = (kc: FakeKeitaroCompatible, click: string) => kc.received.filter((r) => r.query.subid === click).map((r) => r.query.status);

describe("re-sending a postback the lead has moved past", () => {
  test("a single retry of the approve of a cancelled lead is refused (409 superseded, naming the cancel); with and_later the approve and then the cancel go, and the tracker ends rejected", async () => {
    const { kc, svc, clock } = await setup(["clk-1"]);
    const { lead } = await applyEvent(svc, { subscriber: 1, status: "wait", click: "clk-1" });
    await outboxSettled(svc);
    await applyEvent(svc, { subscriber: 1, status: "approve" });
    await outboxSettled(svc);
    clock.advance(60_000);
    await applyEvent(svc, { subscriber: 1, status: "cancel" });
    await kc.waitForCount(3);
    await outboxSettled(svc);
    expect(kc.conversions.get("clk-1")).toMatchObject({ status: "rejected", history: ["lead", "sale", "rejected"] });
    const [wait, approve, cancel] = await rowsOf(svc, lead);

    // The re-send the issue saw: POST /api/postbacks/{approve}/retry took the tracker rejected → sale.
    const refused = await svc.api("POST", `/api/postbacks/${approve.id}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("superseded");
    expect(refused.body.error.message).toContain(`postback ${cancel.id}`);
    expect(refused.body.error.details).toEqual({
      superseded_by: { id: cancel.id, status: "cancel", state: "delivered" },
      and_later: [{ id: cancel.id, status: "cancel", state: "delivered" }],
    });
    await Bun.sleep(50);
    expect(kc.received).toHaveLength(3); // nothing was sent
    expect((await rowsOf(svc, lead)).map((p) => p.state)).toEqual(["delivered", "delivered", "delivered"]);
    // The wait is superseded too (by the approve and the cancel): its 409 names the first later row.
    const waitRefused = await svc.api("POST", `/api/postbacks/${wait.id}/retry`, {});
    expect(waitRefused.status).toBe(409);
    expect(waitRefused.body.error.details.superseded_by.id).toBe(approve.id);
    expect(waitRefused.body.error.details.and_later.map((r: { id: number }) => r.id)).toEqual([approve.id, cancel.id]);

    const again = await svc.api("POST", `/api/postbacks/${approve.id}/retry`, { and_later: true });
    expect(again.status).toBe(200);
    expect(again.body.postback).toMatchObject({ id: approve.id, state: "pending" });
    expect(again.body.later.map((p: { id: number; state: string }) => [p.id, p.state])).toEqual([[cancel.id, "pending"]]);
    await kc.waitForCount(5);
    await outboxSettled(svc);
    expect(sent(kc, "clk-1")).toEqual(["wait", "approve", "cancel", "approve", "cancel"]);
    expect(kc.conversions.get("clk-1")).toMatchObject({ status: "rejected", history: ["lead", "sale", "rejected", "sale", "rejected"] });
    expect((await svc.api("GET", `/api/leads/${lead}`)).body.lead.status).toBe("cancel");

    // The last row of the lead is never superseded: it is sent alone.
    const last = await svc.api("POST", `/api/postbacks/${cancel.id}/retry`);
    expect(last.status).toBe(200);
    expect(last.body.later).toEqual([]);
    await kc.waitForCount(6);
    await outboxSettled(svc);
    expect(kc.conversions.get("clk-1")?.status).toBe("rejected");
  });

  test("after an outage: a bulk retry of the failed wait and approve leaves them out when the cancel was delivered (dry run says so); with and_later it sends wait, approve, cancel; the tracker ends rejected", async () => {
    const { kc, svc, clock } = await setup(["clk-1", "clk-2"], { retry_ladder: ["0s"] }); // one attempt: an outage fails rows at once
    kc.override(() => ({ status: 503, body: "Service Unavailable" }));
    const { lead } = await applyEvent(svc, { subscriber: 1, status: "wait", click: "clk-1" });
    await applyEvent(svc, { subscriber: 1, status: "approve" });
    const other = await applyEvent(svc, { subscriber: 2, status: "wait", click: "clk-2" }); // failed, nothing after it
    await kc.waitForCount(3);
    await outboxSettled(svc);
    kc.override(null);
    clock.advance(60_000);
    await applyEvent(svc, { subscriber: 1, status: "cancel" });
    await kc.waitForCount(4);
    await outboxSettled(svc);
    expect((await rowsOf(svc, lead)).map((p) => [p.status, p.state])).toEqual([["wait", "failed"], ["approve", "failed"], ["cancel", "delivered"]]);
    expect(kc.conversions.get("clk-1")?.status).toBe("rejected");

    const dry = await svc.api("POST", "/api/postbacks/retry", { state: "failed", dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ dry_run: true, and_later: false, matched: 3, superseded: 2, held_back: 0, later: 0, queued: 1, retried: 0 });
    const bulk = await svc.api("POST", "/api/postbacks/retry", { state: "failed" });
    expect(bulk.body).toEqual({ dry_run: false, and_later: false, matched: 3, superseded: 2, held_back: 0, later: 0, queued: 1, retried: 1 });
    await kc.waitForCount(5);
    await outboxSettled(svc);
    expect(sent(kc, "clk-2")).toEqual(["wait", "wait"]);
    expect(sent(kc, "clk-1")).toEqual(["wait", "approve", "cancel"]); // the superseded rows were not sent
    expect(kc.conversions.get("clk-1")?.status).toBe("rejected");
    expect((await rowsOf(svc, lead)).map((p) => p.state)).toEqual(["failed", "failed", "delivered"]);
    expect((await rowsOf(svc, other.lead)).map((p) => p.state)).toEqual(["delivered"]);

    const dryLater = await svc.api("POST", "/api/postbacks/retry", { state: "failed", and_later: true, dry_run: true });
    expect(dryLater.body).toEqual({ dry_run: true, and_later: true, matched: 2, superseded: 2, held_back: 0, later: 1, queued: 3, retried: 0 });
    const withLater = await svc.api("POST", "/api/postbacks/retry", { state: "failed", and_later: true });
    expect(withLater.body).toMatchObject({ matched: 2, superseded: 2, later: 1, queued: 3, retried: 3 });
    await kc.waitForCount(8);
    await outboxSettled(svc);
    // In event order: the lead, the sale, then the rejection again (the late lead is ignored by the tracker).
    expect(sent(kc, "clk-1")).toEqual(["wait", "approve", "cancel", "wait", "approve", "cancel"]);
    expect(kc.conversions.get("clk-1")).toMatchObject({ status: "rejected", history: ["rejected", "sale", "rejected"] });
    expect((await rowsOf(svc, lead)).map((p) => p.state)).toEqual(["delivered", "delivered", "delivered"]);
    expect((await svc.api("GET", `/api/leads/${lead}`)).body.lead.status).toBe("cancel");
  });
});
