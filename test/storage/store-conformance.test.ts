// The two engines answer alike: one script of calls through the storage port — every store method,
// with NULLs, mixed-case text, ids and times past 2^31, filters, claims, fenced completions and
// batched (shared) ones — run on a real SQLite file and on a real PostgreSQL database, and every
// answer compared (same rows, same order, same nulls, numbers not strings).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Storage, Tx } from "../../src/storage/port.ts";
import type { ClaimedPostback } from "../../src/storage/outbox-types.ts";
import type { NewPostback } from "../../src/storage/rows.ts";
import { openPostgresStorage } from "../../src/storage/postgres/store.ts";
import { openSqliteStorage } from "../../src/storage/sqlite/store.ts";
import { describePostgres, useTestDatabase } from "../helpers/postgres.ts";

const T0 = 1_767_225_600_123; // epoch ms, past 2^31
const SUB = 7_000_000_123; // a Telegram id past 2^32
const CHAT = -1_001_234_567_890;

/** Every answer of the script, in order, labelled. */
type Log = [string, unknown][];

const postback = (leadId: number, host: string, due: number, extra: Partial<NewPostback> = {}): NewPostback => ({
  leadId, eventId: leadId, campaignId: 1, status: "wait", template: "postbacks.wait", method: "GET", url: `http://${host}/pb?l=${leadId}`,
  host, state: "pending", nextAttemptAt: due, createdAt: due, updatedAt: due, ...extra,
});

/** The script: the same calls on either engine. */
async function script(storage: Storage): Promise<Log> {
  const log: Log = [];
  const w = <T>(label: string, work: (tx: Tx) => Promise<T>) => storage.write(work).then((v) => (log.push([label, v]), v));
  const r = async <T>(label: string, value: PromiseLike<T> | T) => {
    const v = await value;
    log.push([label, v]);
    return v;
  };
  const read = storage.read;

  // campaigns
  await w("sync", async (tx) => [...(await tx.campaigns.sync([
    { code: "a", name: "Camp A", bot: "main", chat: CHAT, paused: false },
    { code: "b", name: "", bot: null, chat: null, paused: true },
  ], T0)).entries()]);
  await w("sync again", async (tx) => [...(await tx.campaigns.sync([{ code: "b", name: "B", bot: null, chat: null, paused: false }], T0 + 1)).entries()]);
  await r("campaigns", read.campaigns.all());
  await r("findId", Promise.all([read.campaigns.findId("a"), read.campaigns.findId("nope")]));
  await w("sync empty", async (tx) => [...(await tx.campaigns.sync([], T0 + 2)).entries()]);
  await w("sync back", async (tx) => [...(await tx.campaigns.sync([{ code: "a", name: "A", bot: "main", chat: CHAT, paused: false }, { code: "b", name: "B", bot: null, chat: null, paused: false }], T0 + 3)).entries()]);
  await r("campaigns 2", read.campaigns.all());

  // leads, events, idempotency keys
  const users = ["Alice", "", "alice", "Bob", ""];
  for (const [i, username] of users.entries()) {
    await w(`lead ${i}`, async (tx) => {
      await tx.leads.lock(1 + (i % 2), SUB + i);
      const lead = await tx.leads.insert({ campaignId: 1 + (i % 2), subscriber: SUB + i, click: i === 4 ? "" : `clk-${i % 3}`, username, chatId: i % 2 ? null : CHAT,
        status: "wait", joinedAt: null, createdAt: T0 + i, updatedAt: T0 + i });
      const event = await tx.leads.insertEvent({ leadId: lead.id, campaignId: lead.campaignId, status: "wait", prevStatus: null, source: "api", reason: null,
        payout: i === 2 ? "1.50" : null, currency: i === 2 ? "USD" : null, occurredAt: T0 + i, createdAt: T0 + i });
      return { lead, event, earlier: await tx.leads.hasEarlierEvent(lead.id, event.id, "wait") };
    });
  }
  await w("update", async (tx) => {
    const a = await tx.leads.update(1, { status: "approve", click: "clk-0", joinedAt: T0 + 10, updatedAt: T0 + 10, username: null, chatId: null });
    const b = await tx.leads.update(2, { status: "hold", click: "new", joinedAt: null, updatedAt: T0 + 11, username: "Carol", chatId: CHAT });
    const e = await tx.leads.insertEvent({ leadId: 1, campaignId: 1, status: "approve", prevStatus: "wait", source: "telegram", reason: "x", payout: null, currency: null, occurredAt: T0 + 10, createdAt: T0 + 10 });
    const e2 = await tx.leads.insertEvent({ leadId: 1, campaignId: 1, status: "wait", prevStatus: "approve", source: "telegram", reason: null, payout: null, currency: null, occurredAt: T0 + 12, createdAt: T0 + 12 });
    return { a, b, e, earlier: await tx.leads.hasEarlierEvent(1, e2.id, "wait"), notEarlier: await tx.leads.hasEarlierEvent(1, e.id, "approve") };
  });
  await r("find", Promise.all([read.leads.find(1, SUB), read.leads.find(1, SUB + 1), read.leads.get(3), read.leads.get(99)]));
  await r("byClick", Promise.all([read.leads.byClick("clk-0"), read.leads.byClick("clk-0", 2), read.leads.byClick("clk-1", 1), read.leads.byClick("none")]));
  for (const [label, filter] of Object.entries({
    all: { limit: 10 }, page: { limit: 2, beforeId: 4 }, camp: { campaignIds: [1], limit: 10 }, camps: { campaignIds: [2, 1], limit: 10 },
    status: { status: "wait" as const, limit: 10 }, sub: { subscriber: SUB + 2, limit: 10 }, click: { click: "", limit: 10 },
    user: { username: "ALICE", limit: 10 }, none: { campaignIds: [], limit: 10 },
  })) await r(`list ${label}`, read.leads.list(filter));
  await r("events", Promise.all([read.leads.events(1), read.leads.events(5), read.leads.events(77)]));
  await w("keys", async (tx) => {
    await tx.leads.lockIdempotencyKey("k1");
    await tx.leads.storeIdempotentAnswer({ key: "k1", requestHash: "h", statusCode: 200, response: '{"a":1}', createdAt: T0, client: "c1", spent: 100, answerHash: null });
    await tx.leads.storeIdempotentAnswer({ key: "k2", requestHash: "h2", statusCode: 422, response: "{}", createdAt: T0 + 5, client: "c1", spent: 250, answerHash: "ab12" });
    await tx.leads.storeIdempotentAnswer({ key: "k3", requestHash: "h3", statusCode: 200, response: "{}", createdAt: T0 + 6, client: "session", spent: 7_000_000_000, answerHash: null });
  });
  await r("key", Promise.all([read.leads.idempotentAnswer("k1"), read.leads.idempotentAnswer("k2"), read.leads.idempotentAnswer("zz"),
    read.leads.idempotencySpent("c1"), read.leads.idempotencySpent("session"), read.leads.idempotencySpent("nobody")]));
  await w("drop answers", (tx) => Promise.resolve(tx.leads.dropIdempotentAnswers("c1", 100)));
  await r("key after drop", Promise.all([read.leads.idempotentAnswer("k1"), read.leads.idempotencySpent("c1")]));
  await w("prune keys", (tx) => Promise.resolve(tx.leads.pruneIdempotencyKeys(T0 + 1, 10)));

  // the outbox
  await w("insert one", (tx) => Promise.resolve(tx.outbox.insert([postback(1, "a.example", T0)])));
  await w("insert many", (tx) => Promise.resolve(tx.outbox.insert([
    postback(1, "a.example", T0 + 1), postback(2, "a.example", T0 + 2), postback(3, "b.example:8080", T0 + 3),
    postback(4, "telegram:main", T0 + 4, { channel: "telegram", url: "tg://main/welcome", body: '{"lead":4}', contentType: "application/json" }),
    postback(5, "a.example", T0, { state: "skipped", reason: "no_click", finishedAt: T0 }),
    postback(5, "b.example:8080", T0, { state: "rejected", reason: "malformed_url", finishedAt: T0, verdict: "keitaro" }),
  ])));
  await w("insert none", (tx) => Promise.resolve(tx.outbox.insert([])));
  const now = T0 + 100;
  await r("gauges", read.outbox.queueGauges(now));
  await r("next", Promise.all([read.outbox.nextDueAt([]), read.outbox.nextDueAt(["a.example"]), read.outbox.nextDueAt(["a.example", "b.example:8080", "telegram:main"])]));
  const claim = (label: string, limit: number, allow: Record<string, number>, blocked: string[] = [], held: number[] = [], at = now, leaseMs = 60_000) =>
    w(label, (tx) => Promise.resolve(tx.outbox.claimDue({
      now: at, limit, leaseMs, blocked, allowance: (h) => allow[h] ?? 0, inFlight: (id) => held.includes(id), heldIds: () => held,
    })));
  const first = await claim("claim 1", 2, { "a.example": 5, "b.example:8080": 5 }, ["telegram:main"]);
  const second = await claim("claim 2", 10, { "a.example": 5, "b.example:8080": 5, "telegram:main": 1 });
  await r("gauges in flight", read.outbox.queueGauges(now));
  await r("next in flight", read.outbox.nextDueAt([]));
  const [p1, p3] = first as ClaimedPostback[];
  const attempt = (row: ClaimedPostback, http: number | null) => ({ postbackId: row.id, attempt: row.attempts, startedAt: now, durationMs: 12, url: row.url,
    httpStatus: http, outcome: http === 200 ? "delivered" as const : "retry" as const, error: http === 200 ? null : "http_503", responseHead: http === null ? null : "ok" });
  await w("complete", async (tx) => [
    await tx.outbox.complete(p1!, attempt(p1!, 200), { state: "delivered", reason: null }, now + 1),
    await tx.outbox.complete(p3!, attempt(p3!, 503), { state: "pending", reason: "http_503", nextAttemptAt: now + 50, uncounted: true }, now + 1),
    await tx.outbox.complete({ ...p1!, leaseToken: 99 }, attempt(p1!, 200), { state: "delivered", reason: null }, now + 2), // fenced out
  ]);
  await r("attempts", Promise.all([read.outbox.attempts(p1!.id), read.outbox.attempts(p3!.id)]));
  // Shared writes: several outcomes arriving together (one statement on PostgreSQL).
  const rest = (second as ClaimedPostback[]);
  await r("complete shared", Promise.all(rest.map((row, i) => storage.write(async (tx) => tx.outbox.complete(row, attempt(row, i % 2 ? 503 : 200),
    i % 2 ? { state: "failed", reason: "http_503" } : { state: "delivered", reason: null }, now + 3), { shared: true, beforeSync: true }))));
  await r("rows", Promise.all([read.outbox.get(1), read.outbox.get(99), read.outbox.ofLead(1), read.outbox.ofLead(5)]));
  // Leased for 1 ms: past it, a row this process still holds is never claimed again; one it does not hold is.
  const again = await claim("claim 3", 10, { "a.example": 5, "b.example:8080": 5, "telegram:main": 5 }, [], [], now, 1) as ClaimedPostback[];
  expect(again.length).toBeGreaterThan(0);
  await claim("claim held", 10, { "a.example": 5, "b.example:8080": 5 }, [], again.map((c) => c.id), now + 2);
  const retaken = await claim("claim expired", 10, { "a.example": 5, "b.example:8080": 5 }, [], [], now + 2) as ClaimedPostback[];
  await w("release", (tx) => Promise.resolve(tx.outbox.release(retaken, now + 4)));
  await r("released", read.outbox.list({ limit: 20 }));
  for (const [label, f] of Object.entries({
    state: { state: "delivered" as const, limit: 10 }, status: { status: "wait" as const, limit: 10 }, camp: { campaignId: 1, limit: 2 },
    host: { host: "B.EXAMPLE:8080", limit: 10 }, lead: { leadId: 1, limit: 10 }, since: { since: T0 + 2, until: T0 + 4, limit: 10 }, before: { beforeId: 3, limit: 10 },
  })) await r(`outbox ${label}`, read.outbox.list(f));
  const resend = (andLater: boolean) => ({ andLater, now: now + 5 });
  await r("counts", Promise.all([read.outbox.resendCounts({}, resend(false)), read.outbox.resendCounts({ host: "a.example" }, resend(true)),
    read.outbox.resendCounts({ state: "failed" }, resend(true)), read.outbox.stateCounts(),
    read.outbox.undeliveredOf(1, T0, T0 + 10), read.outbox.undeliveredOf(1, T0 + 1, T0 + 2), read.outbox.undelivered(), read.outbox.about(1), read.outbox.about(99)]));
  await w("requeue", async (tx) => [await tx.outbox.requeue(2, now + 5), await tx.outbox.requeue(6, now + 5), await tx.outbox.requeue(1, now + 5)]);
  await w("requeue resendable", async (tx) => [await tx.outbox.requeueResendable({ state: "delivered" }, { andLater: false, now: now + 6 }),
    await tx.outbox.requeueResendable({ host: "b.example:8080" }, { andLater: true, now: now + 6 })]);
  await r("after requeue", read.outbox.list({ limit: 20 }));
  await w("finish some", async (tx) => {
    const rows = await tx.outbox.claimDue({ now: now + 10, limit: 10, leaseMs: 1000, blocked: [], allowance: () => 10, inFlight: () => false, heldIds: () => [] });
    return Promise.all(rows.map((row) => tx.outbox.complete(row, attempt(row, 200), { state: "delivered", reason: null }, now + 11)));
  });
  await w("prune delivered", async (tx) => [await tx.outbox.pruneDelivered(now + 11, 2), await tx.outbox.pruneDelivered(now + 12, 10)]);
  await r("after prune", Promise.all([read.outbox.list({ limit: 20 }), read.outbox.attempts(2), read.outbox.stateCounts()]));

  // journal and inbound log
  await w("journal", async (tx) => {
    await tx.journal.insert({ kind: "organic_join", campaignId: 1, subscriber: SUB, chatId: CHAT, detail: { at: T0, nested: { ok: true }, list: [1, "x", null] }, createdAt: T0 });
    await tx.journal.insert({ kind: "organic_join", campaignId: 1, subscriber: SUB, detail: { at: T0 + 1 }, createdAt: T0 + 1 });
    await tx.journal.insert({ kind: "event_ignored", createdAt: T0 + 2 });
    await tx.journal.setKind(2, "organic_join_applied");
  });
  await r("journal", Promise.all([read.journal.list({ limit: 10 }), read.journal.list({ kind: "organic_join", limit: 10 }), read.journal.list({ beforeId: 3, limit: 1 }),
    read.journal.organicJoins(1, SUB, T0 - 1), read.journal.organicJoins(1, SUB, T0 + 5)]));
  await w("prune journal", (tx) => Promise.resolve(tx.journal.prune(T0 + 1, 10)));
  await w("inbound", async (tx) => {
    for (let i = 0; i < 5; i++) await tx.inbound.log({ result: i % 2 ? "access" : "ok", leadId: i % 2 ? null : 1, status: i % 2 ? null : "approve", params: { click: `c${i}`, "ключ": "значение" }, ip: i ? "203.0.113.7" : null, createdAt: T0 + i });
  });
  await r("inbound list", Promise.all([read.inbound.list({ limit: 10 }), read.inbound.list({ result: "access", limit: 10 }), read.inbound.list({ beforeId: 3, limit: 10 })]));
  await w("prune inbound", async (tx) => [await tx.inbound.pruneAccessRows(1), await tx.inbound.pruneAccessRows(5), await tx.inbound.prune(T0 + 2, 10)]);
  await r("inbound after", read.inbound.list({ limit: 10 }));

  // Telegram
  await w("updates", async (tx) => [await tx.telegram.markUpdateProcessed("main", 800_000_001, T0), await tx.telegram.markUpdateProcessed("main", 800_000_001, T0),
    await tx.telegram.markUpdateProcessed("other", 800_000_001, T0 + 1)]);
  await w("prune updates", (tx) => Promise.resolve(tx.telegram.pruneProcessedUpdates(T0 + 1, 10)));
  await w("bots", async (tx) => {
    await tx.telegram.advancePollingOffset("poller", 800_000_010, T0);
    await tx.telegram.advancePollingOffset("poller", 800_000_005, T0 + 1); // never back
    await tx.telegram.saveBotIdentity("main", 7_700_000_001, "main_bot", T0);
    await tx.telegram.saveBotIdentity("poller", 7_700_000_002, "poll_bot", T0 + 2);
    await tx.telegram.advancePollingOffset("main", 3, T0 + 3);
  });
  await r("bot", Promise.all([read.telegram.bot("main"), read.telegram.bot("poller"), read.telegram.bot("none")]));
  await w("chats", async (tx) => {
    await tx.telegram.upsertChat({ bot: "main", chatId: CHAT, title: "Chat", type: "channel", status: "administrator", rights: { can_invite_users: true }, updatedAt: T0 });
    await tx.telegram.upsertChat({ bot: "Zed", chatId: -5, title: "", type: "group", status: "member", rights: null, updatedAt: T0 });
    await tx.telegram.upsertChat({ bot: "main", chatId: CHAT, title: "Chat 2", type: "channel", status: "administrator", rights: { can_invite_users: false }, updatedAt: T0 + 1 });
    await tx.telegram.upsertChat({ bot: "main", chatId: -7, title: "x", type: "supergroup", status: "left", rights: {}, updatedAt: T0 + 2 });
    await tx.telegram.saveInviteLink({ bot: "main", campaignId: 1, link: "https://t.me/+first", createsJoinRequest: true, createdAt: T0 });
    await tx.telegram.saveInviteLink({ bot: "main", campaignId: 1, link: "https://t.me/+second", createsJoinRequest: false, createdAt: T0 + 1 });
    await tx.telegram.saveMediaFileId({ bot: "main", path: "/m/a.jpg", fileId: "f1", createdAt: T0 });
    await tx.telegram.saveMediaFileId({ bot: "main", path: "/m/a.jpg", fileId: "f2", createdAt: T0 + 1 });
  });
  await r("chat reads", Promise.all([read.telegram.chats(), read.telegram.chat("main", CHAT), read.telegram.chat("main", 1), read.telegram.inviteLink("main", 1),
    read.telegram.inviteLink("main", 2), read.telegram.mediaFileId("main", "/m/a.jpg"), read.telegram.mediaFileId("x", "/m/a.jpg")]));

  // counters
  const bucket = T0 - (T0 % 900_000);
  await w("stats", async (tx) => {
    await tx.stats.add([{ campaignId: 1, bucket, status: "wait", events: 1, leads: 1, postbacks: 1 }, { campaignId: 1, bucket: -1, status: "wait", events: 1, leads: 1, postbacks: 1 }]);
    await tx.stats.add([{ campaignId: 1, bucket, status: "wait", events: 2, leads: 0, postbacks: 3 }, { campaignId: 2, bucket: bucket + 900_000, status: "approve", events: 1, leads: 1, postbacks: 0 },
      { campaignId: 1, bucket: -1, status: "approve", events: 1, leads: 1, postbacks: 0 }, { campaignId: 2, bucket: -1, status: "approve", events: 4, leads: 2, postbacks: 0 }]);
  });
  await r("stats reads", Promise.all([read.stats.sumsPerDay(1, [[bucket - 900_000, bucket + 900_000], [bucket + 900_000, bucket + 86_400_000]]),
    read.stats.sumsPerDay(2, [[0, bucket], [bucket, bucket + 86_400_000]]), read.stats.firstBucket(1), read.stats.firstBucket(9),
    read.stats.totals([2, 1, 9]), read.stats.totals([]), read.stats.approvedJoinRequests(1, T0, T0 + 100), read.stats.approvedJoinRequests(1, 0, 1)]));

  // sessions
  await w("sessions", async (tx) => {
    await tx.sessions.insert({ id: "s1", keyCheck: "c1", createdAt: T0, expiresAt: T0 + 10 });
    await tx.sessions.insert({ id: "s2", keyCheck: "c2", createdAt: T0, expiresAt: T0 + 20 });
    await tx.sessions.deleteExpired(T0 + 10);
  });
  await r("session", Promise.all([read.sessions.find("s1"), read.sessions.find("s2")]));
  await w("session delete", (tx) => Promise.resolve(tx.sessions.delete("s2")));
  await r("session gone", read.sessions.find("s2"));

  // instances, bot leases, circuits
  const inst = (id: string, at: number) => ({ id, version: "0.1.0", commit: id === "b" ? null : "abc", configHash: "h", hostname: "box", pid: 4242, startedAt: T0, heartbeatAt: at });
  await w("instances", async (tx) => {
    await tx.instances.heartbeat(inst("b", T0));
    await tx.instances.heartbeat(inst("a", T0));
    await tx.instances.heartbeat({ ...inst("a", T0 + 5), configHash: "h2" });
  });
  await r("instance list", read.instances.list());
  await w("instances prune", async (tx) => [await tx.instances.pruneSilent(T0 + 1), await tx.instances.remove("a")]);
  await r("instance list 2", read.instances.list());
  await w("lease a", (tx) => Promise.resolve(tx.botLeases.claim(["main", "poller"], "a", T0, 5000)));
  await w("lease b", (tx) => Promise.resolve(tx.botLeases.claim(["main", "zeta"], "b", T0 + 1000, 5000)));
  await w("renew a", (tx) => Promise.resolve(tx.botLeases.claim(["poller", "main"], "a", T0 + 2000, 5000)));
  await w("takeover b", (tx) => Promise.resolve(tx.botLeases.claim(["main"], "b", T0 + 7001, 5000)));
  await w("release b", (tx) => Promise.resolve(tx.botLeases.release("b", T0 + 8000)));
  await w("back to a", (tx) => Promise.resolve(tx.botLeases.claim(["main"], "a", T0 + 8000, 5000)));
  await r("leases", read.botLeases.all());
  await w("circuits", async (tx) => {
    await tx.circuits.open({ host: "a.example", openUntil: T0 + 60_000, failures: 5, openedBy: "a", updatedAt: T0 });
    await tx.circuits.open({ host: "a.example", openUntil: T0 + 30_000, failures: 6, openedBy: "b", updatedAt: T0 + 1 }); // earlier: kept
    await tx.circuits.open({ host: "b.example", openUntil: T0 + 10, failures: 5, openedBy: "b", updatedAt: T0 });
  });
  await r("circuits open", Promise.all([read.circuits.openAt(T0), read.circuits.openAt(T0 + 10)]));
  await w("circuits close", async (tx) => [await tx.circuits.close("a.example"), await tx.circuits.pruneClosed(T0 + 10)]);
  await r("circuits after", read.circuits.openAt(0));
  // the click link's clicks and their funnel counters; a lead that came from one
  await w("clicks", async (tx) => {
    const c = await tx.clicks.insert({ token: "tok123456789", campaignId: 1, params: { utm_source: "fb", "ключ": "v" }, fbc: "fb.1.2.x", fbp: null, ip: "203.0.113.9",
      userAgent: "UA", referrer: null, landingUrl: "https://land.example/?a=1", cut: 2, createdAt: T0 });
    await tx.clicks.insert({ token: "old000000000", campaignId: 1, params: {}, fbc: null, fbp: null, ip: null, userAgent: null, referrer: null, landingUrl: null, cut: 0, createdAt: T0 - 10 });
    const lead = await tx.leads.insert({ campaignId: 1, subscriber: SUB + 99, click: "tok123456789", username: "", chatId: null, status: "wait", joinedAt: null,
      createdAt: T0, updatedAt: T0, clickId: c.id });
    const updated = await tx.leads.update(lead.id, { status: "approve", click: "tok123456789", joinedAt: T0 + 1, updatedAt: T0 + 1, username: null, chatId: null });
    await tx.clicks.addGroupCounts([
      { campaignId: 1, param: "utm_source", span: 15, bucket: T0 - (T0 % 900_000), value: "fb", status: "wait", events: 1, leads: 1 },
      { campaignId: 1, param: "utm_source", span: 1440, bucket: T0 - (T0 % 86_400_000), value: "fb", status: "wait", events: 1, leads: 1 },
      { campaignId: 1, param: "utm_source", span: 15, bucket: T0 - (T0 % 900_000), value: "fb", status: "wait", events: 2, leads: 0 },
      { campaignId: 1, param: "utm_source", span: 15, bucket: T0 - (T0 % 900_000), value: "", status: "approve", events: 1, leads: 1 },
    ]);
    return { c, lead, updated };
  });
  await r("click reads", Promise.all([read.clicks.byToken("tok123456789"), read.clicks.byToken("nope"), read.clicks.get(2), read.clicks.get(99),
    read.clicks.groupSums(1, "utm_source", [{ span: 15, from: 0, to: T0 + 900_000 }, { span: 1440, from: 0, to: T0 + 86_400_000 }]),
    read.clicks.groupSums(1, "utm_source", []), read.clicks.groupSums(1, "other", [{ span: 15, from: 0, to: T0 }])]));
  await w("prune clicks", (tx) => Promise.resolve(tx.clicks.pruneUnused(T0 + 1, 10)));
  await r("clicks left", Promise.all([read.clicks.get(1), read.clicks.get(2)]));
  // profiles, cohorts, funnel, money
  await w("insights", async (tx) => {
    await tx.profiles.save({ leadId: 1, campaignId: 1, premium: true, language: "ru", hasUsername: null, startedAt: T0, startToJoinMs: null, fastLeave: false,
      quality: 70, qualityReasons: [{ code: "premium", points: 20 }], welcomeVariant: "b", firstJoinedAt: null, cohortBand: null, updatedAt: T0 });
    await tx.profiles.save({ leadId: 1, campaignId: 1, premium: false, language: null, hasUsername: true, startedAt: T0, startToJoinMs: 5000, fastLeave: true,
      quality: 40, qualityReasons: [], welcomeVariant: null, firstJoinedAt: T0 + 5000, cohortBand: "mid", updatedAt: T0 + 1 });
    for (const [variant, band] of [["b", "mid"], ["", "high"], ["b", "mid"]] as const) {
      await tx.cohorts.add({ campaignId: 1, bucket: T0 - (T0 % 900_000), variant, band, joined: 1, out1d: 0, out7d: 1, out14d: 0, out30d: 0 });
      await tx.cohorts.addFunnel({ campaignId: 1, bucket: T0 - (T0 % 900_000), variant, band, starts: 1, joins: band === "mid" ? 1 : 0 });
    }
    await tx.money.addRevenue({ campaignId: 1, bucket: T0 - (T0 % 900_000), currency: "USD", amountMicros: 2_500_000, events: 1 });
    await tx.money.addRevenue({ campaignId: 1, bucket: T0 - (T0 % 900_000), currency: "USD", amountMicros: 7_000_000_000_000, events: 2 });
    await tx.money.addRevenue({ campaignId: 1, bucket: T0 - (T0 % 900_000) + 86_400_000, currency: "EUR", amountMicros: 1, events: 1 });
    await tx.money.putCost({ campaignId: 1, day: "2026-01-02", currency: "USD", amountMicros: 10, source: "api", updatedAt: T0 });
    await tx.money.putCost({ campaignId: 1, day: "2026-01-01", currency: "USD", amountMicros: 20, source: "csv", updatedAt: T0 });
    await tx.money.putCost({ campaignId: 1, day: "2026-01-02", currency: "EUR", amountMicros: 30, source: "api", updatedAt: T0 + 1 });
    return tx.outbox.skipWaiting(1, "wait", T0, "approve_after_left");
  });
  const day = (k: number): [number, number] => [T0 - (T0 % 86_400_000) + k * 86_400_000, T0 - (T0 % 86_400_000) + (k + 1) * 86_400_000];
  await r("insight reads", Promise.all([read.profiles.ofLead(1), read.profiles.ofLead(9), read.cohorts.sumsPerDay(1, [day(0), day(1)]), read.cohorts.firstBucket(1),
    read.cohorts.firstBucket(9), read.cohorts.funnel(1, 0, T0 + 900_000), read.money.revenuePerDay(1, [day(0), day(1), day(2)]),
    read.money.costs(1, "2026-01-01", "2026-01-02"), read.money.costs(1, "2026-01-02", "2026-01-02")]));
  // exports' windows, a subscriber's journal, rejected Starts, alerts
  await r("windows", Promise.all([read.leads.getMany([3, 1, 99]), read.leads.inIdRange({}, 2, 5), read.leads.inIdRange({ campaignIds: [1], username: "ALICE" }, 1, 100),
    read.leads.inIdRange({ campaignIds: [] }, 1, 100), read.leads.inIdRange({ since: T0 + 2, until: T0 + 4 }, 1, 100), read.leads.maxId(), read.leads.eventsOf([5, 1]),
    read.leads.eventsOf([]), read.leads.lastEventAt(1, "wait"), read.leads.lastEventAt(2, "trash"), read.outbox.inIdRange({}, 1, 4), read.outbox.inIdRange({ host: "A.example" }, 1, 100),
    read.outbox.maxId(), read.clicks.getMany([2, 1, 9]), read.leads.list({ since: T0 + 1, until: T0 + 3, limit: 10 })]));
  await w("journal more", async (tx) => {
    await tx.journal.insert({ kind: "start_rejected", subscriber: SUB, detail: { bot: "main", reason: "unknown_campaign", payload: "spring-abc" }, createdAt: T0 + 3 });
    await tx.journal.insert({ kind: "start_rejected", subscriber: SUB + 1, detail: { bot: "main", reason: "no_payload" }, createdAt: T0 + 4 });
  });
  await r("journal reads", Promise.all([read.journal.ofSubscriber(SUB, ["organic_join_applied", "start_rejected"], 10), read.journal.ofSubscriber(SUB, [], 10),
    read.journal.startsCarrying("ng-a", 10), read.journal.startsCarrying("zzz", 10)]));
  await w("alerts", async (tx) => {
    const a = await tx.alerts.insert({ key: "bot_down:main", kind: "bot_down", subject: "main", state: "pending", badSince: T0, goodSince: null, firedAt: null, resolvedAt: null, detail: null, createdAt: T0, updatedAt: T0 });
    await tx.alerts.update(a, { state: "firing", firedAt: T0 + 1, updatedAt: T0 + 1 });
    const b = await tx.alerts.insert({ key: "bot_down:main", kind: "bot_down", subject: "main", state: "resolved", badSince: T0, goodSince: T0 + 2, firedAt: T0 + 1, resolvedAt: T0 + 3, detail: "x", createdAt: T0 + 2, updatedAt: T0 + 3 });
    const c = await tx.alerts.insert({ key: "digest", kind: "digest", subject: "", state: "sent", badSince: T0, goodSince: null, firedAt: T0, resolvedAt: null, detail: null, createdAt: T0, updatedAt: T0 });
    await tx.alerts.delete(c + 100);
    return [a, b, c];
  });
  await r("alert reads", Promise.all([read.alerts.current(), read.alerts.list({ limit: 10 }), read.alerts.list({ beforeId: 3, limit: 1 })]));
  await w("alerts prune", (tx) => Promise.resolve(tx.alerts.prune(T0 + 10, 10)));
  await r("alerts after", read.alerts.list({ limit: 10 }));
  await w("probe", (tx) => Promise.resolve(tx.writeProbe(T0)));
  return log;
}

describePostgres("the storage port on SQLite and on PostgreSQL", () => {
  const db = useTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), "tgcpa-conformance-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("every store method answers the same on both engines", async () => {
    const sqlite = openSqliteStorage({ path: join(dir, "t.db"), synchronous: "NORMAL", lock: false });
    const pg = await openPostgresStorage({ url: db().url, pool_size: 4 });
    try {
      const [a, b] = [await script(sqlite), await script(pg)];
      expect(b.map(([label]) => label)).toEqual(a.map(([label]) => label));
      for (let i = 0; i < a.length; i++) expect({ call: a[i]![0], answer: b[i]![1] }).toEqual({ call: a[i]![0], answer: a[i]![1] });
      expect(a.length).toBeGreaterThan(60);
    } finally {
      await sqlite.close();
      await pg.close();
    }
  }, 60_000);
});
