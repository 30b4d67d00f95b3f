// Seeds a service database quickly and realistically, BEFORE the service starts: the schema
// comes from the service's own migration path (openDatabase), the campaign from its own
// campaign mirror (the storage's campaigns.sync), and each postback row is rendered with the service's own templates and macros
// (resolveTemplates, renderRequest, macroValues) — the same columns buildPostbacks writes —
// then inserted with plain bun:sqlite in large transactions.
//
// Shape: `rows` leads, each with one `wait` event and one postback of that event to the
// receiver; state `pending` (a backlog to drain) or `delivered` (history, with its attempt row).
// With `joinEvery: n`, every n-th lead also joins a minute later (an `approve` event, its
// postbacks). The per-period counters (lead_stats) are written for all of it, as the service does.
// Seeding is setup, not a measurement: it runs with synchronous=OFF on its own connection; the
// service later opens the file with its configured synchronous mode.
import type { Status } from "../../src/domain/status.ts";
import { parseConfig } from "../../src/config/load.ts";
import { buildRuntime } from "../../src/config/runtime.ts";
import { openDatabase } from "../../src/storage/sqlite/client.ts";
import { SqliteCampaigns } from "../../src/storage/sqlite/campaigns.ts";
import { renderRequest, resolveTemplates } from "../../src/domain/templates.ts";
import type { LeadEventRow, LeadRow } from "../../src/storage/rows.ts";
import { macroValues } from "../../src/domain/templates.ts";
import { ALL_TIME, clickGroupAdds } from "../../src/stats/counters.ts";
import { bucketOf } from "../../src/lib/time-zones.ts";
import type { ConfigInput } from "../helpers/service/config.ts";
import { CAMPAIGN } from "./bench-service.ts";

export interface SeedOptions {
  config: ConfigInput;
  rows: number;
  state: "pending" | "delivered";
  /** Subscribers are subscriberBase + 1 … subscriberBase + rows. */
  subscriberBase?: number;
  /** Rows per transaction. */
  batch?: number;
  /** History only: spread creation evenly over this many ms before now (default ~2 days). */
  spreadMs?: number;
  /** Every n-th lead also joins (an approve event a minute after its start); 0 = none. */
  joinEvery?: number;
  /**
   * Every lead came through the click link with these click parameters, each of that many values
   * (lead i has value i % n): their click_stats counters are written as the service writes them
   * (clickGroupAdds), for the overview grouped by a parameter.
   */
  clickGroups?: Record<string, number>;
}

export function seedDatabase(o: SeedOptions): { seconds: number; rows: number; path: string } {
  const t0 = performance.now();
  const config = parseConfig(JSON.stringify(o.config), {});
  const db = openDatabase({ path: config.storage.path, synchronous: "OFF" });
  const now = Date.now();
  const mirrors = config.campaigns.map((c) => ({ code: c.code, name: c.name, bot: c.bot, chat: c.chat, paused: c.paused }));
  const runtime = buildRuntime(config, db.$client.transaction(() => new SqliteCampaigns(db).sync(mirrors, now))());
  const campaign = runtime.campaigns.get(CAMPAIGN)!;
  const status: Status = "wait";
  const templates = resolveTemplates(config.postbacks, campaign.config.postbacks, status);
  const joinTemplates = resolveTemplates(config.postbacks, campaign.config.postbacks, "approve");
  const JOIN_AFTER_MS = 60_000;
  // lead_stats rows: "bucket|status" → counts, written at the end (the service adds them per event).
  const counters = new Map<string, { events: number; leads: number; postbacks: number }>();
  const count = (bucket: number, st: Status, events: number, leads: number, postbacks: number) => {
    for (const b of [bucket, ALL_TIME]) {
      const c = counters.get(`${b}|${st}`) ?? { events: 0, leads: 0, postbacks: 0 };
      c.events += events;
      c.leads += leads;
      c.postbacks += postbacks;
      counters.set(`${b}|${st}`, c);
    }
  };
  // click_stats rows: "param|span|bucket|value|status" → counts.
  const groupCounters = new Map<string, { events: number; leads: number }>();
  const groups = Object.entries(o.clickGroups ?? {});
  const countGroups = (i: number, e: { campaignId: number; status: string; occurredAt: number }) => {
    if (!groups.length) return;
    const params = Object.fromEntries(groups.map(([param, n]) => [param, `${param}-${i % n}`]));
    for (const a of clickGroupAdds(e, true, params, groups.map(([param]) => param))) {
      const key = `${a.param}|${a.span}|${a.bucket}|${a.value}|${a.status}`;
      const c = groupCounters.get(key) ?? { events: 0, leads: 0 };
      c.events += a.events;
      c.leads += a.leads;
      groupCounters.set(key, c);
    }
  };
  const sqlite = db.$client;
  sqlite.run("PRAGMA synchronous = OFF");
  sqlite.run("PRAGMA cache_size = -262144"); // 256 MiB page cache for the seeding connection only

  const insLead = sqlite.prepare(`INSERT INTO leads (id, campaign_id, subscriber, click, username, chat_id, status, joined_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, '', ?, ?, NULL, ?, ?)`);
  const insEvent = sqlite.prepare(`INSERT INTO lead_events (id, lead_id, campaign_id, status, prev_status, source, reason, payout, currency, occurred_at, created_at)
    VALUES (?, ?, ?, ?, NULL, 'api', NULL, NULL, NULL, ?, ?)`);
  const insPostback = sqlite.prepare(`INSERT INTO postbacks (channel, lead_id, event_id, campaign_id, status, template, method, url, body, content_type, verdict, host,
      state, reason, attempts, next_attempt_at, lease_token, lease_expires_at, last_http_status, created_at, updated_at, finished_at)
    VALUES ('http', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?, ?, ?, ?)`);
  const insJoin = sqlite.prepare(`INSERT INTO lead_events (id, lead_id, campaign_id, status, prev_status, source, reason, payout, currency, occurred_at, created_at)
    VALUES (?, ?, ?, 'approve', 'wait', 'api', NULL, NULL, NULL, ?, ?)`);
  const insAttempt = sqlite.prepare(`INSERT INTO delivery_attempts (postback_id, attempt, started_at, duration_ms, url, http_status, outcome, error, response_head)
    VALUES (?, 1, ?, 2, ?, 200, 'delivered', NULL, 'OK')`);

  const firstLead = (sqlite.query<{ m: number | null }, []>("SELECT max(id) AS m FROM leads").get()?.m ?? 0) + 1;
  const firstEvent = (sqlite.query<{ m: number | null }, []>("SELECT max(id) AS m FROM lead_events").get()?.m ?? 0) + 1;
  const base = o.subscriberBase ?? 0;
  const delivered = o.state === "delivered";
  // Spread creation over the past: history over ~2 days (inside the 30-day retention), a backlog
  // over the last rows × 1 ms, oldest first, all due now.
  const step = delivered ? Math.max(1, Math.floor((o.spreadMs ?? 2 * 86_400_000) / o.rows)) : 1;
  const joins = o.joinEvery ?? 0;
  let nextEvent = firstEvent + o.rows;
  const batch = o.batch ?? 20_000;

  for (let start = 0; start < o.rows; start += batch) {
    const end = Math.min(o.rows, start + batch);
    sqlite.transaction(() => {
      for (let i = start; i < end; i++) {
        const leadId = firstLead + i;
        const eventId = firstEvent + i;
        const subscriber = base + i + 1;
        const at = now - (o.rows - i) * step;
        const joined = joins > 0 && i % joins === 0;
        const lead = {
          id: leadId, campaignId: campaign.id, subscriber, click: `c${subscriber}`, username: "", chatId: campaign.config.chat,
          status: joined ? "approve" : status, joinedAt: joined ? at + JOIN_AFTER_MS : null, createdAt: at, updatedAt: at, clickId: null,
        } satisfies LeadRow;
        const event = {
          id: eventId, leadId, campaignId: campaign.id, status, prevStatus: null, source: "api", reason: null,
          payout: null, currency: null, inviteLink: null, occurredAt: at, createdAt: at,
        } satisfies LeadEventRow;
        insLead.run(leadId, campaign.id, subscriber, lead.click, lead.chatId, lead.status, at, at);
        const postbacksOf = (e: LeadEventRow, list: typeof templates) => {
          const values = macroValues(runtime.config.account_id, campaign.config, lead, e);
          for (const template of list) {
            const req = renderRequest(template, values);
            const host = new URL(req.url).host;
            const finished = delivered ? e.occurredAt + 2 : null;
            const pb = insPostback.run(
              leadId, e.id, campaign.id, e.status, template.label, req.method, req.url, req.body, req.contentType, template.verdict ?? null, host,
              o.state, delivered ? 1 : 0, e.occurredAt, delivered ? 1 : 0, delivered ? 200 : null, e.occurredAt, finished ?? e.occurredAt, finished,
            );
            if (delivered) insAttempt.run(Number(pb.lastInsertRowid), e.occurredAt, req.url);
          }
          count(bucketOf(e.occurredAt), e.status as Status, 1, 1, list.length);
        };
        insEvent.run(eventId, leadId, campaign.id, status, at, at);
        postbacksOf(event, templates);
        countGroups(i, event);
        if (joined) {
          const join = { ...event, id: nextEvent++, status: "approve" as const, prevStatus: "wait" as const, occurredAt: at + JOIN_AFTER_MS, createdAt: at + JOIN_AFTER_MS };
          insJoin.run(join.id, leadId, campaign.id, join.occurredAt, join.createdAt);
          postbacksOf(join, joinTemplates);
          countGroups(i, join);
        }
      }
    }).immediate();
  }
  const insCounter = sqlite.prepare(`INSERT INTO lead_stats (campaign_id, bucket, status, events, leads, postbacks) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (campaign_id, bucket, status) DO UPDATE SET events = events + excluded.events, leads = leads + excluded.leads, postbacks = postbacks + excluded.postbacks`);
  sqlite.transaction(() => {
    for (const [key, c] of counters) {
      const [bucket, st] = key.split("|");
      insCounter.run(campaign.id, Number(bucket), st!, c.events, c.leads, c.postbacks);
    }
  }).immediate();
  const insGroup = sqlite.prepare(`INSERT INTO click_stats (campaign_id, param, span, bucket, value, status, events, leads) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (campaign_id, param, span, bucket, value, status) DO UPDATE SET events = events + excluded.events, leads = leads + excluded.leads`);
  const groupRows = [...groupCounters];
  for (let start = 0; start < groupRows.length; start += batch) {
    sqlite.transaction(() => {
      for (const [key, c] of groupRows.slice(start, start + batch)) {
        const [param, span, bucket, value, st] = key.split("|");
        insGroup.run(campaign.id, param!, Number(span), Number(bucket), value!, st!, c.events, c.leads);
      }
    }).immediate();
  }
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  return { seconds: (performance.now() - t0) / 1000, rows: o.rows, path: config.storage.path };
}
