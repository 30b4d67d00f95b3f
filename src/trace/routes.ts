// GET /api/trace?click=… | ?subscriber=…: everything about one click or subscriber in one answer,
// and in words why nothing was sent when nothing was (domain/trace.ts).
import { Elysia, t } from "elysia";
import type { Runtime } from "../config/runtime.ts";
import type { HostStates } from "../delivery/host-health.ts";
import { explainTrace } from "../domain/trace.ts";
import { responses } from "../http/openapi.ts";
import { queryString, withMessage } from "../http/schema.ts";
import type { Clock } from "../lib/clock.ts";
import { invalid } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import { clickJson, eventJson, leadJson } from "../leads/model.ts";
import { postbackJson } from "../postbacks/model.ts";
import type { Storage } from "../storage/port.ts";
import { gatherTrace } from "./gather.ts";
import { TraceAnswer, traceExample } from "./model.ts";

export interface TraceDeps {
  storage: Pick<Storage, "read">;
  clock: Clock;
  hosts: HostStates;
  runtime(): Runtime;
}

const attemptJson = (a: { attempt: number; startedAt: number; durationMs: number; url: string; httpStatus: number | null; outcome: string; error: string | null; responseHead: string | null }) => ({
  attempt: a.attempt, started_at: iso(a.startedAt)!, duration_ms: a.durationMs, url: a.url, http_status: a.httpStatus, outcome: a.outcome, error: a.error, response_head: a.responseHead,
});

export function traceRoutes(ctx: TraceDeps) {
  return new Elysia({ detail: { tags: ["leads"] } })
    .get("/api/trace", async ({ query }) => {
      if ((query.click === undefined) === (query.subscriber === undefined)) {
        throw invalid(query.click === undefined ? "query.click" : "query.subscriber", "give either click or subscriber (one of them)");
      }
      if (query.click === "") throw invalid("query.click", "must not be empty");
      const runtime = ctx.runtime();
      const subscriber = query.subscriber === undefined ? undefined : Number(query.subscriber);
      const g = await gatherTrace({ read: ctx.storage.read, runtime, hosts: ctx.hosts, now: ctx.clock.now() }, { click: query.click, subscriber });
      const campaigns = new Map((await ctx.storage.read.campaigns.all()).map((c) => [c.id, c]));
      const codeOf = (id: number) => campaigns.get(id)?.code ?? String(id);
      const accepted = g.leads.flatMap(({ lead, events }) => {
        const start = events.find((e) => e.status === "wait" && e.source === "telegram");
        if (!start) return [];
        const payload = lead.click ? `${codeOf(lead.campaignId)}-${lead.click}` : codeOf(lead.campaignId);
        const bot = runtime.campaignsById.get(lead.campaignId)?.config.bot ?? null;
        return [{ at: start.occurredAt, subscriber: lead.subscriber, bot, payload, payload_length: payload.length, outcome: "lead", reason: null, campaign: codeOf(lead.campaignId), lead: lead.id }];
      });
      const rejected = g.starts.map((s) => {
        const d = s.detail ?? {};
        const payload = typeof d.payload === "string" ? d.payload : null;
        return {
          at: s.createdAt, subscriber: s.subscriber, bot: typeof d.bot === "string" ? d.bot : null, payload,
          payload_length: typeof d.length === "number" ? d.length : payload?.length ?? null, outcome: "rejected",
          reason: typeof d.reason === "string" ? d.reason : null, campaign: typeof d.code === "string" ? d.code : null, lead: null,
        };
      });
      const starts = [...accepted, ...rejected].sort((a, b) => a.at - b.at).map((s) => ({ ...s, at: iso(s.at)! }));
      return {
        click: query.click ?? null,
        subscriber: subscriber ?? null,
        starts,
        leads: await Promise.all(g.leads.map(async ({ lead, events, postbacks }) => {
          const c = campaigns.get(lead.campaignId);
          return {
            lead: leadJson(lead, codeOf, await ctx.storage.read.profiles.ofLead(lead.id)),
            campaign: { code: codeOf(lead.campaignId), paused: runtime.campaignsById.get(lead.campaignId)?.config.paused ?? false, in_config: c?.inConfig ?? false },
            click_record: lead.clickId === null ? null : clickJson(await ctx.storage.read.clicks.get(lead.clickId)),
            events: events.map(eventJson),
            postbacks: postbacks.map(({ row, attempts }) => ({ postback: postbackJson(row, codeOf, () => lead.click), attempts: attempts.map(attemptJson) })),
          };
        })),
        journal: g.journal.map((j) => ({ id: j.id, kind: j.kind, campaign: j.campaignId === null ? null : codeOf(j.campaignId), detail: j.detail, created_at: iso(j.createdAt)! })),
        sent: g.leads.some((l) => l.postbacks.some((p) => p.row.channel === "http" && p.row.state === "delivered")),
        explanation: explainTrace(g.facts),
      };
    }, {
      query: t.Object({
        click: queryString("click", "a click id, exactly as the tracker sent it"),
        subscriber: t.Optional(withMessage(t.String({ title: "subscriber", pattern: "^-?[0-9]{1,16}$" }), "must be a Telegram user id")),
      }),
      detail: {
        summary: "Trace one click or subscriber: its Starts, the campaign matched or why not, its leads (with their click link's click), joins and leaves, postbacks and attempts, and why nothing was sent",
        description: "Give `click` or `subscriber`. A Start whose payload was over 64 characters reaches the bot as a bare `/start` (no payload): it cannot be matched to a click, and the explanation says so.",
        responses: responses({ schema: TraceAnswer, example: traceExample, description: "Everything recorded about it, and the findings in words" }, 401, 422),
      },
    });
}
