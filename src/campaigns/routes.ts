import { Elysia, t } from "elysia";
import type { Clock } from "../lib/clock.ts";
import type { Runtime } from "../config/runtime.ts";
import type { HttpChannel } from "../delivery/http-channel.ts";
import { STATUSES, type Status } from "../domain/status.ts";
import { lacksClick, macroValues, renderRequest, resolveTemplates } from "../domain/templates.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { maxClickLength, startPayloadProblem } from "../domain/click-link.ts";
import { Int, StatusSchema } from "../http/schema.ts";
import type { CampaignConfig } from "../config/model.ts";
import type { Reads } from "../storage/port.ts";
import { responses } from "../http/openapi.ts";
import { CampaignList, TestAnswer, campaignListExample, testAnswerExample } from "./model.ts";
import { postbackOutcomes } from "../stats/service.ts";

export interface CampaignDeps {
  storage: { read: Pick<Reads, "stats" | "outbox"> };
  clock: Clock;
  /** What the telegram feature knows of a campaign's bot and chat. */
  telegramState: {
    botUsername(bot: string): Promise<string | null>;
    chatAccess(bot: string, chat: number): Promise<{ ok: boolean; missing: string[] }>;
  };
  runtime(): Runtime;
  /** Sends a test postback as the dispatcher would (the same request, redirects, guard and verdict). */
  httpChannel: HttpChannel;
}

export function campaignRoutes(ctx: CampaignDeps) {
  /** Whether the campaign's bot is admin in its chat with the rights it needs (null: no bot or chat). */
  const telegramStatus = (c: CampaignConfig) => (!c.bot || c.chat === null ? null : ctx.telegramState.chatAccess(c.bot, c.chat));
  const deepLink = async (c: CampaignConfig) => {
    const username = c.bot ? await ctx.telegramState.botUsername(c.bot) : null;
    return username ? `https://t.me/${username}?start=${c.code}-{click}` : null; // known once the bot answered getMe
  };
  /** The click link (GET /c/<code>): under server.public_url when set, else its path; null without a bot or with mode off. */
  const clickLink = (c: CampaignConfig) => {
    if (!c.bot || c.click_link.mode === "off") return null;
    return `${ctx.runtime().config.server.public_url ?? ""}/c/${encodeURIComponent(c.code)}`;
  };
  return new Elysia({ detail: { tags: ["campaigns"] } })
    .get("/api/campaigns", async () => {
      const { config, campaigns } = ctx.runtime();
      // The dashboard's counters: no scan of the events.
      const sums = await ctx.storage.read.stats.totals([...campaigns.values()].map((c) => c.id));
      const open = await ctx.storage.read.outbox.undelivered();
      const eventCount = (id: number, ...statuses: string[]) =>
        sums.filter((r) => r.campaignId === id && statuses.includes(r.status)).reduce((sum, r) => sum + r.events, 0);
      const postbackCounts = (id: number) => {
        const outcomes = postbackOutcomes(sums.filter((r) => r.campaignId === id).reduce((sum, r) => sum + r.postbacks, 0), open.filter((r) => r.campaignId === id));
        return Object.fromEntries(Object.entries(outcomes).filter(([state, n]) => state !== "total" && n > 0));
      };
      return {
        items: await Promise.all([...campaigns.values()].map(async ({ id, config: c }) => ({
          code: c.code,
          name: c.name,
          bot: c.bot,
          chat: c.chat,
          paused: c.paused,
          unsub_window_s: c.unsub_window_ms / 1000,
          start_payload: `${c.code}-{click}`,
          deep_link: await deepLink(c),
          max_click_length: Math.max(0, maxClickLength(c.code)),
          click_link: clickLink(c),
          click_link_mode: c.click_link.mode,
          bot_admin: await telegramStatus(c),
          templates_from: c.postbacks ? "campaign" : "global",
          templates: Object.fromEntries(STATUSES.map((s) => [s, resolveTemplates(config.postbacks, c.postbacks, s).map((tpl) => ({
            template: tpl.label, method: tpl.method, url: tpl.url.source,
          }))])),
          payouts: c.payouts,
          counters: {
            starts: eventCount(id, "wait"),
            confirms: eventCount(id, "approve"),
            unsubs: eventCount(id, "cancel", "trash"),
            postbacks: postbackCounts(id),
          },
        }))),
      };
    }, { detail: { summary: "Campaigns with their effective templates and counters", responses: responses({ schema: CampaignList, example: campaignListExample, description: "Every campaign of the running config" }, 401) } })
    .post("/api/campaigns/:code/test", async ({ params, body }) => {
      const runtime = ctx.runtime();
      const entry = runtime.campaigns.get(params.code);
      if (!entry) throw notFound("campaign", params.code);
      const status: Status = body?.status ?? "approve";
      // A click id too long to ride the campaign's deep link is refused here, where the link would be made
      // (a click of other characters may still come through POST /api/events, so only the length is a refusal).
      const sampleClick = body?.click ?? "";
      if (entry.config.bot && sampleClick.length > maxClickLength(entry.config.code)) {
        throw invalid("body.click", `${startPayloadProblem(entry.config.code, sampleClick)}; a longer click id goes through the click link /c/${entry.config.code} (click_link.click_param)`);
      }
      // A sample lead (id 0) and its event, as a real one would be rendered.
      const values = macroValues(runtime.config.account_id, entry.config,
        { id: 0, click: body?.click ?? "test-click", subscriber: body?.subscriber ?? 0, username: body?.username ?? "", chatId: entry.config.chat },
        { id: 0, status, occurredAt: ctx.clock.now(), payout: null, currency: null });
      const requests = await Promise.all(resolveTemplates(runtime.config.postbacks, entry.config.postbacks, status).map(async (tpl) => {
        const req = renderRequest(tpl, values);
        if (!body?.send) return { template: tpl.label, ...req };
        // As for a real lead: a {click} URL without a click cannot count, so it is not sent.
        if (lacksClick(tpl, values)) {
          return { template: tpl.label, ...req, result: { outcome: "skipped", reason: "no_click", http_status: null, response_head: null } };
        }
        const { report, verdict } = await ctx.httpChannel({ ...req, verdict: tpl.verdict ?? null });
        return {
          template: tpl.label, ...req,
          result: {
            outcome: verdict.outcome,
            reason: verdict.outcome === "delivered" ? null : verdict.reason,
            http_status: report.result.kind === "response" ? report.result.status : null,
            response_head: report.responseHead,
          },
        };
      }));
      return { campaign: entry.config.code, status, sent: Boolean(body?.send), requests };
    }, {
      params: t.Object({ code: t.String() }),
      body: t.Optional(t.Object({
        status: t.Optional(StatusSchema),
        click: t.Optional(t.String({ maxLength: 4096 })),
        subscriber: t.Optional(Int()),
        username: t.Optional(t.String({ maxLength: 64 })),
        send: t.Optional(t.Boolean({ description: "also send the requests (not recorded in the outbox)" })),
      })),
      detail: {
        summary: "Render a campaign's postbacks for a sample lead, and optionally send them",
        responses: responses({ schema: TestAnswer, example: testAnswerExample, description: "The requests as rendered (and, with send, what the tracker answered)" }, 400, 401, 403, [404, { code: "not_found", message: "campaign spring not found" }], 422),
      },
    });
}
