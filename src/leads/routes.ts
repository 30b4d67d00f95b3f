import { Elysia, t } from "elysia";
import { campaignCodes } from "../campaigns/registry.ts";
import type { Runtime } from "../config/runtime.ts";
import type { Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import { presentedKey } from "../http/auth.ts";
import { IdParams, pageQuery } from "../http/schema.ts";
import { LeadFilterFields, leadFilterOf } from "./filter.ts";
import { postbackJson } from "../postbacks/model.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { responses } from "../http/openapi.ts";
import {
  clickJson, ignoredMessage, EventAnswer, EventBody, LeadDetail, LeadList, eventAnswerExample, eventJson, leadDetailExample, leadJson, leadListExample,
} from "./model.ts";
import type { Storage } from "../storage/port.ts";
import { profileJson } from "./profile-model.ts";
import { ORGANIC_JOIN_GRACE_MS, recordLeadEvent, type LeadEventResult } from "./service.ts";

const MAX_IDEMPOTENCY_KEY = 200;
const MIB = 1024 * 1024;

/**
 * Whose budget a stored answer counts against: its API key, as 16 hex digits of a SHA-256 (the
 * key itself is never stored), or the dashboard's session. The access rule has let the request in.
 */
const idempotencyClient = (request: Request) => {
  const presented = presentedKey(request);
  return presented ? Bun.CryptoHasher.hash("sha256", `tgcpa idempotency client\0${presented.key}`, "hex").slice(0, 16) : "session";
};
const JSON_HEADERS = { "content-type": "application/json" };
const REPLAYED_HEADERS = { ...JSON_HEADERS, "idempotent-replayed": "true" };

export interface LeadDeps {
  storage: Pick<Storage, "read">;
  intake: Intake;
  clock: Clock;
  runtime(): Runtime;
}

export function leadRoutes(ctx: LeadDeps) {
  return new Elysia({ detail: { tags: ["leads"] } })
    .post("/api/events", async ({ body, headers, request }) => {
      const raw: unknown = body.subscriber;
      const subscriber = typeof raw === "number" ? raw : typeof raw === "string" && /^-?[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(subscriber)) throw invalid("body.subscriber", "must be a Telegram user id (a whole number)");
      const key = headers["idempotency-key"];
      if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
        throw invalid("headers.idempotency-key", `must be 1-${MAX_IDEMPOTENCY_KEY} characters`);
      }
      const req = {
        campaign: body.campaign, subscriber, status: body.status, click: body.click, username: body.username?.replace(/^@/, ""),
        chat: body.chat, at: body.time === undefined ? undefined : Math.round(body.time * 1000), source: "api" as const,
      };
      const render = (r: LeadEventResult) => ({
        applied: r.applied,
        reason: r.reason,
        ...(r.applied ? {} : { message: ignoredMessage(r.reason, req.status, ORGANIC_JOIN_GRACE_MS) }),
        lead: r.lead && leadJson(r.lead, () => req.campaign, r.profile),
        events: r.events.map(eventJson),
        postbacks: r.postbacks,
      });
      const idempotency = key === undefined ? undefined : {
        key, requestHash: Bun.CryptoHasher.hash("sha256", JSON.stringify(req), "hex"), client: idempotencyClient(request),
        budgetBytes: ctx.runtime().config.storage.idempotency_mib_per_api_key * MIB,
      };
      const recorded = await recordLeadEvent(ctx, req, render, idempotency);
      return new Response(recorded.json, { status: recorded.statusCode, headers: recorded.replayed ? REPLAYED_HEADERS : JSON_HEADERS });
    }, {
      body: EventBody,
      detail: {
        summary: "Record a lead event",
        description: "Applies a status change with the same rules and transaction as Telegram updates. Send an `Idempotency-Key` header to make retries safe: the same key with the same body replays the first answer.",
        parameters: [{
          name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY },
          description: "Any unique string per event (1-200 characters), kept 24 h — and within storage.idempotency_mib_per_api_key per API key (64 MiB by default), the oldest keys going first. The same key with the same body replays the first answer (with `Idempotent-Replayed: true`); with another body → 422 idempotency_key_reused.",
          example: "order-42-approve",
        }],
        responses: responses({ schema: EventAnswer, example: eventAnswerExample, description: "The event as applied (or why nothing changed), after the commit" }, 400, 401, 403, 422, 503),
      },
    })
    .get("/api/leads", async ({ query }) => {
      const filter = await leadFilterOf(ctx.storage.read, query);
      if (!filter) return { items: [], next_before: null };
      const limit = query.limit ?? 50;
      const rows = await ctx.storage.read.leads.list({ ...filter, beforeId: query.before, limit });
      const codeOf = await campaignCodes(ctx.storage);
      const profiles = await Promise.all(rows.map((l) => ctx.storage.read.profiles.ofLead(l.id)));
      return { items: rows.map((l, i) => leadJson(l, codeOf, profiles[i]!)), next_before: rows.length === limit ? rows.at(-1)!.id : null };
    }, {
      query: t.Object({ ...LeadFilterFields, ...pageQuery }),
      detail: { summary: "List leads, newest first", responses: responses({ schema: LeadList, example: leadListExample, description: "A page of leads" }, 401, 422) },
    })
    .get("/api/leads/:id", async ({ params }) => {
      const { read } = ctx.storage;
      const lead = await read.leads.get(params.id);
      if (!lead) throw notFound("lead", params.id);
      const codeOf = await campaignCodes(ctx.storage);
      const profile = await read.profiles.ofLead(lead.id);
      return {
        lead: leadJson(lead, codeOf, profile),
        profile: profile && profileJson(profile, lead.subscriber),
        events: (await read.leads.events(lead.id)).map(eventJson),
        postbacks: (await read.outbox.ofLead(lead.id)).map((p) => postbackJson(p, codeOf, () => lead.click)),
        click_record: lead.clickId === null ? null : clickJson(await read.clicks.get(lead.clickId)),
      };
    }, {
      params: IdParams,
      detail: {
        summary: "One lead with its events, its postbacks and the click link's click that brought it",
        responses: responses({ schema: LeadDetail, example: leadDetailExample, description: "The lead, its events, its postbacks and its click record" }, 401, 404, 422),
      },
    });
}
