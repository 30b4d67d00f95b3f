import { Elysia, t } from "elysia";
import type { Runtime } from "../config/runtime.ts";
import type { Storage } from "../storage/port.ts";
import type { Clock } from "../lib/clock.ts";
import type { Metrics } from "../lib/metrics.ts";
import { pageQuery, queryString } from "../http/schema.ts";
import { AppError } from "../lib/errors.ts";
import { MetricsPage, processMetrics } from "../lib/prometheus.ts";
import { iso } from "../lib/json.ts";
import { VERSION, buildCommit } from "../lib/version.ts";
import { ConfigError } from "../config/load.ts";
import { campaignCodes } from "../campaigns/registry.ts";
import { responses } from "../http/openapi.ts";
import { StorageProbe, databasePart, healthAnswer, storagePart } from "./health.ts";
import { JournalList, ReloadAnswer, healthResponses, journalExample, metricsResponses, reloadExample } from "./model.ts";

/** What the operations routes use: health, metrics, the journal and the config reload. */
export interface OpsDeps {
  storage: Storage;
  clock: Clock;
  metrics: Metrics;
  dispatcher: { readonly inFlightCount: number };
  telegram: { down(): string[]; states(): readonly { name: string; status: string }[] };
  /** Re-reads the config file; throws ConfigError and keeps the running config when it is invalid. */
  reloadConfig(): Promise<Runtime>;
}

export function opsRoutes(ctx: OpsDeps) {
  const storage = new StorageProbe({ storage: ctx.storage, now: ctx.clock.now });
  const build = { version: VERSION, commit: buildCommit(), bun: Bun.version }; // asked of git once, not per scrape
  return new Elysia()
    .get("/health", async ({ set }) => {
      // Each part adds its level and fields; the worst level is the status (degraded: 200, error: 503).
      const down = ctx.telegram.down();
      const answer = healthAnswer([
        await databasePart(ctx.storage),
        storagePart(await storage.state()),
        // Still 200: the service works, but the bots named here receive and send nothing until they are back.
        { level: down.length ? "degraded" : "ok", fields: { in_flight: ctx.dispatcher.inFlightCount, ...(down.length ? { bots_down: down } : {}) } },
      ]);
      set.status = answer.httpStatus;
      return answer.body;
    }, { detail: { tags: ["ops"], summary: "Liveness: ok, or degraded naming the bots that are down (both 200); 503 when the database cannot be read or written", security: [], responses: healthResponses } })
    .get("/metrics", async ({ set }) => {
      set.headers["content-type"] = "text/plain; version=0.0.4";
      await storage.state(); // fresh for tgcpa_storage_writable
      return await renderMetrics(ctx, build);
    }, {
      detail: {
        tags: ["ops"], summary: "Prometheus metrics", security: [], responses: metricsResponses,
        description: "Open to anyone who reaches the port by default; with server.metrics_public: false it needs an API key (Authorization: Bearer KEY, which Prometheus sends with its authorization setting, or ?key=KEY).",
      },
    })
    .get("/api/journal", async ({ query }) => {
      const limit = query.limit ?? 50;
      const rows = await ctx.storage.read.journal.list({ kind: query.kind, beforeId: query.before, limit });
      const codeOf = await campaignCodes(ctx.storage);
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
    .post("/api/config/reload", async () => {
      try {
        const runtime = await ctx.reloadConfig();
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

/** The /metrics page: this process's counters, the database's gauges, the commit path and the process. */
async function renderMetrics(ctx: OpsDeps, build: { version: string; commit: string; bun: string }): Promise<string> {
  const now = ctx.clock.now();
  const page = new MetricsPage();
  page.gauge("tgcpa_build_info", "Always 1; the labels say which build runs (version, the commit it was built from, the Bun runtime).", [[build, 1]]);
  page.gauge("tgcpa_bot_up", "1 while the bot is connected to Telegram (running), 0 while it is starting, failing and retrying, or stopped.",
    ctx.telegram.states().map((s) => [{ bot: s.name }, s.status === "running" ? 1 : 0] as const));
  ctx.metrics.writeTo(page);
  const { read } = ctx.storage;
  page.gauge("tgcpa_postbacks", "Postbacks in the database by state.", (await read.outbox.stateCounts()).map((r) => [{ state: r.state }, r.n] as const));
  const q = await read.outbox.queueGauges(now);
  page.gauge("tgcpa_queue_depth", "Pending postbacks that are due now.", [[{}, q.depth]]);
  page.gauge("tgcpa_oldest_due_age_seconds", "How long the oldest due postback has been waiting.", [[{}, q.oldest === null ? 0 : Math.max(0, (now - q.oldest) / 1000)]]);
  page.gauge("tgcpa_in_flight", "Postback requests in flight.", [[{}, ctx.dispatcher.inFlightCount]]);
  page.gauge("tgcpa_storage_writable", "1 while the database takes writes (the last write, or the idle probe, succeeded); 0 while writes fail.",
    [[{}, ctx.storage.state().writable ? 1 : 0]]);
  const commits = ctx.storage.metrics;
  page.counter("tgcpa_commit_batches_total", "Group-commit transactions committed.", [[{}, commits.batches]]);
  page.counter("tgcpa_commit_writes_total", "Writes committed through the group commit (intake, claims, outcomes).", [[{}, commits.writes]]);
  page.histogram("tgcpa_commit_seconds", "Time a group-commit batch held the event loop (its SQLite work and commit).", commits.commitMs, 1 / 1000);
  page.histogram("tgcpa_wal_sync_seconds", "Time to fdatasync the WAL after a batch (off the event loop; answers wait for it).", commits.syncMs, 1 / 1000);
  processMetrics(page);
  return page.toString();
}
