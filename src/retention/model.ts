import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { Nullable } from "../http/openapi.ts";

const Figure = t.Object({
  day: Int({ description: "days after the first join: 1, 7, 14 or 30 (N × 24 h)" }),
  retained: Nullable(Int({ description: "members in the chat N × 24 h after their first join; null while that moment is still to come for some member" })),
  share: Nullable(t.Number({ description: "retained ÷ joined, 4 decimals; null when not reported" })),
});

const Total = t.Object({
  day: Int(),
  joined: Int({ description: "members of the cohorts whose day N has come (the younger ones are left out, not counted as 0 %)" }),
  retained: Nullable(Int()),
  share: Nullable(t.Number()),
});

export const RetentionAnswer = t.Object({
  timezone: t.String(),
  since: t.String({ format: "date-time" }),
  until: t.String({ format: "date-time" }),
  by: t.String({ description: "none | variant | quality" }),
  days_after: t.Array(Int()),
  campaigns: t.Array(t.Object({
    campaign: t.String(),
    in_config: t.Boolean(),
    groups: t.Array(t.Object({
      group: t.String({ description: "all (by=none), the welcome variant's name ('' for a plain welcome), or the quality band at the first join (low, medium, high)" }),
      cohorts: t.Array(t.Object({ day: t.String({ description: "YYYY-MM-DD of the first join, in timezone" }), joined: Int(), retention: t.Array(Figure) })),
      total: t.Array(Total),
    })),
  })),
});

const figures = (j: number, ...kept: (number | null)[]) => [1, 7, 14, 30].map((day, i) => ({
  day, retained: kept[i] ?? null, share: kept[i] == null ? null : Math.round((kept[i]! / j) * 10_000) / 10_000,
}));
export const retentionExample = {
  timezone: "Europe/Moscow", since: "2024-04-30T21:00:00.000Z", until: "2024-05-09T21:00:00.000Z", by: "none", days_after: [1, 7, 14, 30],
  campaigns: [{
    campaign: "spring", in_config: true,
    groups: [{
      group: "all",
      cohorts: [{ day: "2024-05-01", joined: 40, retention: figures(40, 34, 29) }, { day: "2024-05-08", joined: 25, retention: figures(25, 22) }],
      total: [{ day: 1, joined: 65, retained: 56, share: 0.8615 }, { day: 7, joined: 40, retained: 29, share: 0.725 }, { day: 14, joined: 0, retained: null, share: null }, { day: 30, joined: 0, retained: null, share: null }],
    }],
  }],
};
