import { t } from "elysia";
import { POSTBACK_STATES, STATUSES, type PostbackState, type Status } from "../domain/status.ts";
import { queryInt, queryString, withMessage } from "../http/schema.ts";
import { invalid } from "../lib/errors.ts";
import { parseTimeFilter } from "../lib/json.ts";
import type { PostbackFilter, Reads } from "../storage/port.ts";

/** The filters of GET /api/postbacks and the bulk re-send, shared by the export (GET /api/export/postbacks). */
export const FilterFields = {
  status: t.Optional(withMessage(t.Union(STATUSES.map((s) => t.Literal(s)), {
    title: "status", description: "the lead status the postback reports: wait | hold | approve | cancel | trash",
  }), `must be one of ${STATUSES.join(", ")}`)),
  campaign: queryString("campaign", "campaign code"),
  host: queryString("host", "host[:port] of the postback URL"),
  since: queryString("since", "created at or after: ISO date or UNIX seconds"),
  until: queryString("until", "created before: ISO date or UNIX seconds"),
};

export type FilterInput = { campaign?: string; host?: string; since?: string; until?: string; state?: PostbackState; status?: Status; lead?: number };

/** The list's query filters: the fields above, the state and a lead. */
export const PostbackQueryFields = {
  state: t.Optional(withMessage(t.Union(POSTBACK_STATES.map((s) => t.Literal(s)), { title: "state", description: POSTBACK_STATES.join(" | ") }), `must be one of ${POSTBACK_STATES.join(", ")}`)),
  lead: queryInt("lead", { minimum: 1 }),
  ...FilterFields,
};

/** Turns query/body filter fields into a storage filter; null when the campaign does not exist. */
export async function postbackFilterOf(read: Pick<Reads, "campaigns">, input: FilterInput, where: "query" | "body"): Promise<PostbackFilter | null> {
  const since = parseTimeFilter(input.since);
  const until = parseTimeFilter(input.until);
  if (since === "invalid") throw invalid(`${where}.since`, "must be an ISO date or UNIX seconds");
  if (until === "invalid") throw invalid(`${where}.until`, "must be an ISO date or UNIX seconds");
  const campaignId = input.campaign === undefined ? undefined : await read.campaigns.findId(input.campaign);
  if (input.campaign !== undefined && campaignId === null) return null;
  return { state: input.state, status: input.status, campaignId: campaignId ?? undefined, host: input.host, leadId: input.lead, since, until };
}

