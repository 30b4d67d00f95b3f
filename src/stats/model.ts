import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { Nullable } from "../http/openapi.ts";
import { SegmentsSchema, segmentsExample } from "./segments.ts";

const PerStatus = t.Object({ wait: Int(), hold: Int(), approve: Int(), cancel: Int(), trash: Int() });
const Rate = Nullable(t.Number());
const Summary = t.Object({
  events: PerStatus,
  leads: t.Object(PerStatus.properties, { description: "unique leads per step: leads whose first event of that status falls in the period" }),
  join_requests_approved: Int({ description: "unique leads whose join request was approved in the period (hold → approve): the joins that came through a request" }),
  rates: t.Object({
    join_requests_per_start: Rate, joins_per_start: Rate,
    joins_per_join_request: t.Union([t.Number(), t.Null()], { description: "every join ÷ join requests; above 1 when the chat also lets people in without a request" }),
    join_requests_approved_per_join_request: t.Union([t.Number(), t.Null()], { description: "join_requests_approved ÷ join requests: how many requests ended in a join" }),
    leaves_per_join: Rate, bans_per_join: Rate,
  }, { description: "ratios of unique leads between steps of the same period; null when the step before has none" }),
  postbacks: t.Object({ total: Int(), delivered: Int(), pending: Int(), failed: Int(), rejected: Int(), skipped: Int() }, {
    description: "postbacks created in the period, by outcome",
  }),
});

const GroupRates = t.Object({
  join_requests_per_start: Rate, joins_per_start: Rate, joins_per_join_request: Rate, leaves_per_join: Rate, bans_per_join: Rate,
});
const GroupSums = { events: PerStatus, leads: PerStatus, rates: GroupRates };
const Group = t.Object({
  param: t.String({ description: "the click parameter" }),
  values: t.Array(t.Object({ value: t.String(), ...GroupSums }), { description: "up to 100 values, the most unique Starts first" }),
  others: Nullable(t.Object({ values: Int({ description: "how many values" }), ...GroupSums }, { description: "the values past the first 100, summed" })),
  without: t.Object(GroupSums, { description: "leads of the period whose click did not carry the parameter, or without a click" }),
}, { description: "only with ?group=: the funnel per value of a click parameter" });

export const StatsAnswer = t.Object({
  timezone: t.String(),
  since: t.String({ format: "date-time", description: "the start used (rounded down to 15 minutes)" }),
  until: t.String({ format: "date-time", description: "the end used, exclusive (rounded up to 15 minutes)" }),
  bucket_minutes: Int(),
  days: t.Array(t.String({ description: "YYYY-MM-DD in timezone" })),
  items: t.Array(t.Object({
    day: t.String(), campaign: t.String(), wait: Int(), hold: Int(), approve: Int(), cancel: Int(), trash: Int(), leads: PerStatus,
  }), { description: "lead events per day and campaign (days with events only), and unique leads per step that day" }),
  campaigns: t.Array(t.Object({ campaign: t.String(), in_config: t.Boolean(), ...Summary.properties, ...SegmentsSchema })),
  totals: Summary,
  group: t.Optional(Group),
});

const per = (wait: number, hold: number, approve: number, cancel: number, trash: number) => ({ wait, hold, approve, cancel, trash });
const summary = {
  events: per(120, 40, 84, 7, 2), leads: per(118, 40, 80, 7, 2), join_requests_approved: 36,
  rates: { join_requests_per_start: 0.339, joins_per_start: 0.678, joins_per_join_request: 2, join_requests_approved_per_join_request: 0.9, leaves_per_join: 0.0875, bans_per_join: 0.025 },
  postbacks: { total: 211, delivered: 205, pending: 1, failed: 1, rejected: 4, skipped: 0 },
};
export const statsExample = {
  timezone: "Europe/Moscow", since: "2024-04-30T21:00:00.000Z", until: "2024-05-01T21:00:00.000Z", bucket_minutes: 15, days: ["2024-05-01"],
  items: [{ day: "2024-05-01", campaign: "spring", ...summary.events, leads: summary.leads }],
  campaigns: [{ campaign: "spring", in_config: true, ...summary, ...segmentsExample }],
  totals: summary,
  group: {
    param: "utm_source",
    values: [{
      value: "fb", events: per(90, 30, 66, 5, 1), leads: per(88, 30, 62, 5, 1),
      rates: { join_requests_per_start: 0.3409, joins_per_start: 0.7045, joins_per_join_request: 2.0667, leaves_per_join: 0.0806, bans_per_join: 0.0161 },
    }],
    others: null,
    without: {
      events: per(30, 10, 18, 2, 1), leads: per(30, 10, 18, 2, 1),
      rates: { join_requests_per_start: 0.3333, joins_per_start: 0.6, joins_per_join_request: 1.8, leaves_per_join: 0.1111, bans_per_join: 0.0556 },
    },
  },
};
