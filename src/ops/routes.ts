import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { journal } from "../db/schema.ts";
import { pageQuery, queryString } from "../http/schema.ts";
import { AppError } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import { ConfigError } from "../config/load.ts";
import { campaignCodes } from "../campaigns/repository.ts";
import { postbackStateCounts, queueGauges } from "../postbacks/repository.ts";
import { responses } from "../http/openapi.ts";
import { JournalList, ReloadAnswer, healthResponses, journalExample, metricsResponses, reloadExample } from "./model.ts";

export function opsRoutes(ctx: AppContext) {
  return new Elysia()
    .get("/health", ({ set }) => {
      try {
        ctx.db.$client.query("SELECT 1").get();
        return { status: "ok", db: "ok", in_flight: ctx.dispatcher.inFlightCount };
      } catch (err) {
        set.status = 503;
        return { status: "error", db: (err as Error).message };
      }
    }, { detail: { tags: ["ops"], summary: "Liveness and database check", security: [], responses: healthResponses } })
    .get("/metrics", ({ set }) => {
      set.headers["content-type"] = "text/plain; version=0.0.4";
      return renderMetrics(ctx);
    }, { detail: { tags: ["ops"], summary: "Prometheus metrics", security: [], responses: metricsResponses } })
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
      detail: { tags: ["ops"], summary: "Activity journal: organic joins, ignored events, reloads", responses: responses({ schema: JournalList, example: journalExample, description: "A page of the journal, newest first" }, 401, 422) },
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
    }, {
      detail: {
        tags: ["ops"],
        summary: "Reload the config file (same as SIGHUP)",
        responses: responses({ schema: ReloadAnswer, example: reloadExample, description: "The new config runs" }, 401, 403, [422, {
          code: "invalid_config", message: "the new config is invalid; the running config is kept",
          description: "The file has errors (every one in details, with its path and line); the running config is kept",
        }]),
      },
    });
}

function renderMetrics(ctx: AppContext): string {
  const now = ctx.clock.now();
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const m = ctx.metrics;
  metric("tgcpa_events_total", "counter", "Lead events received, by status and whether they changed the lead.",
    [...m.events].map(([k, v]) => {
      const [status, result] = k.split("|");
      return [`{status="${status}",result="${result}"}`, v];
    }));
  metric("tgcpa_postback_attempts_total", "counter", "Delivery attempts by outcome.", [...m.attempts].map(([k, v]) => [`{outcome="${k}"}`, v]));
  metric("tgcpa_postbacks_finished_total", "counter", "Postbacks that reached a final state in this process.", [...m.postbacks].map(([k, v]) => [`{state="${k}"}`, v]));
  metric("tgcpa_postbacks", "gauge", "Postbacks in the database by state.", postbackStateCounts(ctx.db).map((r) => [`{state="${r.state}"}`, r.n]));
  const q = queueGauges(ctx.db, now);
  metric("tgcpa_queue_depth", "gauge", "Pending postbacks that are due now.", [["", q?.depth ?? 0]]);
  metric("tgcpa_oldest_due_age_seconds", "gauge", "How long the oldest due postback has been waiting.", [["", q?.oldest == null ? 0 : Math.max(0, (now - q.oldest) / 1000)]]);
  metric("tgcpa_in_flight", "gauge", "Postback requests in flight.", [["", ctx.dispatcher.inFlightCount]]);
  return `${lines.join("\n")}\n`;
}
