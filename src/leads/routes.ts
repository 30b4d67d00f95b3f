import { Elysia, t } from "elysia";
import { campaignCodes, findCampaignId } from "../campaigns/repository.ts";
import type { AppContext } from "../context.ts";
import { IdParams, pageQuery, queryString } from "../http/schema.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { EventBody, StatusSchema, eventJson, leadJson, postbackJson } from "./model.ts";
import { eventsOfLead, getLead, listLeads, postbacksOfLead } from "./repository.ts";
import { recordLeadEvent, type LeadEventResult } from "./service.ts";

const MAX_IDEMPOTENCY_KEY = 200;
const JSON_HEADERS = { "content-type": "application/json" };
const REPLAYED_HEADERS = { ...JSON_HEADERS, "idempotent-replayed": "true" };

export function leadRoutes(ctx: AppContext) {
  return new Elysia({ detail: { tags: ["leads"] } })
    .post("/api/events", async ({ body, headers }) => {
      const raw: unknown = body.subscriber;
      const subscriber = typeof raw === "number" ? raw : typeof raw === "string" && /^-?[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(subscriber)) throw invalid("body.subscriber", "must be a Telegram user id (a whole number)");
      const key = headers["idempotency-key"];
      if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
        throw invalid("Idempotency-Key", `must be 1-${MAX_IDEMPOTENCY_KEY} characters`);
      }
      const req = {
        campaign: body.campaign, subscriber, status: body.status, click: body.click, username: body.username?.replace(/^@/, ""),
        chat: body.chat, at: body.time === undefined ? undefined : Math.round(body.time * 1000), source: "api" as const,
      };
      const render = (r: LeadEventResult) => ({
        applied: r.applied,
        reason: r.reason,
        lead: r.lead && leadJson(r.lead, () => req.campaign),
        events: r.events.map(eventJson),
        postbacks: r.postbacks,
      });
      const requestHash = key === undefined ? "" : Bun.CryptoHasher.hash("sha256", JSON.stringify(req), "hex");
      const recorded = await recordLeadEvent(ctx, req, render, key === undefined ? undefined : { key, requestHash });
      return new Response(recorded.json, { status: recorded.statusCode, headers: recorded.replayed ? REPLAYED_HEADERS : JSON_HEADERS });
    }, {
      body: EventBody,
      detail: {
        summary: "Record a lead event",
        description: "Applies a status change with the same rules and transaction as Telegram updates. Send an `Idempotency-Key` header to make retries safe: the same key with the same body replays the first answer.",
      },
    })
    .get("/api/leads", ({ query }) => {
      const campaignId = query.campaign === undefined ? undefined : findCampaignId(ctx.db, query.campaign);
      if (query.campaign !== undefined && campaignId === undefined) return { items: [], next_before: null };
      const limit = query.limit ?? 50;
      const rows = listLeads(ctx.db, {
        campaignId, status: query.status, click: query.click, limit,
        subscriber: query.subscriber === undefined ? undefined : Number(query.subscriber), beforeId: query.before,
      });
      const codeOf = campaignCodes(ctx.db);
      return { items: rows.map((l) => leadJson(l, codeOf)), next_before: rows.length === limit ? rows.at(-1)!.id : null };
    }, {
      query: t.Object({
        campaign: queryString("campaign", "campaign code"),
        status: t.Optional(StatusSchema),
        subscriber: t.Optional(t.String({ title: "subscriber", pattern: "^-?[0-9]{1,16}$", error: "must be a Telegram user id" })),
        click: queryString("click"),
        ...pageQuery,
      }),
      detail: { summary: "List leads, newest first" },
    })
    .get("/api/leads/:id", ({ params }) => {
      const lead = getLead(ctx.db, params.id);
      if (!lead) throw notFound("lead", params.id);
      const codeOf = campaignCodes(ctx.db);
      return {
        lead: leadJson(lead, codeOf),
        events: eventsOfLead(ctx.db, lead.id).map(eventJson),
        postbacks: postbacksOfLead(ctx.db, lead.id).map((p) => postbackJson(p, codeOf)),
      };
    }, { params: IdParams, detail: { summary: "One lead with its events and postbacks" } });
}
