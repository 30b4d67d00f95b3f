import { t } from "elysia";
import { StatusSchema, queryString, withMessage } from "../http/schema.ts";
import { invalid } from "../lib/errors.ts";
import { parseTimeFilter } from "../lib/json.ts";
import type { Status } from "../domain/status.ts";
import type { LeadExportFilter, Reads } from "../storage/port.ts";

/** The filters of GET /api/leads, shared by its export (GET /api/export/leads). */
export const LeadFilterFields = {
  campaign: queryString("campaign", "campaign code"),
  status: t.Optional(StatusSchema),
  subscriber: t.Optional(withMessage(t.String({ title: "subscriber", pattern: "^-?[0-9]{1,16}$" }), "must be a Telegram user id")),
  click: queryString("click"),
  username: queryString("username", "Telegram @username, with or without @, any case"),
  since: queryString("since", "created at or after: ISO date or UNIX seconds"),
  until: queryString("until", "created before: ISO date or UNIX seconds"),
};

export interface LeadFilterInput {
  campaign?: string;
  status?: Status;
  subscriber?: string;
  click?: string;
  username?: string;
  since?: string;
  until?: string;
}

/**
 * The storage filter of the query; null when it names a campaign that does not exist (nothing
 * matches). A search by subscriber or click names every campaign, so the per-campaign indexes serve it.
 */
export async function leadFilterOf(read: Pick<Reads, "campaigns">, q: LeadFilterInput): Promise<LeadExportFilter | null> {
  const since = parseTimeFilter(q.since);
  const until = parseTimeFilter(q.until);
  if (since === "invalid") throw invalid("query.since", "must be an ISO date or UNIX seconds");
  if (until === "invalid") throw invalid("query.until", "must be an ISO date or UNIX seconds");
  const campaignId = q.campaign === undefined ? null : await read.campaigns.findId(q.campaign);
  if (q.campaign !== undefined && campaignId === null) return null;
  const searched = q.subscriber !== undefined || q.click !== undefined;
  const campaignIds = campaignId !== null ? [campaignId] : searched ? (await read.campaigns.all()).map((c) => c.id) : undefined;
  return {
    campaignIds, status: q.status, click: q.click, username: q.username?.replace(/^@/, ""),
    subscriber: q.subscriber === undefined ? undefined : Number(q.subscriber), since, until,
  };
}
