import { Elysia, t } from "elysia";
import type { Storage } from "../storage/port.ts";
import type { Clock } from "../lib/clock.ts";
import { queryString } from "../http/schema.ts";
import { invalid } from "../lib/errors.ts";
import { responses } from "../http/openapi.ts";
import { StatsAnswer, statsExample } from "./model.ts";
import { periodStats } from "./service.ts";
import { canonicalTimeZone, parsePeriodBound } from "../lib/time-zones.ts";

const BOUND = "a date (YYYY-MM-DD, midnight in tz), a local time (YYYY-MM-DDTHH:MM, in tz), an ISO time with Z or an offset, or UNIX seconds";

export interface StatsDeps {
  storage: Pick<Storage, "read">;
  clock: Clock;
  /** The time zone days are counted in when a request names none (dashboard.timezone). */
  defaultTimeZone(): string;
  /** The click parameters counted per value (dashboard.click_groups). */
  clickGroups(): readonly string[];
}

export function statsRoutes(ctx: StatsDeps) {
  return new Elysia({ detail: { tags: ["ops"] } })
    .get("/api/stats", async ({ query }) => {
      const timeZone = query.tz === undefined ? ctx.defaultTimeZone() : canonicalTimeZone(query.tz);
      if (!timeZone) throw invalid("query.tz", `unknown time zone "${query.tz}" (an IANA name such as UTC, Europe/Moscow or Asia/Kolkata)`);
      const since = parsePeriodBound(query.since, timeZone);
      const until = parsePeriodBound(query.until, timeZone);
      if (since === "invalid") throw invalid("query.since", `must be ${BOUND}`);
      if (until === "invalid") throw invalid("query.until", `must be ${BOUND}`);
      if (since !== undefined && until !== undefined && until <= since) throw invalid("query.until", "must be after since");
      const groups = ctx.clickGroups();
      if (query.group !== undefined && !groups.includes(query.group)) {
        throw invalid("query.group", groups.length
          ? `"${query.group}" is not counted; one of ${groups.join(", ")} (dashboard.click_groups)`
          : "no click parameter is counted (dashboard.click_groups is empty)");
      }
      // Every campaign ever mirrored from the config, with whether the config still has it.
      let campaigns = await ctx.storage.read.campaigns.all();
      if (query.campaign !== undefined) campaigns = campaigns.filter((c) => c.code === query.campaign);
      return periodStats(ctx.storage.read, { timeZone, since, until, campaigns, group: query.group }, ctx.clock.now());
    }, {
      query: t.Object({
        campaign: queryString("campaign", "campaign code; all campaigns when absent"),
        since: queryString("since", `start of the period: ${BOUND}; default: the first day with data`),
        until: queryString("until", `end of the period (exclusive): ${BOUND}; default: the end of today in tz`),
        tz: queryString("tz", "IANA time zone the days are counted in, e.g. Europe/Moscow; default: dashboard.timezone from the config (UTC)"),
        group: queryString("group", "a click parameter of dashboard.click_groups (utm_source, utm_campaign, sub1, …): adds `group`, the funnel per value of that parameter of the click link's clicks"),
      }),
      detail: {
        summary: "Funnel per campaign and per day for a period, in a time zone",
        description: "Counted from 15-minute counters kept in the transaction of each lead event: `since` is rounded down and `until` up to a quarter hour (the answer gives the bounds used). "
          + "`items` are lead events per local day and campaign (only days with events; `days` lists every day of the period). "
          + "`leads` are unique leads per step: the leads whose first event of that status falls in the period (or day). "
          + "`postbacks` are the postbacks created in the period by outcome; `delivered` is the total minus those not delivered, so it includes rows pruned by the retention. "
          + "With `group=NAME`, `group` adds the funnel per value of that click parameter (leads that came through the click link /c/{campaign} with it), "
          + "counted from the moment NAME is in dashboard.click_groups: up to 100 values with the most Starts, the rest summed in `others`, and `without` the leads whose click did not carry it (or who had no click).",
        responses: responses({ schema: StatsAnswer, example: statsExample, description: "The funnel of the period per campaign, per day and in total" }, 401, 422),
      },
    });
}
