import { Elysia } from "elysia";
import type { Runtime } from "../config/runtime.ts";
import { isCurrency, isDate, normalCurrency, parseAmount, parseCostCsv, formatAmount } from "../domain/money.ts";
import { responses } from "../http/openapi.ts";
import { NO_EFFECTS, type Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import { AppError, invalid } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import { PeriodQuery, periodQuery } from "../retention/routes.ts";
import type { Storage } from "../storage/port.ts";
import { t } from "elysia";
import { CostAnswer, CostBody, CostParams, CsvAnswer, CsvBody, MoneyAnswer, costExample, moneyExample } from "./model.ts";
import { moneyReport } from "./service.ts";

export interface MoneyDeps {
  storage: Pick<Storage, "read">;
  intake: Intake;
  clock: Clock;
  runtime(): Runtime;
  defaultTimeZone(): string;
}

export function moneyRoutes(ctx: MoneyDeps) {
  return new Elysia({ detail: { tags: ["ops"] } })
    .get("/api/money", async ({ query }) => {
      const period = periodQuery(query, ctx.defaultTimeZone());
      const runtime = ctx.runtime();
      let campaigns = (await ctx.storage.read.campaigns.all()).map((c) => ({ ...c, config: runtime.campaigns.get(c.code)?.config }));
      if (query.campaign !== undefined) campaigns = campaigns.filter((c) => c.code === query.campaign);
      return moneyReport(ctx.storage.read, { ...period, campaigns }, ctx.clock.now());
    }, {
      query: t.Object(PeriodQuery),
      detail: {
        summary: "Revenue, cost and cost per subscriber per campaign and day",
        description: "Revenue: the payouts of the events reported (configured per status under the campaign's payouts, or an inbound postback's payout), counted when each event is written; "
          + "an event whose postbacks were withheld (outside the unsubscribe window) or skipped (paused) earned nothing. Cost: PUT /api/costs/{campaign}/{date}, the dashboard's CSV upload, or the campaign's costs in the config (an entered cost replaces the config's). "
          + "Subscribers are a day's first joins; retained_7 those still in the chat 7 days later. Every currency apart.",
        responses: responses({ schema: MoneyAnswer, example: moneyExample, description: "Money per campaign and day, and totals per currency" }, 401, 422),
      },
    })
    .put("/api/costs/:campaign/:date", async ({ params, body }) => {
      const campaign = ctx.runtime().campaigns.get(params.campaign);
      if (!campaign) throw invalid("params.campaign", `unknown campaign code "${params.campaign}"`);
      if (!isDate(params.date)) throw invalid("params.date", `"${params.date}" is not a date (YYYY-MM-DD)`);
      const micros = parseAmount(body.amount);
      if (micros === null || micros < 0) throw invalid("body.amount", `"${body.amount}" is not an amount such as 125.40 (0 or more, up to 6 decimals)`);
      const currency = normalCurrency(body.currency);
      if (!isCurrency(currency)) throw invalid("body.currency", `"${body.currency}" is not a currency code such as USD or EUR`);
      const row = { campaignId: campaign.id, day: params.date, currency, amountMicros: micros, source: "api" as const, updatedAt: ctx.clock.now() };
      await ctx.intake(async (tx) => {
        await tx.money.putCost(row);
        return { effects: NO_EFFECTS };
      });
      return { campaign: params.campaign, date: params.date, currency, amount: formatAmount(micros), source: "api", updated_at: iso(row.updatedAt)! };
    }, {
      params: CostParams,
      body: CostBody,
      detail: {
        summary: "Set what a campaign cost on a day",
        description: "Idempotent: the day's cost becomes this amount and currency, whatever it was (the same request twice leaves the same state). Replaces a cost from the config for that day.",
        responses: responses({ schema: CostAnswer, example: costExample, description: "The day's cost as stored" }, 400, 401, 403, 422, 503),
      },
    })
    .post("/api/costs/csv", async ({ body }) => {
      const runtime = ctx.runtime();
      const { lines, problems } = parseCostCsv(body.csv, (code) => runtime.campaigns.has(code));
      if (problems.length) {
        throw new AppError(422, "invalid_csv", `line ${problems[0]!.line}: ${problems[0]!.message}; nothing was written`,
          problems.slice(0, 20).map((p) => ({ field: `body.csv line ${p.line}`, message: p.message })));
      }
      const now = ctx.clock.now();
      await ctx.intake(async (tx) => {
        for (const l of lines) await tx.money.putCost({ campaignId: runtime.campaigns.get(l.campaign)!.id, day: l.date, currency: l.currency, amountMicros: l.micros, source: "csv", updatedAt: now });
        return { effects: NO_EFFECTS };
      });
      return { written: lines.length };
    }, {
      body: CsvBody,
      detail: {
        summary: "Set costs from CSV lines (campaign,date,amount,currency)",
        description: "All or nothing: a line that is not right refuses the whole upload, naming its line number, and nothing is written. Each line replaces its campaign's cost of that day.",
        responses: responses({ schema: CsvAnswer, example: { written: 30 }, description: "How many lines were written" }, 400, 401, 403, 422, 503),
      },
    });
}
