import { t } from "elysia";
import { Int, withMessage } from "../http/schema.ts";
import { Nullable } from "../http/openapi.ts";

const Amount = t.String({ description: "a decimal amount in its currency, e.g. 125.40" });
const MaybeAmount = Nullable(Amount);

export const MoneyAnswer = t.Object({
  timezone: t.String(),
  since: t.String({ format: "date-time" }),
  until: t.String({ format: "date-time" }),
  campaigns: t.Array(t.Object({
    campaign: t.String(),
    in_config: t.Boolean(),
    days: t.Array(t.Object({
      day: t.String({ description: "YYYY-MM-DD in timezone" }),
      subscribers: Int({ description: "first joins that day (the day's retention cohort)" }),
      retained_7: Nullable(Int({ description: "of them, in the chat 7 days later; null until that has come for all" })),
      revenue: t.Array(t.Object({ currency: t.String({ description: "'' when the payout named none" }), amount: Amount, events: Int() }), {
        description: "payouts of the events reported that day (configured per status, or an inbound postback's), per currency",
      }),
      cost: Nullable(t.Object({ currency: t.String(), amount: Amount, source: t.String({ description: "api | csv | config" }) })),
      cost_per_subscriber: MaybeAmount,
      cost_per_retained_7: MaybeAmount,
      difference: Nullable(t.String({ description: "revenue in the cost's currency minus the cost; other currencies are not converted" })),
    })),
    totals: t.Array(t.Object({
      currency: t.String(), revenue: Amount, cost: MaybeAmount, difference: MaybeAmount,
      subscribers: Nullable(Int({ description: "subscribers of the days with a cost in this currency" })),
      cost_per_subscriber: MaybeAmount,
      retained_7: Nullable(Int({ description: "retained on day 7, over the costed days whose day 7 has come" })),
      cost_per_retained_7: MaybeAmount,
    }), { description: "one line per currency: never added together" }),
  })),
});

export const moneyExample = {
  timezone: "Europe/Moscow", since: "2024-04-30T21:00:00.000Z", until: "2024-05-01T21:00:00.000Z",
  campaigns: [{
    campaign: "spring", in_config: true,
    days: [{
      day: "2024-05-01", subscribers: 40, retained_7: 30, revenue: [{ currency: "USD", amount: "60.00", events: 40 }],
      cost: { currency: "USD", amount: "50.00", source: "api" }, cost_per_subscriber: "1.25", cost_per_retained_7: "1.666667", difference: "10.00",
    }],
    totals: [{ currency: "USD", revenue: "60.00", cost: "50.00", difference: "10.00", subscribers: 40, cost_per_subscriber: "1.25", retained_7: 30, cost_per_retained_7: "1.666667" }],
  }],
};

export const CostBody = t.Object({
  amount: withMessage(t.Union([t.String({ maxLength: 32 }), t.Number()], { description: "what the campaign cost that day, e.g. \"125.40\" (0 or more, up to 6 decimals)" }), "must be an amount such as 125.40"),
  currency: withMessage(t.String({ minLength: 3, maxLength: 3, description: "ISO 4217 code, e.g. USD" }), "must be a currency code such as USD"),
});

export const CostParams = t.Object({
  campaign: t.String({ title: "params.campaign", description: "campaign code" }),
  date: t.String({ title: "params.date", description: "the day, YYYY-MM-DD in dashboard.timezone" }),
});

export const CostAnswer = t.Object({ campaign: t.String(), date: t.String(), currency: t.String(), amount: Amount, source: t.String(), updated_at: t.String({ format: "date-time" }) });
export const costExample = { campaign: "spring", date: "2024-05-01", currency: "USD", amount: "50.00", source: "api", updated_at: "2024-05-02T08:00:00.000Z" };

export const CsvBody = t.Object({
  csv: withMessage(t.String({ maxLength: 1_000_000, description: "lines of campaign,date,amount,currency (a header line naming them is skipped; ; also separates)" }), "must be the CSV text (at most 1 MB)"),
});
export const CsvAnswer = t.Object({ written: Int({ description: "lines written (each replaces its campaign's cost of that day)" }) });
