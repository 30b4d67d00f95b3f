import { Elysia, t } from "elysia";
import type { Clock } from "../lib/clock.ts";
import type { Storage } from "../storage/port.ts";
import { queryString, withMessage } from "../http/schema.ts";
import { invalid } from "../lib/errors.ts";
import { responses } from "../http/openapi.ts";
import { canonicalTimeZone, parsePeriodBound } from "../lib/time-zones.ts";
import { RetentionAnswer, retentionExample } from "./model.ts";
import { RETENTION_GROUPINGS, retention } from "./service.ts";

const BOUND = "a date (YYYY-MM-DD, midnight in tz), a local time (YYYY-MM-DDTHH:MM, in tz), an ISO time with Z or an offset, or UNIX seconds";

export interface RetentionDeps {
  storage: Pick<Storage, "read">;
  clock: Clock;
  defaultTimeZone(): string;
}

/** The time zone and period of a query, checked the way GET /api/stats checks them. */
export function periodQuery(query: { tz?: string; since?: string; until?: string }, defaultTimeZone: string) {
  const timeZone = query.tz === undefined ? defaultTimeZone : canonicalTimeZone(query.tz);
  if (!timeZone) throw invalid("query.tz", `unknown time zone "${query.tz}" (an IANA name such as UTC, Europe/Moscow or Asia/Kolkata)`);
  const since = parsePeriodBound(query.since, timeZone);
  const until = parsePeriodBound(query.until, timeZone);
  if (since === "invalid") throw invalid("query.since", `must be ${BOUND}`);
  if (until === "invalid") throw invalid("query.until", `must be ${BOUND}`);
  if (since !== undefined && until !== undefined && until <= since) throw invalid("query.until", "must be after since");
  return { timeZone, since, until };
}

export const PeriodQuery = {
  campaign: queryString("campaign", "campaign code; all campaigns when absent"),
  since: queryString("since", `start of the period: ${BOUND}; default: the first day with data`),
  until: queryString("until", `end of the period (exclusive): ${BOUND}; default: the end of today in tz`),
  tz: queryString("tz", "IANA time zone the days are counted in, e.g. Europe/Moscow; default: dashboard.timezone from the config (UTC)"),
};

export function retentionRoutes(ctx: RetentionDeps) {
  return new Elysia({ detail: { tags: ["ops"] } })
    .get("/api/retention", async ({ query }) => {
      const period = periodQuery(query, ctx.defaultTimeZone());
      let campaigns = await ctx.storage.read.campaigns.all();
      if (query.campaign !== undefined) campaigns = campaigns.filter((c) => c.code === query.campaign);
      return retention(ctx.storage.read, { ...period, by: query.by ?? "none", campaigns }, ctx.clock.now());
    }, {
      query: t.Object({
        ...PeriodQuery,
        by: t.Optional(withMessage(t.Union(RETENTION_GROUPINGS.map((g) => t.Literal(g)), { title: "by", description: "split each campaign's cohorts: none (default), variant (welcome variant), quality (band at the first join)" }), "must be none, variant or quality")),
      }),
      detail: {
        summary: "Retention cohorts per campaign: members still in the chat 1, 7, 14 and 30 days after their first join",
        description: "A subscriber belongs to the cohort of the local day (in tz) of their first join. They count as retained on day N when they are in the chat N × 24 h after that join: "
          + "a leave or ban takes them out (also outside the unsubscribe window), a re-join before that moment brings them back. A cohort's day N is null until it has come for its last member; "
          + "`total` adds up, per day N, only the cohorts whose day N has come. Counted from counters kept in the transaction of each join and leave (15-minute buckets of the first join).",
        responses: responses({ schema: RetentionAnswer, example: retentionExample, description: "Cohorts per campaign (and group), with totals" }, 401, 422),
      },
    });
}
