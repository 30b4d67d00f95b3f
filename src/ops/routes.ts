import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import { Elysia, t } from "elysia";
import { findCampaignId } from "../campaigns/repository.ts";
import type { AppContext } from "../context.ts";
import { journal, leadEvents } from "../db/schema.ts";
import { pageQuery, queryString } from "../http/schema.ts";
import { AppError, invalid } from "../lib/errors.ts";
import type { Histogram } from "../lib/histogram.ts";
import { iso, parseTimeFilter } from "../lib/json.ts";
import { ConfigError } from "../config/load.ts";
import { campaignCodes } from "../campaigns/repository.ts";
import { postbackStateCounts, queueGauges } from "../postbacks/repository.ts";
import { StorageProbe, databasePart, healthAnswer, storagePart } from "./health.ts";

export function opsRoutes(ctx: AppContext) {
  const storage = new StorageProbe({ db: ctx.db, commits: ctx.commits, now: ctx.clock.now });
  return new Elysia()
    .get("/health", async ({ set }) => {
      // Each part adds its level and fields; the worst level is the status (degraded: 200, error: 503).
      const down = ctx.telegram.down();
      const answer = healthAnswer([
        databasePart(ctx.db),
        storagePart(await storage.state()),
        // Still 200: the service works, but the bots named here receive and send nothing until they are back.
        { level: down.length ? "degraded" : "ok", fields: { in_flight: ctx.dispatcher.inFlightCount, ...(down.length ? { bots_down: down } : {}) } },
      ]);
      set.status = answer.httpStatus;
      return answer.body;
    }, { detail: { tags: ["ops"], summary: "Liveness: ok, or degraded naming the bots that are down (both 200); 503 when the database cannot be read or written" } })
    .get("/metrics", async ({ set }) => {
      set.headers["content-type"] = "text/plain; version=0.0.4";
      await storage.state(); // fresh for tgcpa_storage_writable
      return renderMetrics(ctx);
    }, { detail: { tags: ["ops"], summary: "Prometheus metrics" } })
    .get("/api/stats", ({ query }) => {
      const since = parseTimeFilter(query.since);
      const until = parseTimeFilter(query.until);
      if (since === "invalid") throw invalid("query.since", "must be an ISO date or UNIX seconds");
      if (until === "invalid") throw invalid("query.until", "must be an ISO date or UNIX seconds");
      const where: SQL[] = [];
      if (since !== undefined) where.push(gte(leadEvents.occurredAt, since));
      if (until !== undefined) where.push(lt(leadEvents.occurredAt, until));
      if (query.campaign !== undefined) where.push(eq(leadEvents.campaignId, findCampaignId(ctx.db, query.campaign) ?? -1));
      const day = sql<string>`date(${leadEvents.occurredAt} / 1000, 'unixepoch')`;
      const rows = ctx.db.select({ day, campaignId: leadEvents.campaignId, status: leadEvents.status, n: sql<number>`count(*)` })
        .from(leadEvents).where(and(...where)).groupBy(day, leadEvents.campaignId, leadEvents.status).orderBy(day).all();
      const codeOf = campaignCodes(ctx.db);
      const out = new Map<string, Record<string, string | number>>();
      for (const r of rows) {
        const key = `${r.day}|${r.campaignId}`;
        const row = out.get(key) ?? { day: r.day, campaign: codeOf(r.campaignId), wait: 0, hold: 0, approve: 0, cancel: 0, trash: 0 };
        row[r.status] = r.n;
        out.set(key, row);
      }
      return { items: [...out.values()] };
    }, {
      query: t.Object({ campaign: queryString("campaign"), since: queryString("since", "ISO date or UNIX seconds"), until: queryString("until", "ISO date or UNIX seconds") }),
      detail: { tags: ["ops"], summary: "Lead events per campaign per day (UTC)" },
    })
    .get("/api/journal", ({ query }) => {
      const where: SQL[] = [];
      if (query.kind) where.push(eq(journal.kind, query.kind));
      if (query.before) where.push(lt(journal.id, query.before));
      const limit = query.limit ?? 50;
      const rows = ctx.db.select().from(journal).where(and(...where)).orderBy(desc(journal.id)).limit(limit).all();
      const codeOf = campaignCodes(ctx.db);
      return {
        items: rows.map((j) => ({
          id: j.id, kind: j.kind, campaign: j.campaignId == null ? null : codeOf(j.campaignId), subscriber: j.subscriber,
          chat: j.chatId, detail: j.detail, created_at: iso(j.createdAt),
        })),
        next_before: rows.length === limit ? rows.at(-1)!.id : null,
      };
    }, {
      query: t.Object({
        kind: queryString("kind", "organic_join, event_ignored, …"),
        ...pageQuery,
      }),
      detail: { tags: ["ops"], summary: "Activity journal: organic joins, ignored events, reloads" },
    })
    .post("/api/config/reload", () => {
      try {
        const runtime = ctx.reloadConfig();
        return { status: "ok", campaigns: runtime.campaigns.size, source: runtime.config.source };
      } catch (err) {
        if (err instanceof ConfigError) {
          throw new AppError(422, "invalid_config", "the new config is invalid; the running config is kept", err.issues);
        }
        throw err;
      }
    }, { detail: { tags: ["ops"], summary: "Reload the config file (same as SIGHUP)" } });
}

/** A Prometheus label value: backslash, double quote and newline escaped. */
const labelValue = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

function renderMetrics(ctx: AppContext): string {
  const now = ctx.clock.now();
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const histogram = (name: string, help: string, h: Histogram) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    h.bounds.forEach((bound, i) => {
      cumulative += h.counts[i]!;
      lines.push(`${name}_bucket{le="${bound / 1000}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum / 1000}`, `${name}_count ${h.count}`);
  };
  const m = ctx.metrics;
  metric("tgcpa_events_total", "counter", "Lead events received, by status and whether they changed the lead.",
    [...m.events].map(([k, v]) => {
      const [status, result] = k.split("|");
      return [`{status="${status}",result="${result}"}`, v];
    }));
  metric("tgcpa_postback_attempts_total", "counter", "Delivery attempts by outcome.", [...m.attempts].map(([k, v]) => [`{outcome="${k}"}`, v]));
  metric("tgcpa_postback_outcomes_total", "counter", "Delivery attempts by host, outcome (delivered, retry, rejected, failed) and reason class.",
    [...m.outcomes].map(([k, v]) => {
      const [host, outcome, reason] = k.split("|");
      return [`{host="${labelValue(host!)}",outcome="${outcome}",reason="${reason}"}`, v];
    }));
  metric("tgcpa_postbacks_finished_total", "counter", "Postbacks that reached a final state in this process.", [...m.postbacks].map(([k, v]) => [`{state="${k}"}`, v]));
  metric("tgcpa_postbacks", "gauge", "Postbacks in the database by state.", postbackStateCounts(ctx.db).map((r) => [`{state="${r.state}"}`, r.n]));
  const q = queueGauges(ctx.db, now);
  metric("tgcpa_queue_depth", "gauge", "Pending postbacks that are due now.", [["", q.depth]]);
  metric("tgcpa_oldest_due_age_seconds", "gauge", "How long the oldest due postback has been waiting.", [["", q.oldest === null ? 0 : Math.max(0, (now - q.oldest) / 1000)]]);
  metric("tgcpa_in_flight", "gauge", "Postback requests in flight.", [["", ctx.dispatcher.inFlightCount]]);
  metric("tgcpa_storage_writable", "gauge", "1 while the database takes writes (the last write, or the idle probe, succeeded); 0 while writes fail.",
    [["", ctx.commits.storageState().writable ? 1 : 0]]);
  const commits = ctx.commits.stats;
  metric("tgcpa_commit_batches_total", "counter", "Group-commit transactions committed.", [["", commits.batches]]);
  metric("tgcpa_commit_writes_total", "counter", "Writes committed through the group commit (intake, claims, outcomes).", [["", commits.writes]]);
  histogram("tgcpa_commit_seconds", "Time a group-commit batch held the event loop (its SQLite work and commit).", commits.commitMs);
  histogram("tgcpa_wal_sync_seconds", "Time to fdatasync the WAL after a batch (off the event loop; answers wait for it).", commits.syncMs);
  return `${lines.join("\n")}\n`;
}
